"""``bench/run``: every benchmark row, each figure beside its baseline measured in the same
run, and the ratio. Starts its own Canvas simulator and instant model server, embedded API
processes, and production stacks (API and arq worker processes on a fresh PostgreSQL
database and Redis database 11); every load generator is a separate, bounded process on
loopback."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from bench.cost import cost_rows, offline_feedback, prefix_rows
from bench.delivery import FAN_OUT_STREAMS, event_delivery_rows, fan_out_rows
from bench.figures import Row, machine, note, table
from bench.model import instant_model, stored_contexts
from bench.pipeline import pipeline_rows
from bench.read_path import read_path_rows
from bench.setups import (
    OFFLINE,
    embedded_setup,
    production_database,
    production_setup,
    server_versions,
    timed_simulator,
)
from bench.streams import raise_open_file_limit
from bench.throughput import throughput_rows

BUDGET_SECONDS = 840.0  # bench/run stops at fourteen minutes
ROWS = range(1, 7)
WITH_INSTANT_MODEL = {1, 3, 4, 5, 6}
LOCK_PATH = Path(tempfile.gettempdir()) / "canvas-workspace-bench.lock"
# Time limits of the rows that repeat jobs, so a slow path ends the row instead of the run.
PIPELINE_SECONDS = 60.0  # both setups of a row, taking turns
DELIVERY_SECONDS = 30.0


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


async def run(args: argparse.Namespace, workdir: Path, results: Rows) -> Rows:
    """Offline first (rows 1, 2), which also gives the instant model its answers; then
    the same setups with the instant LLM server (rows 1, 6), and the production stack
    with it for the load rows (3, 4, 5)."""
    wanted = set(args.only)
    async with timed_simulator() as sim, production_database() as database:
        canvas = {"Canvas simulator's": sim.response_times}
        async with (
            embedded_setup(workdir, sim, OFFLINE) as embedded,
            production_setup(workdir, sim, database, OFFLINE) as production,
        ):
            if 1 in wanted:
                await results.add(
                    "1. pipeline, offline engine",
                    pipeline_rows([embedded, production], sim, canvas, args.runs, PIPELINE_SECONDS),
                )
            if 2 in wanted:
                await results.add("2. read path", read_path_rows([embedded, production], workdir))
            if not wanted & WITH_INSTANT_MODEL:
                return results
            note("the instant model's answers: offline feedback on the fixture drafts")
            feedback = await offline_feedback(production, sim)
        contexts = await stored_contexts(database.url)
        async with instant_model(contexts, feedback) as model:
            external = {**canvas, "instant LLM server's": model.response_times}
            async with production_setup(workdir, sim, database, model.engine) as production:
                if 1 in wanted:
                    async with embedded_setup(workdir, sim, model.engine) as embedded:
                        await results.add(
                            "1. pipeline, instant LLM server",
                            pipeline_rows(
                                [embedded, production], sim, external, args.runs, PIPELINE_SECONDS
                            ),
                        )
                if 3 in wanted:
                    await results.add(
                        "3. event delivery",
                        event_delivery_rows(production, workdir, args.jobs, DELIVERY_SECONDS),
                    )
                    async with embedded_setup(workdir, sim, model.engine) as embedded:
                        await results.add(
                            "3. event delivery, embedded",
                            event_delivery_rows(embedded, workdir, args.jobs, DELIVERY_SECONDS),
                        )
                if 4 in wanted:
                    await results.add("4. fan-out", fan_out_rows(production, workdir))
                if 5 in wanted:
                    await results.add("5. throughput", throughput_rows(production, sim))
                if 6 in wanted:
                    await results.add("6. cost", cost_rows(production, sim, contexts))
                    results.rows += prefix_rows(model.fixed_prefixes())
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
    # Two runs at once share Redis database 11: one run's workers took the other's jobs
    # (seen: a warm-up plan "lost" for 30-60 s until the reaper enqueued it again).
    lock = open(LOCK_PATH, "w")  # held until the process exits
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"bench/run: another run holds {LOCK_PATH}; wait for it to end", file=sys.stderr)
        return 2
    # Stopped from outside: unwind like Ctrl-C, so every process started here is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # 10,000 streams: the API processes started from here inherit the limit.
    raise_open_file_limit(max(FAN_OUT_STREAMS) * 2 + 1024)
    workdir = Path(tempfile.mkdtemp(prefix="canvas-workspace-bench-"))
    started = time.monotonic()

    async def bounded() -> tuple[Rows, tuple[str, str]]:
        rows = Rows()
        try:
            async with asyncio.timeout(BUDGET_SECONDS):
                await run(args, workdir, rows)
                note("done")
        except TimeoutError:
            # The rows measured so far still show; the run counts as failed.
            rows.failed = True
            rows.rows.append(Row("(the rest)", f"not run: over {BUDGET_SECONDS:.0f} s", "", ""))
        return rows, await server_versions()

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
