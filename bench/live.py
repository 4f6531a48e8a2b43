#!/usr/bin/env python3
"""Benchmarks of live delivery (docs/realtime.md), reported in docs/benchmarks.md.

    python3 bench/live.py latency [--quick]   # send-to-event latency, one node and two nodes over NATS (PostgreSQL)
    python3 bench/live.py streams [--quick]   # 10,000 open streams: RSS per stream, throughput beside them

No standard tool drives server-sent events or many idle WebSockets, so this is
a small asyncio client speaking HTTP/1.1, SSE and WebSocket (RFC 6455) itself.
Request/response load stays with wrk (bench/run.py's helpers).

latency: 50 customers, each with an order and a stream of their own events on
the node under test; each sends 10 messages a second to their order (500
sends/s in all, open loop) through node A. For every message: the time from
its acknowledgement (the send's response) to its event on the stream, and from
the send's start. One node: streams on A. Two nodes: streams on B, which hears
of A's commits through a NATS server the script starts.

streams: one node on SQLite; 10,000 streams (half SSE, half WebSocket, pinged
every heartbeat and answering) held open by 50 users, measured after every
stream has had a heartbeat; the server's RSS before
and after, and the AnQiCMS page and send rows of bench/run.py without and with
the streams open.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run as harness

USERS = 50


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Http:
    """One keep-alive HTTP/1.1 connection for JSON requests."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path, headers, body):
        data = json.dumps(body).encode()
        head = [f"POST {path} HTTP/1.1", "Host: colloq", "Content-Type: application/json",
                f"Content-Length: {len(data)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        if b" 200 " not in status:
            raise RuntimeError(f"{path}: {status!r} {payload[:200]!r}")
        return json.loads(payload)


async def open_sse(port, token, on_event):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/communication/events HTTP/1.1\r\nHost: colloq\r\ntoken: {token}\r\n\r\n".encode())
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"SSE: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass

    async def pump():
        # Chunked transfer: chunk sizes are lines of their own, skipped below.
        kind, data = None, None
        while True:
            line = await reader.readline()
            if not line:
                return
            line = line.rstrip(b"\r\n")
            if line.startswith(b"event: "):
                kind = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif line == b"" and kind is not None:
                on_event(kind, data)
                kind, data = None, None

    return asyncio.ensure_future(pump()), writer


def ws_frame(opcode, payload=b""):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


async def open_ws(port, token, on_event):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /api/communication/ws HTTP/1.1\r\nHost: colloq\r\ntoken: {token}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    status = await reader.readline()
    if b" 101 " not in status:
        raise RuntimeError(f"WebSocket: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass

    async def pump():
        while True:
            try:
                head = await reader.readexactly(2)
            except asyncio.IncompleteReadError:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            if opcode == 0x9:
                writer.write(ws_frame(0xA, payload))
            elif opcode == 0x1:
                event = json.loads(payload)
                on_event(event["type"], json.dumps(event["data"]).encode())
            elif opcode == 0x8:
                return

    return asyncio.ensure_future(pump()), writer


class Cluster:
    """A seeded database, its customers and their orders, and colloq nodes on it."""

    def __init__(self, engine, workdir, nats_url=None):
        self.db = harness.Database(engine, workdir)
        self.seed = self.db.colloq("seed", "--users", str(USERS), "--orders", str(USERS), "--conversations", "0",
                                   "--messages", str(USERS * 20), "--hot-messages", "1000",
                                   "--password", harness.PASSWORD, "--tag", "live")
        self.nats_url = nats_url
        self.nodes = []

    def node(self, extra=None):
        port = harness.free_port()
        env = dict(self.db.env, COLLOQ_HTTP__MAX_CONNECTIONS="30000", **(extra or {}))
        if self.nats_url:
            env.update(COLLOQ_EVENTS__BUS="nats", COLLOQ_EVENTS__NATS_URL=self.nats_url,
                       COLLOQ_EVENTS__DEPLOYMENT=f"bench{os.getpid()}")
        server = harness.Server([str(harness.BIN), "--database-url", self.db.url, "serve", "--bind",
                                 f"127.0.0.1:{port}"], env, port, "/readyz")
        self.nodes.append(server)
        return server

    def customers(self, port):
        """(token, order) of each seeded customer, logged in through `port`."""
        people = []
        base = f"http://127.0.0.1:{port}"
        for i in range(USERS):
            name = f"{self.seed['tag']}_u{i}"
            token = harness.http_json(base + "/api/login", {"user_name": name, "password": harness.PASSWORD})["data"]["token"]
            orders = harness.http_json(base + "/api/communication/orders?current=1&page_size=1", headers={"token": token})
            people.append((token, orders["data"][0]["id"]))
        return people

    def stop(self):
        for server in self.nodes:
            server.stop()
        self.db.drop()


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency_run(send_port, stream_port, people, seconds, rate_per_user):
    sent_at, acked_at, seen_at = {}, {}, {}

    def on_event(kind, data):
        if kind == "message":
            text = json.loads(data)["message"]["content"]
            if text.startswith("lat "):
                seen_at.setdefault(text, time.perf_counter())

    streams = [await open_sse(stream_port, token, on_event) for token, _ in people]
    await asyncio.sleep(0.5)

    async def sender(index, token, order):
        http = await Http.open(send_port)
        period = 1.0 / rate_per_user
        start = time.perf_counter() + index * period / len(people)
        n = 0
        while True:
            due = start + n * period
            if due - start > seconds:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            text = f"lat {index} {n}"
            sent_at[text] = time.perf_counter()
            reply = await http.post("/api/communication/message/send", {"token": token},
                                    {"comm_order_id": order, "message_type": "text", "content": text})
            if reply["code"] != 0:
                raise RuntimeError(reply)
            acked_at[text] = time.perf_counter()
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(sender(i, token, order) for i, (token, order) in enumerate(people)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(2)
    for task, writer in streams:
        task.cancel()
        writer.close()
    from_ack = [(seen_at[t] - acked_at[t]) * 1000 for t in acked_at if t in seen_at]
    from_start = [(seen_at[t] - sent_at[t]) * 1000 for t in acked_at if t in seen_at]
    missing = len([t for t in acked_at if t not in seen_at])
    return {
        "sends": len(acked_at), "rate": len(acked_at) / elapsed, "missing": missing,
        "ack_p50": percentile(from_ack, 0.5), "ack_p99": percentile(from_ack, 0.99),
        "start_p50": percentile(from_start, 0.5), "start_p99": percentile(from_start, 0.99),
    }


def start_nats():
    binary = subprocess.run([str(harness.ROOT / "scripts" / "debian-tool"), "nats-server"], check=True,
                            capture_output=True, text=True).stdout.strip()
    port = harness.free_port()
    proc = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"nats://127.0.0.1:{port}"


def latency(args):
    seconds = 3 if args.quick else 10
    rows = []
    nats, nats_url = start_nats()
    try:
        with tempfile.TemporaryDirectory() as work:
            cluster = Cluster("postgres", work, nats_url)
            try:
                a, b = cluster.node(), cluster.node()
                people = cluster.customers(a.port)
                harness.log("latency: one node")
                rows.append(("one node (streams on A)", asyncio.run(latency_run(a.port, a.port, people, seconds, 10))))
                harness.log("latency: two nodes")
                rows.append(("two nodes (sends on A, streams on B, NATS)",
                             asyncio.run(latency_run(a.port, b.port, people, seconds, 10))))
            finally:
                cluster.stop()
    finally:
        nats.terminate()
        nats.wait()
    print("| PostgreSQL, 500 sends/s | sends | sends/s | events missing | ack → event p50 (ms) | p99 (ms) | send start → event p50 (ms) | p99 (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        print(f"| {label} | {r['sends']} | {r['rate']:.0f} | {r['missing']} | {r['ack_p50']:.1f} | {r['ack_p99']:.1f} "
              f"| {r['start_p50']:.1f} | {r['start_p99']:.1f} |")


async def hold_streams(port, people, count):
    """Opens `count` streams, half SSE and half WebSocket, round-robin over `people`."""
    held = []
    for i in range(count):
        token, _ = people[i % len(people)]
        opener = open_sse if i % 2 == 0 else open_ws
        for attempt in range(5):
            try:
                held.append(await opener(port, token, lambda kind, data: None))
                break
            except (ConnectionError, OSError):
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise RuntimeError(f"stream {i} did not open")
    return held


def streams(args):
    count = 1000 if args.quick else 10_000
    duration = 2 if args.quick else 8
    raise_fd_limit()
    with tempfile.TemporaryDirectory() as work:
        cluster = Cluster("sqlite", work)
        try:
            server = cluster.node()
            people = cluster.customers(server.port)
            base = f"http://127.0.0.1:{server.port}"
            # The load comes from a user with no stream open: this measures
            # holding streams, not delivering to them (see the latency runs).
            hot = cluster.seed["hot_users"][0]
            token = harness.http_json(base + "/api/login", {"user_name": hot, "password": harness.PASSWORD})["data"]["token"]
            order = cluster.seed["hot_order"]
            send = {"comm_order_id": order, "message_type": "text", "content": "bench"}

            def rows():
                page = harness.wrk(f"{base}/api/communication/messages?comm_order_id={order}&current=1&page_size=10",
                                   duration, 32, {"token": token})
                sent = harness.wrk(f"{base}/api/communication/message/send", duration, 32, {"token": token}, send)
                return page, sent

            # Warm up, then measure without streams.
            rows()
            before = rows()
            rss_before = rss_mib(server.proc.pid)
            loop = asyncio.new_event_loop()
            held = loop.run_until_complete(hold_streams(server.port, people, count))
            # A heartbeat (25 s) for every stream: pings, pongs, session checks.
            loop.run_until_complete(asyncio.sleep(5 if args.quick else 26))
            rss_after = rss_mib(server.proc.pid)
            during = None

            async def measure():
                return await asyncio.get_running_loop().run_in_executor(None, rows)

            during = loop.run_until_complete(measure())
            alive = sum(1 for task, _ in held if not task.done())
            for task, writer in held:
                task.cancel()
                writer.close()
            loop.run_until_complete(asyncio.sleep(0.2))
            loop.close()
        finally:
            cluster.stop()
    per_stream_kib = (rss_after - rss_before) * 1024 / count
    print(f"| {count} streams (half SSE, half WebSocket), default heartbeat (25 s) | value |")
    print("|---|---|")
    print(f"| server RSS before / with the streams open | {rss_before:.0f} MiB / {rss_after:.0f} MiB |")
    print(f"| RSS growth per open stream | {per_stream_kib:.1f} KiB |")
    print(f"| streams still open after the runs | {alive} of {count} |")
    for label, b, d in (("AnQiCMS messages page 1", before[0], during[0]), ("AnQiCMS send, 32 senders", before[1], during[1])):
        change = 100 * (d["rps"] - b["rps"]) / b["rps"]
        print(f"| {label}: requests/s without / with the streams | {b['rps']:.0f} / {d['rps']:.0f} ({change:+.1f} %) |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("latency", "streams"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    harness.ensure_tools()
    {"latency": latency, "streams": streams}[args.what](args)


if __name__ == "__main__":
    main()
