"""Row 2, read path: requests per second and p99 latency of the snapshot and the plan under
concurrent load from ``wrk`` (a process of its own), each beside a bare FastAPI route
answering the same bytes from memory, measured right before it. With them, the server
process's CPU time per request: on a shared machine the rates move with the neighbours'
load, the CPU each request costs much less."""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.ceiling import running_ceiling
from bench.figures import Row, ms, note, share
from bench.pipeline import plan
from bench.setups import Setup

WRK_SECONDS = 5
# Each figure is the median of rounds spread over the row's run (every round reads each
# route once, bare route first), so a moment of a neighbour's load moves one round at most.
WRK_ROUNDS = 3
WRK_CONNECTIONS = 32
READS = {"snapshot": "", "plan": "/plan"}
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99: float
    cpu_per_request: float  # the server process's, in seconds

    def __str__(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} req/s, p99 {ms(self.p99)}, "
            f"{self.cpu_per_request * 1e6:,.0f} µs CPU/request"
        )


def median_load(loads: list[Load]) -> Load:
    """Each figure's median over the rounds, apart."""
    return Load(
        statistics.median(load.requests_per_second for load in loads),
        statistics.median(load.p99 for load in loads),
        statistics.median(load.cpu_per_request for load in loads),
    )


def parse_wrk(output: str, cpu_seconds: float) -> Load:
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    requests = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rate is None or p99 is None or requests is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Load(
        float(rate.group(1)),
        float(p99.group(1)) * _UNITS[p99.group(2)],
        cpu_seconds / int(requests.group(1)),
    )


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def wrk(url: str, headers: dict[str, str], server_pid: int) -> Load:
    """``WRK_CONNECTIONS`` keep-alive connections on one thread for ``WRK_SECONDS``, with
    the CPU time the server process ``server_pid`` spent meanwhile."""
    server = psutil.Process(server_pid)
    cpu_before = _cpu_seconds(server)
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{WRK_CONNECTIONS}",
        f"-d{WRK_SECONDS}s",
        "--timeout=5s",
        "--latency",
        *header_args,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(WRK_SECONDS + 30):
        output, _ = await process.communicate()
    return parse_wrk(output.decode(), _cpu_seconds(server) - cpu_before)


def _against_targets(served: Load, bare: Load) -> str:
    """Issue 17's targets: at least half the bare route's requests per second, with a p99
    at most three times its p99."""
    met = (
        served.requests_per_second >= 0.5 * bare.requests_per_second and served.p99 <= 3 * bare.p99
    )
    return (
        f"{share(served.requests_per_second, bare.requests_per_second)}, "
        f"p99 {served.p99 / bare.p99:.2f}× (targets ≥ 50%, p99 ≤ 3×: "
        f"{'met' if met else 'not met'})"
    )


async def read_path_rows(setups: list[Setup], workdir: Path) -> list[Row]:
    path = "/assignments/101/1001"
    bodies: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for setup in setups:
            await plan(http, setup, f"{setup.api}{path}", reprocess=False)
            for read, suffix in READS.items():
                response = await http.get(f"{setup.api}{path}{suffix}", headers=setup.headers)
                response.raise_for_status()
                bodies[f"{setup.name}-{read}"] = response.text
    rounds: dict[str, list[tuple[Load, Load]]] = {body: [] for body in bodies}
    async with running_ceiling(workdir / "ceiling-read.log", bodies) as ceiling:
        for round_number in range(1, WRK_ROUNDS + 1):
            for read, suffix in READS.items():
                for setup in setups:
                    body = f"{setup.name}-{read}"
                    bare = await wrk(f"{ceiling.url}/bytes/{body}", {}, ceiling.pid)
                    served = await wrk(
                        f"{setup.api}{path}{suffix}", setup.headers, setup.pid(setup.name)
                    )
                    note(f"2. round {round_number}, {body}: {served}; bare {bare}")
                    rounds[body].append((bare, served))
    rows = []
    for read, suffix in READS.items():
        for setup in setups:
            body = f"{setup.name}-{read}"
            bare = median_load([pair[0] for pair in rounds[body]])
            served = median_load([pair[1] for pair in rounds[body]])
            rows.append(
                Row(
                    f"2. GET {path}{suffix}, {setup.name} "
                    f"({len(bodies[body].encode()) / 1024:.1f} KiB, "
                    f"{WRK_CONNECTIONS} connections, median of {WRK_ROUNDS} rounds)",
                    str(served),
                    f"bare FastAPI route, same bytes: {bare}",
                    _against_targets(served, bare),
                )
            )
    return rows
