#!/usr/bin/env python3
"""Which tables and indexes a SQLite database's commits write, from its WAL.

    python3 bench/wal_pages.py PATH/TO/colloq.db
    python3 bench/wal_pages.py --send BINARY [anqicms|fresns] [SECONDS]

Reads the frames of the current WAL generation (since the last checkpoint
restarted it) of a database that a server has been writing to, and counts
the frames per commit that land on each table or index (Python's sqlite3
has the `dbstat` table that maps pages to them). Every frame is a 4 KiB page
the writer thread copies into the WAL, so this tells what a batch of sends
costs in the WAL and why. Run it on a copy taken while the server is idle;
pages that did not exist in the main file yet are counted as "(new page)".

With --send it makes its own sample: it seeds a database with BINARY as
bench/ab.py does, runs 32 wrk senders to the hot order (or conversation) for
SECONDS (8), and counts every commit of the run. A reader holds a snapshot
meanwhile, so no checkpoint restarts the WAL, and the pages are named from
a copy of the database with its WAL (pages new to the file included). It
also prints the server's batch sizes (sends per commit). The held snapshot
slows the server: its requests/s are not the send rows'.
"""

import collections
import re
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


def tally(database, with_wal=False):
    wal = Path(f"{database}-wal").read_bytes()
    written = frames(wal)
    with tempfile.TemporaryDirectory() as work:
        # A copy: opening the original would read (and might checkpoint) its
        # WAL. Without the WAL, pages new since the last checkpoint have no
        # owner in the copy.
        copy = Path(work) / "main.db"
        shutil.copy(database, copy)
        if with_wal:
            shutil.copy(f"{database}-wal", f"{copy}-wal")
        owner = dict(sqlite3.connect(copy).execute("SELECT pageno, name FROM dbstat"))
    commits = max(1, sum(1 for _, commit in written if commit))
    print(f"{len(written)} frames in {commits} commits: {len(written) / commits:.2f} frames per commit")
    counts = collections.Counter(owner.get(page, "(new page)") for page, _ in written)
    for name, count in counts.most_common():
        print(f"  {name}: {count / commits:.2f} per commit")


def send(binary, row="anqicms", seconds=8):
    sys.path.insert(0, str(Path(__file__).parent))
    import run as harness

    harness.ensure_tools(build=False)
    with tempfile.TemporaryDirectory() as work:
        db = harness.Database("sqlite", work)
        harness.BIN = Path(binary)
        seed = db.colloq("seed", "--users", "100", "--orders", "1000", "--conversations", "1000",
                         "--messages", "100000", "--hot-messages", "200000",
                         "--password", harness.PASSWORD, "--tag", "ab")
        key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "ab")
        port = harness.free_port()
        env = dict(db.env, COLLOQ_METRICS__PUBLIC="true")
        server = harness.Server([binary, "--database-url", db.url, "serve", "--bind", f"127.0.0.1:{port}"],
                                env, port, "/api/communication/fields")
        base = f"http://127.0.0.1:{port}"
        sender, recipient = seed["hot_users"][0], seed["hot_users"][1]

        def batches():
            text = harness.http_raw(f"{base}/metrics").decode()
            found = re.findall(r"^colloq_sqlite_writer_batch_size_(sum|count) ([\d.e+]+)$", text, re.M)
            return {name: float(value) for name, value in found}

        holder = sqlite3.connect(db.url, isolation_level=None)
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM threads").fetchone()
        before = batches()
        if row == "anqicms":
            token = harness.http_json(base + "/api/login", {"user_name": sender, "password": harness.PASSWORD})
            harness.wrk(f"{base}/api/communication/message/send", seconds, 32, {"token": token["data"]["token"]},
                        {"comm_order_id": seed["hot_order"], "message_type": "text", "content": "ab"})
        else:
            fresns = harness.Fresns(base, key)
            fresns.login(sender)
            harness.wrk(f"{base}/api/v2/conversation/send-message", seconds, 32, fresns.headers(),
                        {"uidOrUsername": recipient, "message": "ab"}, True)
        after = batches()
        sent = after["sum"] - before.get("sum", 0)
        commits = after["count"] - before.get("count", 0)
        print(f"{sent:.0f} sends in {commits:.0f} batches: {sent / max(commits, 1):.2f} sends per commit")
        snapshot = Path(work) / "snapshot"
        snapshot.mkdir()
        shutil.copy(db.url, snapshot / "colloq.db")
        shutil.copy(f"{db.url}-wal", snapshot / "colloq.db-wal")
        server.stop()
        holder.close()
        tally(snapshot / "colloq.db", with_wal=True)


if __name__ == "__main__":
    if sys.argv[1] == "--send":
        send(sys.argv[2], *sys.argv[3:4], *map(int, sys.argv[4:5]))
    else:
        tally(Path(sys.argv[1]))
