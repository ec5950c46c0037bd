"""Load on the API: requests per second and latency of ``GET /reports/{period}``.

    python -m benchmarks.api_load [--requests 2000] [--concurrency 16] [--period "FY2027 Q1"]

Builds the demo workbook in a temporary folder, starts ``sopfin serve`` on a free loopback
port (a real uvicorn process), warms it with one request, then sends ``--requests`` requests
from ``--concurrency`` concurrent clients (httpx, one process) and prints requests per second,
p50 and p99 latency, and how often the server read the workbook from disk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "bench-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, requests: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue = iter(range(requests))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                r = await client.get(url)
                latencies.append(time.perf_counter() - start)
                r.raise_for_status()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--period", default="FY2027 Q1")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run([sys.executable, "-m", "sopfin.cli", "new", "--demo",
                        str(root / "plan.xlsx")], check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        env = dict(os.environ, SOPFIN_API_TOKENS=f"bench:{TOKEN}:read")
        server = subprocess.Popen([sys.executable, "-m", "sopfin.cli", "serve", "--root",
                                   str(root), "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            url = f"{base}/api/v1/workbooks/plan.xlsx/reports/{args.period}?live=true"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=60).raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            start = time.perf_counter()
            latencies = asyncio.run(_load(url, args.requests, args.concurrency))
            wall = time.perf_counter() - start
            reads = httpx.get(base + "/api/v1/status",
                              headers={"Authorization": f"Bearer {TOKEN}"}).json()["reads"]
        finally:
            server.terminate()
            server.wait(10)
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * len(ms))) - 1)]
    print(f"GET /reports/{args.period}?live=true: {args.requests} requests, "
          f"{args.concurrency} concurrent, {wall:.2f} s: {args.requests / wall:,.0f} req/s, "
          f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms; workbook read from disk "
          f"{reads} time(s)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
