#!/usr/bin/env python3
"""A/B of two colloq binaries on one seeded database.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [--engine sqlite|postgres] [--rounds 5] [--duration 10] [--separate]

Both servers run at once on the same database file (reads and the sends of
each row go to one of them at a time), and the rows alternate between them in
every round, so a slow spell of the shared machine lands on both sides. It
prints each row's median requests/s, p50 and CPU time per request for A
and B, and B's change. CPU per request (the server's, plus PostgreSQL's
backends on that engine, read from /proc around each run) moves far less
than requests/s when the machine's neighbours take its cores for a while.
On SQLite it also prints the CPU time per request of the server's writer
thread (`colloq-writer`, through which every write of the process goes, so
its time per send bounds the send rows there), and the KiB it writes per
request (WAL frames and checkpoints).
With --separate each binary gets a database of its own, created, migrated
and seeded by that binary, so that a change that comes with a migration is
measured with its schema (by default both use one database, seeded by the
new binary, and so both run on the new schema). On SQLite, prefer one
database: A/A runs with --separate have put one side in a slower state for
several rounds (docs/benchmarks.md); each run's figures are logged, so such
a side shows in the log.
Use it to show that a change to the request path does not make a row of
docs/benchmarks.md worse when a full run cannot separate it from noise.
"""

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import run as harness


def cpu_seconds(pids):
    """User and system CPU time used so far by these processes."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def writer_usage(pid):
    """CPU time used so far by the server's SQLite writer thread, where every
    write of the process queues (its time per send bounds the send rows on
    SQLite, and varies far less than the rows themselves), and the bytes it
    has written (the WAL's frames, and checkpoints)."""
    seconds, written = 0.0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() != "colloq-writer":
                continue
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            io = dict(line.split(": ") for line in (task / "io").read_text().splitlines())
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        written += int(io["wchar"])
    return seconds, written


def postgres_pids():
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


def measured(run, server, engine, duration):
    """Runs one row and adds the CPU it cost per request."""
    pids = lambda: [server.proc.pid] + (postgres_pids() if engine == "postgres" else [])
    before, writer_before = cpu_seconds(pids()), writer_usage(server.proc.pid)
    result = run()
    used = cpu_seconds(pids()) - before
    writer_after = writer_usage(server.proc.pid)
    requests = max(1.0, result["rps"] * duration)
    result["cpu_us"] = 1e6 * used / requests
    result["writer_us"] = 1e6 * (writer_after[0] - writer_before[0]) / requests
    result["writer_kib"] = (writer_after[1] - writer_before[1]) / 1024 / requests
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--hot", type=int, default=200_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", default="", help="run only the rows whose label contains this")
    parser.add_argument("--separate", action="store_true",
                        help="a database per binary, migrated and seeded by it")
    args = parser.parse_args()
    harness.ensure_tools(build=False)
    with tempfile.TemporaryDirectory() as work:
        binaries = {"A": args.old, "B": args.new}
        # Each side's database, its seed's answer and its Fresns app key.
        sides = {}
        for name, binary in binaries.items():
            if not args.separate and sides:
                sides[name] = sides["A"]
                continue
            place = Path(work) / name
            place.mkdir()
            db = harness.Database(args.engine, place, suffix=f"_{name.lower()}")
            harness.BIN = Path(binary if args.separate else args.new)
            seed = db.colloq("seed", "--users", "100", "--orders", "1000", "--conversations", "1000",
                             "--messages", "100000", "--hot-messages", str(args.hot),
                             "--password", harness.PASSWORD, "--tag", "ab")
            key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "ab")
            sides[name] = (db, seed, key)
        servers = {}
        for name, binary in binaries.items():
            db = sides[name][0]
            port = harness.free_port()
            # `serve --bind` is understood by binaries before and after --bind
            # became serve's own option; older ones ignored COLLOQ_BIND.
            argv = [binary, "--database-url", db.url, "serve", "--bind", f"127.0.0.1:{port}"]
            servers[name] = (harness.Server(argv, db.env, port, "/api/communication/fields"),
                             f"http://127.0.0.1:{port}")
        clients = {}
        for name, (_, base) in servers.items():
            _, seed, key = sides[name]
            hot_a = seed["hot_users"][0]
            token = harness.http_json(base + "/api/login",
                                      {"user_name": hot_a, "password": harness.PASSWORD})["data"]["token"]
            fresns = harness.Fresns(base, key)
            fresns.login(hot_a)
            clients[name] = (base, token, fresns, seed)

        def rows(name):
            base, token, fresns, seed = clients[name]
            hot_b = seed["hot_users"][1]
            order, conversation = seed["hot_order"], seed["hot_conversation"]
            send = {"comm_order_id": order, "message_type": "text", "content": "ab"}
            return [
                ("AnQiCMS messages page 1", lambda: harness.wrk(
                    f"{base}/api/communication/messages?comm_order_id={order}&current=1&page_size=10",
                    args.duration, 32, {"token": token})),
                ("Fresns messages page 1", lambda: harness.wrk(
                    f"{base}/api/v2/conversation/{conversation}/messages?page=1&pageSize=15",
                    args.duration, 32, fresns.headers())),
                ("AnQiCMS send, 32 senders", lambda: harness.wrk(
                    f"{base}/api/communication/message/send", args.duration, 32, {"token": token}, send)),
                ("Fresns send, 32 senders", lambda: harness.wrk(
                    f"{base}/api/v2/conversation/send-message", args.duration, 32, fresns.headers(),
                    {"uidOrUsername": hot_b, "message": "ab"}, True)),
            ]

        results = {}
        for round_ in range(args.rounds):
            # A then B in even rounds, B then A in odd ones.
            order_ = ("A", "B") if round_ % 2 == 0 else ("B", "A")
            for i in range(len(rows("A"))):
                if args.only not in rows("A")[i][0]:
                    continue
                for name in order_:
                    label, run = rows(name)[i]
                    harness.log(f"round {round_ + 1}: {label} on {name}")
                    result = measured(run, servers[name][0], args.engine, args.duration)
                    harness.log(f"  {result['rps']:.0f} requests/s, {result['cpu_us']:.0f} µs CPU/request")
                    results.setdefault((label, name), []).append(result)
        # "paired": the median over rounds of B's figure over A's in the same
        # round, which a slow spell of the machine affects less than the
        # ratio of the two medians does.
        print("| row | A requests/s | B requests/s | change | paired | A p50 (ms) | B p50 (ms) "
              "| A CPU µs/request | B CPU µs/request | change | paired "
              "| A writer µs/request | B writer µs/request | paired "
              "| A writer KiB/request | B writer KiB/request |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

        def paired(a, b, key):
            return 100 * (statistics.median(y[key] / x[key] for x, y in zip(a, b)) - 1)

        for label, _ in rows("A"):
            if (label, "A") not in results:
                continue
            a = results[(label, "A")]
            b = results[(label, "B")]
            ra, rb = statistics.median(r["rps"] for r in a), statistics.median(r["rps"] for r in b)
            pa, pb = statistics.median(r["p50"] for r in a), statistics.median(r["p50"] for r in b)
            ca, cb = statistics.median(r["cpu_us"] for r in a), statistics.median(r["cpu_us"] for r in b)
            wa, wb = statistics.median(r["writer_us"] for r in a), statistics.median(r["writer_us"] for r in b)
            ka, kb = statistics.median(r["writer_kib"] for r in a), statistics.median(r["writer_kib"] for r in b)
            # Reads never reach the writer; on PostgreSQL there is none.
            paired_writer = f"{paired(a, b, 'writer_us'):+.1f} %" if wa > 0 and all(
                r["writer_us"] > 0 for r in a) else "–"
            print(f"| {label} | {ra:.0f} | {rb:.0f} | {100 * (rb - ra) / ra:+.1f} % "
                  f"| {paired(a, b, 'rps'):+.1f} % | {pa:.2f} | {pb:.2f} "
                  f"| {ca:.0f} | {cb:.0f} | {100 * (cb - ca) / ca:+.1f} % | {paired(a, b, 'cpu_us'):+.1f} % "
                  f"| {wa:.0f} | {wb:.0f} | {paired_writer} | {ka:.1f} | {kb:.1f} |")
        for server, _ in servers.values():
            server.stop()
        for db, _, _ in sides.values():
            db.drop()


if __name__ == "__main__":
    main()
