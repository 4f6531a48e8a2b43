#!/usr/bin/env python3
"""Which tables and indexes a SQLite database's commits write, from its WAL.

    python3 bench/wal_pages.py PATH/TO/colloq.db

Reads the frames of the current WAL generation (since the last checkpoint
restarted it) of a database that a server has been writing to, and counts
the frames per commit that land on each table or index (Python's sqlite3
has the `dbstat` table that maps pages to them). Every frame is a 4 KiB page
the writer thread copies into the WAL, so this tells what a batch of sends
costs in the WAL and why. Run it on a copy taken while the server is idle;
pages that did not exist in the main file yet are counted as "(new page)".
"""

import collections
import shutil
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path


def frames(wal):
    """(page number, is a commit) of each valid frame of the current generation."""
    _magic, _version, page_size, _checkpoint, salt1, salt2, _c1, _c2 = struct.unpack(">8I", wal[:32])
    found, offset = [], 32
    while offset + 24 + page_size <= len(wal):
        page, commit_size, s1, s2 = struct.unpack(">4I", wal[offset:offset + 16])
        if (s1, s2) != (salt1, salt2):
            break
        found.append((page, commit_size != 0))
        offset += 24 + page_size
    return found


def main():
    database = Path(sys.argv[1])
    wal = Path(f"{database}-wal").read_bytes()
    written = frames(wal)
    with tempfile.TemporaryDirectory() as work:
        # A copy of the main file alone: opening the original would read
        # (and might checkpoint) its WAL.
        copy = Path(work) / "main.db"
        shutil.copy(database, copy)
        owner = dict(sqlite3.connect(copy).execute("SELECT pageno, name FROM dbstat"))
    commits = max(1, sum(1 for _, commit in written if commit))
    print(f"{len(written)} frames in {commits} commits: {len(written) / commits:.2f} frames per commit")
    counts = collections.Counter(owner.get(page, "(new page)") for page, _ in written)
    for name, count in counts.most_common():
        print(f"  {name}: {count / commits:.2f} per commit")


if __name__ == "__main__":
    main()
