#!/usr/bin/env python3
"""Figures for docs/reliability.md, measured against the release binary on
loopback, bounded in count and time.

    python3 bench/reliability.py [--engines sqlite,postgres]

- Connection floods: 2,000 connections that send a head and six bytes of a
  100,000-byte body, 2,000 that send nothing, and 500 that send half a head,
  each flood from one client address, while another address makes normal
  requests: how many of those succeed and their p50/p99 latency.
- Password guessing: wrong passwords at all three login doors (AnQiCMS
  customer and staff, Fresns) from 50 addresses for 10 s: password checks per
  second that reached the account, and what the others were answered.

The PostgreSQL restart and SIGKILL figures come from tests/database_faults.rs,
which this script runs and whose printed figures it reports.
"""

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import run as harness

TRUSTED = "127.0.0.1"


def request(base, path, body=None, headers=None, method=None):
    """Status and JSON body, never raising for an HTTP status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def serve(db):
    port = harness.free_port()
    env = dict(db.env)
    for key in list(env):
        if key.startswith("COLLOQ_LIMITS__"):
            del env[key]  # the defaults, as an operator gets them
    env["COLLOQ_HTTP__TRUSTED_PROXIES"] = f"[{TRUSTED}]"
    argv = [str(harness.BIN), "--database-url", db.url, "serve", "--bind", f"127.0.0.1:{port}"]
    return harness.Server(argv, env, port, "/readyz"), f"http://127.0.0.1:{port}"


def floods(base):
    host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
    kinds = {
        "stalled bodies": (2000, "POST /api/login HTTP/1.1\r\nHost: c\r\nX-Forwarded-For: 203.0.113.66\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"user"),
        "idle connections": (2000, ""),
        "half heads": (500, "GET /api/communication/fields HTTP/1.1\r\nHo"),
    }
    token = request(base, "/api/register",
                    {"user_name": "normal", "password": "secret-pw", "email": "normal@example.com"},
                    {"X-Forwarded-For": "198.51.100.1"})[1]["data"]["token"]
    rows = []
    for name, (count, head) in kinds.items():
        held = []
        for _ in range(count):
            s = socket.create_connection((host, port))
            if head:
                s.sendall(head.encode())
            held.append(s)
        time.sleep(0.5)
        latencies, ok = [], 0
        for _ in range(200):
            started = time.perf_counter()
            status, _ = request(base, "/api/user/detail", headers={"token": token, "X-Forwarded-For": "198.51.100.1"})
            latencies.append((time.perf_counter() - started) * 1000)
            ok += status == 200
        latencies.sort()
        rows.append((name, count, ok, statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]))
        for s in held:
            s.close()
        time.sleep(1)
    return rows


def guesses(base, key):
    doors = ["/api/login", "/system/api/login", "/api/v2/account/login"]
    fresns = harness.Fresns(base, key)
    stop = time.time() + 10
    counts = {}
    lock = threading.Lock()

    def guesser(n):
        i = 0
        while time.time() < stop:
            door = doors[i % 3]
            i += 1
            headers = {"X-Forwarded-For": f"192.0.2.{n}"}
            if door.startswith("/api/v2"):
                headers.update(fresns.headers())
                body = {"type": "email", "account": "victim@example.com", "password": "d3Jvbmc="}
            else:
                body = {"user_name": "victim", "password": "wrong-pw"}
            status, answer = request(base, door, body, headers)
            answer = answer if isinstance(answer, dict) else {}
            code = answer.get("code")
            # A password was checked: AnQiCMS "login failed", Fresns 34304.
            checked = code == 34304 or "login failed" in str(answer.get("msg", ""))
            with lock:
                counts[(status, code, checked)] = counts.get((status, code, checked), 0) + 1

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(1, 51)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    checked = sum(v for (_, _, was_checked), v in counts.items() if was_checked)
    return checked / 10, counts


def database_fault_figures(engines):
    ok, lines = True, []
    for engine in engines:
        env = dict(harness.os.environ)
        if engine == "postgres":
            env["COLLOQ_TEST_DATABASE_URL"] = harness.PG_URL
        else:
            env.pop("COLLOQ_TEST_DATABASE_URL", None)
        out = subprocess.run(["cargo", "test", "--quiet", "--test", "database_faults", "--", "--nocapture",
                              "--test-threads", "1"], cwd=harness.ROOT, env=env, capture_output=True, text=True)
        ok = ok and out.returncode == 0
        for line in (out.stdout + out.stderr).splitlines():
            if not line.startswith("figure:"):
                continue
            figure = line.removeprefix("figure:").strip()
            # The restart test runs on a cluster of its own whatever the engine.
            where = "own PostgreSQL cluster" if figure.startswith("PostgreSQL restarted") else engine
            lines.append(f"{where}: {figure}")
    return ok, lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    harness.ensure_tools()
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as work:
            db = harness.Database(engine, work)
            try:
                db.colloq("user", "create", "--username", "victim", "--password", "secret-pw",
                          "--email", "victim@example.com")
                key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "rel")
                server, base = serve(db)
                try:
                    print(f"\n## {engine}\n")
                    print("| flood (one address) | connections | normal requests answered 200 | p50 ms | p99 ms |")
                    print("|---|---:|---:|---:|---:|")
                    for name, count, ok, p50, p99 in floods(base):
                        print(f"| {name} | {count:,} | {ok} of 200 | {p50:.1f} | {p99:.1f} |")
                    rate, counts = guesses(base, key)
                    print(f"\npassword checks reaching the account: {rate:.2f}/s "
                          f"(50 addresses, 3 doors, 10 s); answers: "
                          + ", ".join(f"HTTP {s} code {c}{' (password checked)' if k else ''}: {n}"
                                      for (s, c, k), n in sorted(counts.items(), key=str)))
                finally:
                    server.stop()
            finally:
                db.drop()
    ok, lines = database_fault_figures(args.engines.split(","))
    print("\n## database faults (tests/database_faults.rs)\n")
    for line in lines:
        print(f"- {line}")
    if not ok:
        raise SystemExit("tests/database_faults.rs failed")


if __name__ == "__main__":
    main()
