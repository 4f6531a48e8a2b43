#!/usr/bin/env python3
"""A/B of two colloq binaries on one seeded database.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [--engine sqlite|postgres] [--rounds 5] [--duration 10]

Both servers run at once on the same database file (reads and the sends of
each row go to one of them at a time), and the rows alternate between them in
every round, so a slow spell of the shared machine lands on both sides. It
prints each row's median requests/s and p50 for A and B, and B's change.
Use it to show that a change to the request path does not make a row of
docs/benchmarks.md worse when a full run cannot separate it from noise.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import run as harness


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--hot", type=int, default=200_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    harness.ensure_tools(build=False)
    with tempfile.TemporaryDirectory() as work:
        db = harness.Database(args.engine, work)
        harness.BIN = Path(args.new)
        seed = db.colloq("seed", "--users", "100", "--orders", "1000", "--conversations", "1000",
                         "--messages", "100000", "--hot-messages", str(args.hot),
                         "--password", harness.PASSWORD, "--tag", "ab")
        key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "ab")
        servers = {}
        for name, binary in (("A", args.old), ("B", args.new)):
            port = harness.free_port()
            # `serve --bind` is understood by binaries before and after --bind
            # became serve's own option; older ones ignored COLLOQ_BIND.
            argv = [binary, "--database-url", db.url, "serve", "--bind", f"127.0.0.1:{port}"]
            servers[name] = (harness.Server(argv, db.env, port, "/api/communication/fields"),
                             f"http://127.0.0.1:{port}")
        hot_a, hot_b = seed["hot_users"]
        order, conversation = seed["hot_order"], seed["hot_conversation"]
        clients = {}
        for name, (_, base) in servers.items():
            token = harness.http_json(base + "/api/login",
                                      {"user_name": hot_a, "password": harness.PASSWORD})["data"]["token"]
            fresns = harness.Fresns(base, key)
            fresns.login(hot_a)
            clients[name] = (base, token, fresns)

        def rows(name):
            base, token, fresns = clients[name]
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
                for name in order_:
                    label, run = rows(name)[i]
                    harness.log(f"round {round_ + 1}: {label} on {name}")
                    results.setdefault((label, name), []).append(run())
        print("| row | A requests/s | B requests/s | change | A p50 (ms) | B p50 (ms) |")
        print("|---|---|---|---|---|---|")
        for label, _ in rows("A"):
            a = results[(label, "A")]
            b = results[(label, "B")]
            ra, rb = statistics.median(r["rps"] for r in a), statistics.median(r["rps"] for r in b)
            pa, pb = statistics.median(r["p50"] for r in a), statistics.median(r["p50"] for r in b)
            print(f"| {label} | {ra:.0f} | {rb:.0f} | {100 * (rb - ra) / ra:+.1f} % | {pa:.2f} | {pb:.2f} |")
        for server, _ in servers.values():
            server.stop()
        db.drop()


if __name__ == "__main__":
    main()
