#!/usr/bin/env python3
"""Instructions per send, counted by callgrind: a figure that, unlike time on
a shared virtual machine, does not move with the neighbours.

    python3 bench/instructions.py BINARY [--row fresns|anqicms] [--sends 2000]

Seeds a small SQLite database, runs BINARY under `valgrind --tool=callgrind`,
zeroes the counters once it has started and logged in, sends `--sends`
messages to the hot thread with 16 concurrent `hey` workers, and prints the
instructions per send of the writer thread (every SQLite write of the process
runs there) and of the whole process. Kernel time (the WAL's writes) is not
counted; `bench/ab.py` reports the writer's CPU time with it. Needs valgrind
(`apt-get install valgrind`). Takes a few minutes per run.
"""

import argparse
import glob
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

import run as harness


def totals(directory):
    """Each thread's instruction count, and whether it is the writer thread
    (the one whose dump contains the writer's job loop)."""
    threads = []
    for path in glob.glob(f"{directory}/cg.out.1-*"):
        text = Path(path).read_text(errors="replace")
        m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
        threads.append((int(m.group(1)) if m else 0, "writer::Queued" in text and "thread_start" in text))
    return threads


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--row", choices=("fresns", "anqicms"), default="fresns")
    parser.add_argument("--sends", type=int, default=2000)
    args = parser.parse_args()
    # hey gives each of its 16 workers the same number of requests.
    args.sends -= args.sends % 16
    harness.ensure_tools(build=False)
    out = tempfile.mkdtemp(prefix="colloq-callgrind-")
    with tempfile.TemporaryDirectory() as work:
        db = harness.Database("sqlite", work)
        harness.BIN = Path(args.binary)
        seed = db.colloq("seed", "--users", "100", "--orders", "100", "--conversations", "100",
                         "--messages", "10000", "--hot-messages", "20000",
                         "--password", harness.PASSWORD, "--tag", "cg")
        key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "cg")
        port = harness.free_port()
        argv = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
                f"--callgrind-out-file={out}/cg.out", args.binary, "--database-url", db.url,
                "serve", "--bind", f"127.0.0.1:{port}"]
        server = harness.Server(argv, db.env, port, "/api/communication/fields")
        base = f"http://127.0.0.1:{port}"
        hot_a, hot_b = seed["hot_users"]
        if args.row == "fresns":
            fresns = harness.Fresns(base, key)
            fresns.login(hot_a)
            url, headers = f"{base}/api/v2/conversation/send-message", fresns.headers()
            body = {"uidOrUsername": hot_b, "message": "ab"}
        else:
            token = harness.http_json(base + "/api/login", {"user_name": hot_a, "password": harness.PASSWORD})["data"]["token"]
            url, headers = f"{base}/api/communication/message/send", {"token": token}
            body = {"comm_order_id": seed["hot_order"], "message_type": "text", "content": "ab"}
        hey = ["hey", "-n", str(args.sends), "-c", "16", "-t", "120", "-m", "POST",
               "-T", "application/json", "-d", json.dumps(body)]
        for name, value in headers.items():
            hey += ["-H", f"{name}: {value}"]
        subprocess.run(["callgrind_control", "-z"], capture_output=True, check=True)
        answered = subprocess.run(hey + [url], capture_output=True, text=True, check=True).stdout
        subprocess.run(["callgrind_control", "-d"], capture_output=True, check=True)
        server.stop()
        time.sleep(1)
        if f"[200]\t{args.sends} responses" not in answered:
            raise SystemExit(f"not every send was answered 200:\n{answered}")
    threads = totals(out)
    writer = sum(n for n, is_writer in threads if is_writer)
    every = sum(n for n, _ in threads)
    print(f"{args.row} send: writer thread {writer / args.sends:,.0f} instructions/send, "
          f"whole process {every / args.sends:,.0f} instructions/send ({out})")


if __name__ == "__main__":
    main()
