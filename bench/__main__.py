"""``bench/run``: every benchmark row, each figure beside its baseline measured in the same
run, and the ratio. Starts its own Canvas simulator, an embedded API process, and a
production stack (API and arq worker processes on a fresh PostgreSQL database and Redis
database 11); every load generator is a separate, bounded process on loopback."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from bench.delivery import event_delivery_rows, fan_out_rows
from bench.figures import Row, machine, not_measured, note, table
from bench.pipeline import pipeline_row
from bench.read_path import read_path_rows
from bench.setups import embedded_setup, production_setup, server_versions, timed_simulator
from bench.throughput import throughput_rows

BUDGET_SECONDS = 570.0  # bench/run must finish within ten minutes
ROWS = range(1, 7)
# Time limits of the rows that repeat jobs, so a slow path ends the row instead of the run.
PIPELINE_SECONDS = 45.0
DELIVERY_SECONDS = 45.0

LLM_PIPELINE = not_measured(
    "1. pipeline, embedded and production, scripted LLM server answering instantly",
    "Canvas simulator's + LLM server's own time",
)
LLM_THROUGHPUT = not_measured(
    "5. throughput, 1 and 2 workers, instant LLM server", "linear scaling"
)
COST = not_measured(
    "6. cost: LLM calls and tokens per plan and per feedback, each sample assignment",
    "the sources' own tokens (what a model must read at least)",
)


class Rows:
    """The table so far; a row that fails is shown as failed and the others still run."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.failed = False

    async def add(self, label: str, measuring: Awaitable[Row | list[Row]]) -> None:
        note(label)
        try:
            measured = await measuring
        except Exception as exc:
            logging.exception("%s failed", label)
            self.failed = True
            self.rows.append(Row(label, f"failed: {exc}".replace("\n", " ")[:200], "", ""))
            return
        self.rows += measured if isinstance(measured, list) else [measured]


async def run(args: argparse.Namespace, workdir: Path) -> Rows:
    wanted = set(args.only)
    results = Rows()
    async with timed_simulator() as sim, production_setup(workdir, sim) as production:
        if wanted & {1, 2}:
            async with embedded_setup(workdir, sim) as embedded:
                if 1 in wanted:
                    for setup in (embedded, production):
                        await results.add(
                            f"1. pipeline, {setup.name}",
                            pipeline_row(setup, sim, args.runs, PIPELINE_SECONDS),
                        )
                    results.rows.append(LLM_PIPELINE)
                if 2 in wanted:
                    await results.add(
                        "2. read path", read_path_rows([embedded, production], workdir)
                    )
        if 3 in wanted:
            await results.add(
                "3. event delivery",
                event_delivery_rows(production, workdir, args.jobs, DELIVERY_SECONDS),
            )
        if 4 in wanted:
            await results.add("4. fan-out", fan_out_rows(production, workdir))
        if 5 in wanted:
            await results.add("5. throughput", throughput_rows(production, sim))
            results.rows.append(LLM_THROUGHPUT)
        if 6 in wanted:
            results.rows.append(COST)
    note("done")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=10, help="pipeline runs per sample assignment and setup"
    )
    parser.add_argument(
        "--jobs", type=int, default=30, help="plan jobs followed for event delivery"
    )
    parser.add_argument(
        "--only",
        type=lambda value: [int(row) for row in value.split(",")],
        default=list(ROWS),
        help="rows to run, e.g. 1,3 (default: all)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="canvas-workspace-bench-"))
    started = time.monotonic()

    async def bounded() -> tuple[Rows, tuple[str, str]]:
        async with asyncio.timeout(BUDGET_SECONDS):
            return await run(args, workdir), await server_versions()

    try:
        rows, (postgres, redis) = asyncio.run(bounded())
    except BaseException:
        print(f"bench/run failed; the processes' logs are in {workdir}", file=sys.stderr)
        raise
    print(f"\nCanvas Workspace benchmarks ({time.monotonic() - started:.0f} s)")
    print(f"Machine: {machine(postgres, redis)}\n")
    print(table(rows.rows))
    if rows.failed:
        print(f"\nSome rows failed; the processes' logs are in {workdir}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
