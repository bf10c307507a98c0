"""Acknowledgement latency: LearnLoop vs a bare Bolt app on the same server stack.

Both servers run as real processes (uvicorn) side by side; the fake Slack Web API runs as a
third process on 127.0.0.1, as Slack would be elsewhere, so answering LearnLoop's `views.open`
calls doesn't slow the load generator. For each round, each server gets N signed `/checkin`
requests and N signed "Share a learning" clicks at concurrency C, servers alternating so machine
noise hits both alike. Prints p50/p99 per server and the LearnLoop/bare ratio, the median over
rounds, and LearnLoop's RSS.

    python bench/ack_latency.py [--requests 2000] [--concurrency 16] [--rounds 3]
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from slack_requests import SignedRequest, block_actions, slash_command  # noqa: E402

FAKE_SLACK_PROCESS = """
import sys
from slack_api import FakeSlackAPI
fake = FakeSlackAPI().start()
print(fake.url, flush=True)
sys.stdin.read()
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def hammer(url: str, make: list[SignedRequest], total: int, concurrency: int) -> list[float]:
    """Send `total` requests (cycling through `make`) at a fixed concurrency; latencies in ms."""
    latencies: list[float] = []
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def worker() -> None:
            for i in counter:
                req = make[i % len(make)]
                t0 = time.perf_counter()
                resp = await client.post(url, content=req.body, headers=req.headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {resp.status_code} {resp.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    fake_proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_SLACK_PROCESS],
        cwd=ROOT / "tests",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake_proc.stdout is not None and fake_proc.stdin is not None
    fake_url = fake_proc.stdout.readline().strip()
    tmp = Path(tempfile.mkdtemp(prefix="learnloop-bench-"))
    (tmp / "alliance.yml").write_text(CONFIG)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "LEARNLOOP_CONFIG": str(tmp / "alliance.yml"),
        "LOG_LEVEL": "WARNING",
    }
    ll_port, bare_port = free_port(), free_port()
    learnloop = start(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(ll_port)],
        env,
        ll_port,
    )
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_bolt_app:api",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
        ],
        {**env, "PYTHONPATH": str(ROOT)},
        bare_port,
    )
    servers = {"learnloop": ll_port, "bare bolt": bare_port}
    kinds = {
        "/checkin": lambda: [
            slash_command("/checkin", user_id=USER, signing_secret=SECRET) for _ in range(50)
        ],
        "Share a learning": lambda: [
            block_actions("checkin_open", "1", user_id=USER, signing_secret=SECRET)
            for _ in range(50)
        ],
    }
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for round_no in range(args.rounds):
            for kind, make in kinds.items():
                for name, port in servers.items():
                    reqs = make()  # fresh timestamps every round
                    lat = asyncio.run(
                        hammer(
                            f"http://127.0.0.1:{port}/slack/events",
                            reqs,
                            args.requests,
                            args.concurrency,
                        )
                    )
                    results.setdefault((kind, name), []).append((pct(lat, 0.5), pct(lat, 0.99)))
            print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr)
        rss, peak = rss_mb(learnloop.pid)
    finally:
        for proc in (learnloop, bare):
            proc.terminate()
            proc.wait(10)
        fake_proc.stdin.close()  # the fake prints its call count and exits
        views_opened = fake_proc.stdout.readline().strip()
        fake_proc.wait(10)

    print(
        f"{args.requests} signed requests per kind and server, concurrency {args.concurrency}, "
        f"median of {args.rounds} rounds"
    )
    print(f"{'request':<18}{'server':<11}{'p50 ms':>8}{'p99 ms':>8}")
    for kind in kinds:
        med = {}
        for name in servers:
            rounds = results[(kind, name)]
            med[name] = (
                statistics.median(r[0] for r in rounds),
                statistics.median(r[1] for r in rounds),
            )
            print(f"{kind:<18}{name:<11}{med[name][0]:>8.1f}{med[name][1]:>8.1f}")
        ratio50 = med["learnloop"][0] / med["bare bolt"][0]
        ratio99 = med["learnloop"][1] / med["bare bolt"][1]
        print(f"{kind:<18}{'ratio':<11}{ratio50:>7.2f}x{ratio99:>7.2f}x")
    print(f"learnloop serve RSS after the run: {rss:.0f} MB (peak {peak:.0f} MB)")
    print(f"views.open calls the fake Slack API received: {views_opened}")


if __name__ == "__main__":
    main()
