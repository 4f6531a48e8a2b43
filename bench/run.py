#!/usr/bin/env python3
"""colloq's benchmark harness.

    python3 bench/run.py            # full run: writes docs/benchmarks.md and docs/bench-page-depth.svg
    python3 bench/run.py --quick    # small data, short runs; writes target/bench/quick.md (CI)

For each engine it seeds a fresh database with `colloq seed`, starts the release
binary and the floor (bench/floor: the same count and indexed page read with no
auth, envelope or mapping), drives them with wrk at fixed concurrency, and
reports requests/s, p50 and p99 latency, peak RSS, and each endpoint's ratio to
the floor measured in the same run. Sends are counted twice: acknowledgements
seen by wrk (`"code":0`), and rows in the database afterwards.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "colloq"
FLOOR = ROOT / "target" / "release" / "colloq-bench-floor"
PG_URL = os.environ.get("COLLOQ_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
PASSWORD = "password"

FULL = dict(users=1000, orders=10000, conversations=10000, messages=1_000_000, hot=1_000_000,
            duration=10, depth_duration=4, exact=20_480, rounds=5)
QUICK = dict(users=20, orders=50, conversations=50, messages=5_000, hot=20_000,
             duration=2, depth_duration=1, exact=1_024, rounds=1)


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_tools(build=True):
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        log(f"installing {' '.join(missing)} (Debian packages)")
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL)
    if not build:
        return
    log("building release binaries")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "colloq", "-p", "colloq-bench-floor"],
                   check=True, cwd=ROOT)


class Database:
    """A fresh database: an SQLite file, or a PostgreSQL schema dropped afterwards."""

    def __init__(self, engine, workdir, suffix=""):
        self.engine = engine
        self.env = dict(os.environ, COLLOQ_LOG="warn")
        # The harness measures serving, from one address as a few users: the
        # rate limits would measure themselves (each check costs a hash lookup).
        for limit in ("REQUESTS_PER_ADDRESS_PER_SECOND", "LOGINS_PER_ADDRESS_PER_MINUTE",
                      "LOGINS_PER_ACCOUNT_PER_MINUTE", "REGISTRATIONS_PER_ADDRESS_PER_HOUR",
                      "SENDS_PER_USER_PER_SECOND"):
            self.env["COLLOQ_LIMITS__" + limit] = "0"
        self.env.pop("COLLOQ_DATABASE__PG_SCHEMA", None)
        if engine == "sqlite":
            self.url = str(Path(workdir) / "bench.db")
        else:
            self.url = PG_URL
            self.schema = f"bench_{os.getpid()}{suffix}"
            self.psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; CREATE SCHEMA {self.schema};")
            self.env["COLLOQ_DATABASE__PG_SCHEMA"] = self.schema

    def psql(self, sql):
        return subprocess.run(["psql", "-qtA", self.url, "-c", sql], check=True, capture_output=True, text=True).stdout

    def scalar(self, sql):
        if self.engine == "sqlite":
            out = subprocess.run(["sqlite3", self.url, sql], check=True, capture_output=True, text=True).stdout
        else:
            out = self.psql(f"SET search_path TO {self.schema}; {sql}")
        return int(out.strip().splitlines()[-1])

    def drop(self):
        if self.engine == "postgres":
            self.psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE;")

    def colloq(self, *args):
        out = subprocess.run([str(BIN), "--database-url", self.url, *args], check=True, env=self.env,
                             capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    def __init__(self, argv, env, port, ready_path):
        self.port = port
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2).read()
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"server {argv[0]} did not start")
                time.sleep(0.1)

    def reset_peak(self):
        # Writing 5 to clear_refs resets the kernel's peak RSS (VmHWM) to the
        # current RSS (Linux 4.0 and later), so each row can report its own peak.
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def http_raw(url, headers=None):
    req = urllib.request.Request(url)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    return urllib.request.urlopen(req, timeout=30).read()


def http_json(url, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


class Fresns:
    """A signed Fresns client (the signature as documented in docs/fresns.md)."""

    def __init__(self, base, key):
        self.base, self.key = base, key
        self.session = {}

    def headers(self):
        signed = {
            "X-Fresns-App-Id": self.key["app_id"],
            "X-Fresns-Client-Platform-Id": str(self.key["platform_id"]),
            "X-Fresns-Client-Version": "1.0.0",
            "X-Fresns-Signature-Timestamp": str(int(time.time() * 1000)),
            **self.session,
        }
        query = "&".join(f"{k}={v}" for k, v in sorted(signed.items()) if v)
        signature = hashlib.md5(f"{query}&AppSecret={self.key['app_secret']}".encode()).hexdigest()
        return {**signed, "X-Fresns-Signature": signature,
                "X-Fresns-Client-Device-Info": base64.b64encode(b'{"networkIpv4":"127.0.0.1"}').decode()}

    def call(self, path, body=None, method=None):
        res = http_json(self.base + path, body, self.headers(), method)
        assert res["code"] == 0, res
        return res["data"]

    def caller_query(self):
        """The floor's checked variant: the key and both sessions, tokens by hash."""
        h = lambda token: hashlib.sha256(token.encode()).hexdigest()
        return (f"key={self.key['app_id']}&aid={self.session['X-Fresns-Aid']}"
                f"&aid_hash={h(self.session['X-Fresns-Aid-Token'])}&uid={self.session['X-Fresns-Uid']}"
                f"&uid_hash={h(self.session['X-Fresns-Uid-Token'])}")

    def login(self, username):
        pw = base64.b64encode(PASSWORD.encode()).decode()
        data = self.call("/api/v2/account/login", {"type": "email", "account": f"{username}@example.com", "password": pw})
        self.session = {"X-Fresns-Aid": data["sessionToken"]["aid"], "X-Fresns-Aid-Token": data["sessionToken"]["token"]}
        data = self.call("/api/v2/user/auth", {"uidOrUsername": username})
        self.session.update({"X-Fresns-Uid": str(data["sessionToken"]["uid"]), "X-Fresns-Uid-Token": data["sessionToken"]["token"]})


LUA_COUNT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) acks = 0; other = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, '"code":0', 1, true) then acks = acks + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("acks"); o = o + t:get("other") end
  io.write(string.format("ACKS %d OTHER %d\\n", a, o))
end
"""


def wrk(url, duration, connections, headers=None, body=None, count_acks=False):
    lua = ["wrk.method = '%s'" % ("POST" if body is not None else "GET")]
    for k, v in (headers or {}).items():
        lua.append(f"wrk.headers['{k}'] = '{v}'")
    if body is not None:
        lua.append("wrk.headers['Content-Type'] = 'application/json'")
        lua.append("wrk.body = '%s'" % json.dumps(body).replace("'", "\\'"))
    if count_acks:
        lua.append(LUA_COUNT)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lua))
        script = f.name
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(script)

    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p99": latency(99),
        "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
    }
    if count_acks:
        m = re.search(r"ACKS (\d+) OTHER (\d+)", out)
        result["acks"], result["other"] = int(m.group(1)), int(m.group(2))
    return result


def hey_exact(db, thread, url, n, headers, body):
    """A fixed number of sends that all complete (unlike a timed wrk run, which
    abandons requests in flight at its deadline): every one must be answered
    and exactly that many rows added. `n` is a multiple of 32: hey splits it
    evenly over its workers."""
    time.sleep(2)  # let the previous timed run's abandoned requests land first
    before = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {thread}")
    argv = ["hey", "-n", str(n), "-c", "32", "-m", "POST", "-T", "application/json", "-d", json.dumps(body)]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    answered = sum(int(m) for m in re.findall(r"\[200\]\s+(\d+) responses", out))
    rows = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {thread}") - before
    return {"sent": n, "answered": answered, "rows": rows}


def bench_engine(engine, p, workdir):
    db = Database(engine, workdir)
    rows = []
    try:
        log(f"{engine}: seeding")
        started = time.time()
        seed = db.colloq("seed", "--users", str(p["users"]), "--orders", str(p["orders"]),
                         "--conversations", str(p["conversations"]), "--messages", str(p["messages"]),
                         "--hot-messages", str(p["hot"]), "--password", PASSWORD, "--tag", "bench")
        seed_seconds = time.time() - started
        if engine == "postgres":
            # The load's dirty pages would otherwise be written back by a
            # checkpoint in the middle of some later row.
            db.psql("CHECKPOINT;")
        key = db.colloq("app-key", "create", "--platform-id", "4", "--name", "bench")
        port, floor_port = free_port(), free_port()
        server = Server([str(BIN), "--database-url", db.url, "serve", "--bind", f"127.0.0.1:{port}"],
                        db.env, port, "/readyz")
        floor = Server([str(FLOOR), db.url, f"127.0.0.1:{floor_port}"], db.env, floor_port,
                       f"/page?thread={seed['hot_order']}&page=1&size=10")
        base = f"http://127.0.0.1:{port}"
        hot_a, hot_b = seed["hot_users"]
        token = http_json(base + "/api/login", {"user_name": hot_a, "password": PASSWORD})["data"]["token"]
        fresns = Fresns(base, key)
        fresns.login(hot_a)
        order, conversation, total = seed["hot_order"], seed["hot_conversation"], p["hot"]
        anqi_last, fresns_last = math.ceil(total / 10), math.ceil(total / 15)
        d, c = p["duration"], 32

        peaks = {server: [], floor: []}

        def on(srv, run):
            """One run against `srv`, with the server's peak RSS during it."""
            srv.reset_peak()
            result = run()
            result["rss"] = srv.peak_rss_mib()
            peaks[srv].append(result["rss"])
            return result

        def anqi(page):
            return f"{base}/api/communication/messages?comm_order_id={order}&current={page}&page_size=10"

        def fres(page):
            return f"{base}/api/v2/conversation/{conversation}/messages?page={page}&pageSize=15"

        # The floor does each dialect's own page read: 10 rows of the hot order
        # (AnQiCMS's page size) and 15 of the hot conversation (Fresns's).
        floor_url = f"http://127.0.0.1:{floor_port}/page?page=1"
        # A Fresns page carries its senders' full User Info on every item, so its
        # body is tens of kilobytes where the floor's is one. The same read padded
        # to the same body size shows what the bytes alone cost this stack.
        fresns_bytes = len(http_raw(fres(1), fresns.headers()))
        floor_bytes = len(http_raw(f"{floor_url}&thread={conversation}&size=15"))
        pad = max(0, fresns_bytes - floor_bytes - len(',"pad":""'))
        # The checked variant answers 500 unless its caller read finds every row.
        http_raw(f"{floor_url}&thread={conversation}&size=15&{fresns.caller_query()}")
        # The targets are ratios of page 1 to the floor, so those rows run in
        # interleaved rounds and each reports its median round: a slow spell of
        # the machine then hits both sides of a ratio instead of one.
        paired = [("floor", "AnQiCMS's read: 10 rows",
                   lambda: on(floor, lambda: wrk(f"{floor_url}&thread={order}&size=10", d, c))),
                  ("AnQiCMS messages", "page 1", lambda: on(server, lambda: wrk(anqi(1), d, c, {"token": token}))),
                  ("floor", "Fresns's read: 15 rows",
                   lambda: on(floor, lambda: wrk(f"{floor_url}&thread={conversation}&size=15", d, c))),
                  ("Fresns messages", "page 1", lambda: on(server, lambda: wrk(fres(1), d, c, fresns.headers()))),
                  ("floor", f"Fresns's read, padded to its {fresns_bytes / 1024:.0f} KiB body",
                   lambda: on(floor, lambda: wrk(f"{floor_url}&thread={conversation}&size=15&pad={pad}", d, c))),
                  ("floor", f"Fresns's read and caller reads, padded to its {fresns_bytes / 1024:.0f} KiB body",
                   lambda: on(floor, lambda: wrk(f"{floor_url}&thread={conversation}&size=15&pad={pad}"
                                                 f"&{fresns.caller_query()}", d, c)))]
        runs = [[] for _ in paired]
        for round_ in range(p["rounds"]):
            for i, (name, label, run) in enumerate(paired):
                log(f"{engine}: {name} {label} (round {round_ + 1} of {p['rounds']})")
                runs[i].append(run())
        medians = {}
        for (name, label, _), results in zip(paired, runs):
            m = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
            m["rounds"] = [r["rps"] for r in results]
            medians[(name, label)] = m
            rows.append((engine, name, label, m))
        floor_anqi = medians[("floor", "AnQiCMS's read: 10 rows")]
        floor_fresns = medians[("floor", "Fresns's read: 15 rows")]
        floor_sized = medians[("floor", paired[4][1])]
        floor_sized["bytes"] = fresns_bytes
        floor_checked = medians[("floor", paired[5][1])]
        # Each page-1 run follows its floor run in the same round, so the two
        # share the machine's state of the moment: the median of these
        # per-round ratios is the steadier estimate of the ratio.
        per_round = lambda a, b: statistics.median(x["rps"] / y["rps"] for x, y in zip(runs[a], runs[b]))
        medians[("AnQiCMS messages", "page 1")]["paired"] = per_round(1, 0)
        medians[("Fresns messages", "page 1")]["paired"] = per_round(3, 2)
        floor_sized["paired"] = per_round(3, 4)
        floor_checked["paired"] = per_round(3, 5)
        floor_checked["of_floor"] = per_round(5, 2)
        for name, url_of, last, headers in [("AnQiCMS messages", anqi, anqi_last, lambda: {"token": token}),
                                            ("Fresns messages", fres, fresns_last, fresns.headers)]:
            for label, page in [("middle page", max(1, last // 2)), ("last page", last)]:
                log(f"{engine}: {name} {label}")
                rows.append((engine, name, label, on(server, lambda: wrk(url_of(page), d, c, headers()))))
        depth = {}
        for name, url_of, last, headers in [("AnQiCMS", anqi, anqi_last, lambda: {"token": token}),
                                            ("Fresns", fres, fresns_last, fresns.headers)]:
            pages = sorted({1, 10, 100, 1000, 10000, 100000, last} & set(range(1, last + 1)) | {last})
            depth[name] = [(pg, on(server, lambda: wrk(url_of(pg), p["depth_duration"], 8, headers()))["p50"])
                           for pg in pages]

        log(f"{engine}: sends")
        before = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {order}")
        send_anqi = on(server, lambda: wrk(f"{base}/api/communication/message/send", d, c, {"token": token},
                                           {"comm_order_id": order, "message_type": "text",
                                            "content": "benchmark message"}, True))
        after = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {order}")
        send_anqi["stored"] = after - before
        send_anqi["exact"] = hey_exact(db, order, f"{base}/api/communication/message/send", p["exact"], {"token": token},
                                       {"comm_order_id": order, "message_type": "text", "content": "exact"})
        rows.append((engine, "AnQiCMS send", f"{c} senders", send_anqi))
        before = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {conversation}")
        send_fresns = on(server, lambda: wrk(f"{base}/api/v2/conversation/send-message", d, c, fresns.headers(),
                                             {"uidOrUsername": hot_b, "message": "benchmark message"}, True))
        after = db.scalar(f"SELECT count(*) FROM messages WHERE thread_id = {conversation}")
        send_fresns["stored"] = after - before
        send_fresns["exact"] = hey_exact(db, conversation, f"{base}/api/v2/conversation/send-message", p["exact"],
                                         fresns.headers(), {"uidOrUsername": hot_b, "message": "exact"})
        rows.append((engine, "Fresns send", f"{c} senders", send_fresns))

        log(f"{engine}: 64 connections for peak RSS")
        at_64 = on(server, lambda: wrk(anqi(1), d, 64, {"token": token}))
        rows.append((engine, "AnQiCMS messages", "page 1, 64 connections", at_64))
        rss = at_64["rss"]
        # The highest of every run's peak: each server's peak under load.
        rss_any, floor_rss = max(peaks[server]), max(peaks[floor])
        server.stop()
        floor.stop()
        return {"engine": engine, "seed_seconds": seed_seconds, "seed": seed, "rows": rows, "depth": depth,
                "rss": rss, "rss_any": rss_any, "floor_rss": floor_rss,
                "floor_rps": {"AnQiCMS": floor_anqi["rps"], "Fresns": floor_fresns["rps"]},
                "floor_sized": floor_sized, "floor_checked": floor_checked}
    finally:
        db.drop()


def svg_plot(results, path):
    """Latency (p50) against page depth, log-scaled x, one line per engine and dialect."""
    w, h, left, bottom, top, right = 720, 400, 70, 50, 30, 170
    series = []
    for r in results:
        for name, points in r["depth"].items():
            series.append((f"{name} ({r['engine']})", points))
    max_page = max(pg for _, pts in series for pg, _ in pts)
    max_ms = max(ms for _, pts in series for _, ms in pts) * 1.2 or 1
    x = lambda pg: left + (math.log10(pg) / max(math.log10(max_page), 1)) * (w - left - right)
    y = lambda ms: h - bottom - ms / max_ms * (h - bottom - top)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2 - 120}" y="18" font-size="14">p50 latency of a message page vs page depth</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
           f'<text x="{(w - right) / 2}" y="{h - 12}">page number (log scale)</text>',
           f'<text x="12" y="{h / 2}" transform="rotate(-90 12 {h / 2})">p50 (ms)</text>']
    for i in range(0, int(math.log10(max_page)) + 1):
        px = x(10 ** i)
        out.append(f'<line x1="{px}" y1="{h - bottom}" x2="{px}" y2="{h - bottom + 5}" stroke="black"/>')
        out.append(f'<text x="{px - 10}" y="{h - bottom + 18}">1e{i}</text>')
    for i in range(5):
        ms = max_ms * i / 4
        out.append(f'<text x="{left - 45}" y="{y(ms) + 4}">{ms:.2f}</text>')
        out.append(f'<line x1="{left}" y1="{y(ms)}" x2="{w - right}" y2="{y(ms)}" stroke="#eee"/>')
    for idx, (label, pts) in enumerate(series):
        colour = colours[idx % len(colours)]
        poly = " ".join(f"{x(pg):.1f},{y(ms):.1f}" for pg, ms in pts)
        out.append(f'<polyline points="{poly}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for pg, ms in pts:
            out.append(f'<circle cx="{x(pg):.1f}" cy="{y(ms):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{w - right + 10}" y="{top + idx * 20}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{w - right + 28}" y="{top + idx * 20 + 10}">{label}</text>')
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")


def report(results, p, quick):
    lines = []
    lines.append("| engine | endpoint | case | requests/s | p50 (ms) | p99 (ms) | peak RSS (MiB) | vs floor |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        for engine, name, case, m in r["rows"]:
            # List rows are compared with the floor doing their dialect's read;
            # sends have no floor.
            dialect = name.split()[0]
            floor = r["floor_rps"].get(dialect) if name.endswith("messages") else None
            ratio = f"{m['rps'] / floor:.0%}" if floor else "–"
            if "paired" in m and name.endswith("messages"):
                ratio = f"{m['paired']:.0%} ¹"
            rps = f"{m['rps']:.0f}"
            if len(m.get("rounds", [])) > 1:
                rps += f" (median of {', '.join(f'{x:.0f}' for x in m['rounds'])})"
            lines.append(f"| {engine} | {name} | {case} | {rps} | {m['p50']:.2f} | {m['p99']:.2f} | {m['rss']:.1f} "
                         f"| {ratio} |")
    targets = ["", "| target | engine | measured | met |", "|---|---|---|---|"]
    for r in results:
        by = {(n, c): m for _, n, c, m in r["rows"]}
        e = r["engine"]
        for dialect in ["AnQiCMS", "Fresns"]:
            page1, last = by[(f"{dialect} messages", "page 1")], by[(f"{dialect} messages", "last page")]
            if e == "sqlite":
                ratio = page1["paired"]
                of_medians = page1["rps"] / r["floor_rps"][dialect]
                targets.append(f"| {dialect} page 1 ≥ 75 % of the floor's requests/s | {e} | {ratio:.0%} ¹ (ratio of the medians: {of_medians:.0%}) | {'yes' if ratio >= 0.75 else 'no'} |")
            if e == "sqlite" and dialect == "Fresns":
                sized = r["floor_sized"]
                targets.append(f"| (not a target) the floor padded to Fresns's {sized['bytes']:,}-byte body, against the floor | {e} | {sized['rps'] / r['floor_rps'][dialect]:.0%} | – |")
                targets.append(f"| (not a target) Fresns page 1 against that padded floor | {e} | {sized['paired']:.0%} ¹ | – |")
                checked = r["floor_checked"]
                targets.append(f"| (not a target) the padded floor that also makes Fresns's caller read, against the floor | {e} | {checked['of_floor']:.0%} ¹ | – |")
                targets.append(f"| (not a target) Fresns page 1 against that checked, padded floor | {e} | {checked['paired']:.0%} ¹ | – |")
            targets.append(f"| {dialect} last page p50 ≤ 2 × page 1 p50 | {e} | {last['p50']:.2f} ms vs {page1['p50']:.2f} ms | {'yes' if last['p50'] <= 2 * page1['p50'] else 'no'} |")
        for dialect in ["AnQiCMS", "Fresns"]:
            s = by[(f"{dialect} send", "32 senders")]
            x = s["exact"]
            exact = x["answered"] == x["sent"] == x["rows"]
            rate = s["acks"] / p["duration"]
            if e == "sqlite":
                targets.append(f"| {dialect} send ≥ 3,000 acknowledged/s, 32 senders | {e} | {rate:.0f}/s (wrk) | {'yes' if rate >= 3000 else 'no'} |")
            targets.append(f"| {dialect} send: rows = acknowledgements | {e} | hey: {x['sent']} sent, {x['answered']} answered, {x['rows']} rows; wrk: {s['acks']} acks, {s['stored']} rows (its deadline drops in-flight answers) | {'yes' if exact else 'no'} |")
        if e == "sqlite":
            targets.append(f"| peak RSS ≤ 64 MiB at 64 connections | {e} | {r['rss']:.1f} MiB (highest in any run "
                           f"{r['rss_any']:.1f} MiB; the floor's {r['floor_rss']:.1f} MiB) | {'yes' if r['rss_any'] <= 64 else 'no'} |")
        targets.append(f"| seed time | {e} | {r['seed_seconds']:.1f} s for {r['seed']['messages']:,} messages | {'yes' if e != 'sqlite' or r['seed_seconds'] < 60 or quick else 'no'} |")
    note = ["", "¹ The median over the rounds of each round's page-1 requests/s divided by the floor's in the same round."]
    return "\n".join(lines + targets + note)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data and short runs (CI)")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    p = QUICK if args.quick else FULL
    ensure_tools()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for engine in args.engines.split(","):
            results.append(bench_engine(engine, p, workdir))
    table = report(results, p, args.quick)
    cpu = subprocess.run(["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.split("\n")
    machine = f"{cpu[0].strip()} cores,{cpu[1] if len(cpu) > 1 else ''}; wrk and both servers share them"
    if args.quick:
        out = ROOT / "target" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / "quick.md").write_text(table + "\n")
        svg_plot(results, out / "quick.svg")
        print(table)
        bad = [r for r in results for _, n, _, m in r["rows"]
               if "send" in n and not (m["exact"]["sent"] == m["exact"]["answered"] == m["exact"]["rows"])]
        if bad:
            sys.exit("acknowledged sends and stored rows differ")
        return
    svg_plot(results, ROOT / "docs" / "bench-page-depth.svg")
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    body = (f"{start}\nMeasured on {time.strftime('%Y-%m-%d')} with `python3 bench/run.py` on this machine "
            f"({machine}). Data: {p['users']:,} users, {p['orders']:,} orders and {p['conversations']:,} "
            f"conversations sharing {p['messages']:,} messages, plus a hot order and a hot conversation of "
            f"{p['hot']:,} messages each. wrk: 1 thread, 32 connections (64 for the RSS row), {p['duration']} s per row; the floor and page-1 rows run in {p['rounds']} interleaved rounds and show the median.\n\n"
            f"{table}\n\n![p50 latency against page depth](bench-page-depth.svg)\n{end}")
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: body, text, flags=re.S) if start in text else text + "\n" + body + "\n"
    doc.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
