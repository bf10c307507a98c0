"""Acknowledgement latency and throughput under a burst: LearnLoop vs a bare Bolt app.

`learnloop serve --workers N` and a bare Bolt app with no-op listeners on the same stack
(bench/bare_bolt_app.py: FastAPI + uvicorn, one process) run side by side as real processes;
the fake Slack Web API runs as a third process on 127.0.0.1, as Slack would be elsewhere. For
each round, concurrency and kind of request (`/checkin`, a "Share a learning" click, a DM
reply), each server gets N signed requests from C clients that each send the next request as
soon as the last was answered, servers alternating so machine noise hits both alike. Prints
p50/p99 and requests per second per server, the LearnLoop/bare ratios (medians over rounds),
and for LearnLoop how long after the first request the last form it opened reached Slack
(the work done after the ack, which has to keep up too), the CPU each server spent per
request, the load generator's own CPU per request (it must stay far below the servers'), the
RSS of each process and the load average. `--postgres URL` puts LearnLoop on that PostgreSQL
database (as in production) instead of a new SQLite file; the bare app stores nothing.

    python bench/ack_latency.py [--requests 1000] [--concurrency 1,16,64] [--rounds 3]
                                [--workers 1,2] [--kinds ...] [--baseline DIR]
                                [--postgres URL]

At concurrency 1 each point sends a fifth of the requests (at least 100): one at a time is
latency-bound and needs fewer to settle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from slack_requests import (  # noqa: E402
    SignedRequest,
    block_actions,
    message_im,
    slash_command,
)

# The fake answers "count" on stdin with how many views.open calls it has had so far.
FAKE_SLACK_PROCESS = """
import sys
from slack_api import FakeSlackAPI
fake = FakeSlackAPI().start()
print(fake.url, flush=True)
for line in sys.stdin:
    print(len(fake.calls("views.open")), flush=True)
fake.stop()
"""
SECRET = "bench-signing-secret"
USER = "U0BENCH"
CONFIG = f"""
alliance: {{name: Bench Alliance, timezone: Europe/London}}
themes: [Housing]
agencies:
  - {{id: bench, name: Bench Agency, members: [{USER}]}}
cohorts:
  - {{id: weekly, schedule: {{days: [thu], time: "15:00"}}}}
"""
KINDS: dict[str, Callable[[], SignedRequest]] = {
    "/checkin": lambda: slash_command("/checkin", user_id=USER, signing_secret=SECRET),
    "Share a learning": lambda: block_actions(
        "checkin_open", "1", user_id=USER, signing_secret=SECRET
    ),
    # A fresh event id each time: each one is a new reply to store, not a redelivery.
    "DM reply": lambda: message_im(
        "We rang housing before discharge", user_id=USER, signing_secret=SECRET
    ),
}
OPENS_FORM = {"/checkin", "Share a learning"}
# Per server URL: requests whose connection dropped and that were sent again, and answers
# other than 200.
DROPPED: dict[str, int] = {}
FAILED: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    cmd: list[str], env: dict[str, str], port: int, log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=out)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-2000:])
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"server on {port} did not start")


def processes(pid: int) -> list[int]:
    """A server and its worker processes (uvicorn's children)."""
    found = [pid]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PPid:") and line.split()[1] == str(pid):
                if b"spawn_main" in (status.parent / "cmdline").read_bytes():
                    found.append(int(status.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_mb(pid: int) -> float:
    """Peak resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Connection:
    """One kept-alive HTTP/1.1 connection, as lean as a load generator must be.

    httpx's AsyncClient spent 3-6 ms of CPU per request at 16-64 in flight (more than the
    bare Bolt server it was measuring, on a 2-core machine), so the client, not the server,
    set the tail (BENCHMARKS.md). This writes pre-built request bytes and reads the status
    line, headers and a Content-Length body: about 0.1 ms per request.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0

    async def post(self, path: str, req: SignedRequest) -> int:
        """Send one request and read its whole answer; returns the status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        assert self.reader is not None
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "content-length"]
        head.append(f"Content-Length: {len(req.body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + req.body)
        status = int((await self.reader.readuntil(b"\r\n")).split()[1])
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value == "close":
                close = True
            elif name == "transfer-encoding":
                raise RuntimeError("a chunked answer: this client reads Content-Length only")
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def hammer(
    url: str, make: list[SignedRequest], total: int, concurrency: int
) -> tuple[list[float], float, int, float]:
    """Send `total` requests (cycling through `make`) at a fixed concurrency.

    Each of the `concurrency` clients keeps one connection and sends its next request as
    soon as the last was answered. Returns the latencies in ms, the wall time of the batch
    in seconds, the connections opened and the client's own CPU seconds.
    """
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    latencies: list[float] = []
    counter = iter(range(total))
    dropped: list[int] = []
    connections = [Connection(parts.hostname, parts.port) for _ in range(concurrency)]

    async def worker(conn: Connection) -> None:
        for i in counter:
            req = make[i % len(make)]
            t0 = time.perf_counter()
            try:
                status = await conn.post(parts.path, req)
            except (OSError, asyncio.IncompleteReadError):
                # A kept-alive connection the server closed as it was reused: counted,
                # and sent again on a new one (the time counts from the first try).
                dropped.append(1)
                conn.close()
                status = await conn.post(parts.path, req)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                # Bolt answers 404 when no ack came within 3 s: Slack would show an error.
                FAILED[url] = FAILED.get(url, 0) + 1

    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(conn) for conn in connections))
    finally:
        for conn in connections:
            conn.close()
    wall = time.perf_counter() - started
    DROPPED[url] = DROPPED.get(url, 0) + len(dropped)
    opened = sum(conn.opened for conn in connections)
    return latencies, wall, opened, time.process_time() - cpu


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class FakeSlack:
    """The fake Slack Web API in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FAKE_SLACK_PROCESS],
            cwd=ROOT / "tests",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.url = self.proc.stdout.readline().strip()

    def views_opened(self) -> int:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", default="1,2", help="learnloop serve --workers, one server for each"
    )
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="LearnLoop's database (a PostgreSQL one you can empty) instead of a new SQLite file",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of older LearnLoop code to measure alongside (git archive REV | tar -x)",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    kinds = [k.strip() for k in args.kinds.split(",")]

    fake = FakeSlack()
    tmp = Path(tempfile.mkdtemp(prefix="learnloop-bench-"))
    (tmp / "alliance.yml").write_text(CONFIG)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": args.postgres or f"sqlite:///{tmp / 'bench.db'}",
        "LEARNLOOP_CONFIG": str(tmp / "alliance.yml"),
        "LOG_LEVEL": "WARNING",
    }
    serve = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
    if args.postgres:
        # `serve` refuses a PostgreSQL schema that is behind: migrate it as a deployment would.
        subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env, check=True)
    servers: dict[str, int] = {}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    # (kind, concurrency, server) -> per round (p50, p99, rps)
    results: dict[tuple[str, int, str], list[tuple[float, float, float]]] = {}
    settled: dict[tuple[str, int, str], list[float]] = {}
    # Per server: CPU ms per request of the client and of the server's processes.
    client_cpu: dict[str, list[float]] = {}
    server_cpu: dict[tuple[str, int, str], list[float]] = {}
    opened: dict[str, int] = {}
    loads: list[float] = []
    try:
        for count in (int(w) for w in args.workers.split(",")):
            name, port = f"learnloop x{count}", free_port()
            procs[name] = start(
                [*serve, "--port", str(port), "--workers", str(count)],
                env,
                port,
                tmp / f"learnloop-{count}.log",
            )
            servers[name] = port
        if args.baseline:
            # Another checkout's `serve` (one process, as before --workers existed).
            port = free_port()
            procs["before"] = start(
                [*serve, "--port", str(port)],
                # One process, like the default "learnloop x1": a checkout new enough to have
                # --workers would otherwise start one worker per core.
                {**env, "PYTHONPATH": str(args.baseline), "WEB_CONCURRENCY": "1"},
                port,
                tmp / "before.log",
                cwd=args.baseline,
            )
            servers["before"] = port
        port = free_port()
        procs["bare bolt"] = start(
            [sys.executable, "-m", "uvicorn", "bench.bare_bolt_app:api", "--port", str(port)]
            + ["--log-level", "warning"],
            {**env, "PYTHONPATH": str(ROOT)},
            port,
            tmp / "bare.log",
        )
        servers["bare bolt"] = port
        learnloops = [name for name in servers if name != "bare bolt"]
        for round_no in range(args.rounds):
            for kind in kinds:
                for level in levels:
                    total = args.requests if level > 1 else max(100, args.requests // 5)
                    for name, port in servers.items():
                        # Every DM reply is a new message (a fresh event id) to store; a
                        # repeated one would only be looked up. Clicks may repeat.
                        fresh = total if kind == "DM reply" else min(total, 200)
                        reqs = [KINDS[kind]() for _ in range(fresh)]
                        opened_before = fake.views_opened()
                        pids = processes(procs[name].pid)
                        cpu_before = cpu_seconds(pids)
                        started = time.perf_counter()
                        lat, wall, conns, client = asyncio.run(
                            hammer(
                                f"http://127.0.0.1:{port}/slack/events",
                                reqs,
                                total,
                                level,
                            )
                        )
                        server_cpu.setdefault((kind, level, name), []).append(
                            (cpu_seconds(pids) - cpu_before) * 1000 / total
                        )
                        client_cpu.setdefault(name, []).append(client * 1000 / total)
                        opened[name] = opened.get(name, 0) + conns
                        results.setdefault((kind, level, name), []).append(
                            (pct(lat, 0.5), pct(lat, 0.99), total / wall)
                        )
                        if name != "bare bolt" and kind in OPENS_FORM:
                            # Every acknowledged click must still get its form.
                            deadline = time.monotonic() + 120
                            while (missing := total - fake.views_opened() + opened_before) > 0:
                                if time.monotonic() > deadline:
                                    print(f"{name}: {missing} forms never opened", file=sys.stderr)
                                    break
                                time.sleep(0.01)
                            settled.setdefault((kind, level, name), []).append(
                                (time.perf_counter() - started) / wall
                            )
                    loads.append(os.getloadavg()[0])
            print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr)
        memory = {
            name: [rss_mb(pid) for pid in processes(proc.pid)] for name, proc in procs.items()
        }
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(60)
        fake.stop()

    print(
        f"{args.requests} signed requests per point ({max(100, args.requests // 5)} at C=1), "
        f"median of {args.rounds} rounds; load average {min(loads):.1f}-{max(loads):.1f} "
        f"(median {statistics.median(loads):.1f}) on {os.cpu_count()} cores"
    )
    header = (
        f"{'request':<17}{'C':>3} {'server':<13}| {'p50 / p99 ms':>17} | {'bare p50/p99':>15} | "
        f"{'p99 x':>6} | {'rps':>5} {'bare':>5} {'rps x':>6} | {'forms by':>8} | {'cpu ms/req':>10}"
    )
    print(header)
    print("-" * len(header))
    for kind in kinds:
        for level in levels:
            med = {
                name: tuple(
                    statistics.median(r[i] for r in results[(kind, level, name)]) for i in range(3)
                )
                for name in servers
            }
            bb = med["bare bolt"]
            for name in learnloops:
                ll = med[name]
                key = (kind, level, name)
                forms = f"{statistics.median(settled[key]):.2f}x" if key in settled else "-"
                cpu = statistics.median(server_cpu[key])
                bare_cpu = statistics.median(server_cpu[(kind, level, "bare bolt")])
                print(
                    f"{kind:<17}{level:>3} {name:<13}| {ll[0]:>7.1f} / {ll[1]:>7.1f} | "
                    f"{bb[0]:>6.1f} /{bb[1]:>6.1f} | {ll[1] / bb[1]:>5.2f}x | "
                    f"{ll[2]:>5.0f} {bb[2]:>5.0f} {ll[2] / bb[2]:>5.2f}x | {forms:>8} | "
                    f"{cpu:>4.1f} /{bare_cpu:>4.1f}"
                )
    print("'forms by': when the last form opened reached Slack, as a multiple of the batch time")
    print("'cpu ms/req': CPU of the server's processes per request (all work), LearnLoop / bare")
    for name, port in servers.items():
        url = f"http://127.0.0.1:{port}/slack/events"
        print(
            f"{name}: answers other than 200: {FAILED.get(url, 0)}; "
            f"connections opened: {opened.get(name, 0)}; "
            f"dropped and retried: {DROPPED.get(url, 0)}; load generator CPU per request: "
            f"{statistics.median(client_cpu[name]):.2f} ms (median of batches)"
        )
    for name, sizes in memory.items():
        print(f"peak RSS {name}: " + ", ".join(f"{mb:.0f} MB" for mb in sizes) + " (per process)")


if __name__ == "__main__":
    main()
