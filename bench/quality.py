"""``python -m bench.quality``: plan every assignment of the labelled corpus
(``fixtures/corpus/``) through the running service and score the plans against the labels.

Starts the Canvas simulator serving the corpus (one course per assignment, attachments on
the file host, over real HTTP), one ``canvas-workspace serve`` process on embedded defaults
with the offline engine (or the engine the environment's LLM settings choose, with
``--engine env``), signs in as the simulator's student, starts planning every assignment
with ``POST .../start``, waits for the plans, reads each with ``GET .../plan``, and prints
per assignment and for the development part, the held-out part and all: recall, bloat,
grounding, distractors taken as rules, and rubric criteria covered by milestones.
``devkit/plan_quality.py`` defines each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import httpx

from bench.pipeline import plan
from bench.setups import OFFLINE, Engine, Setup, embedded_setup, timed_simulator
from devkit.corpus import CorpusAssignment, corpus_state, load_corpus, source_context
from devkit.plan_quality import Score, misses_by_kind, score_plan, table

PLANNING_CONCURRENCY = 4  # jobs started at once: the machine has two cores


async def _plan_one(
    http: httpx.AsyncClient, setup: Setup, entry: CorpusAssignment, gate: asyncio.Semaphore
) -> Score:
    path = f"/assignments/{entry.course_id}/{entry.assignment_id}"
    async with gate:
        await plan(http, setup, path, reprocess=True)
        answer = await http.get(f"{path}/plan", headers=setup.headers)
    answer.raise_for_status()
    return score_plan(entry, source_context(entry), answer.json())


async def measure(engine: Engine) -> list[Score]:
    corpus = load_corpus()
    workdir = Path(tempfile.mkdtemp(prefix="quality-"))
    async with (
        timed_simulator(corpus_state(corpus)) as sim,
        embedded_setup(workdir, sim, engine) as setup,
        httpx.AsyncClient(base_url=setup.api, timeout=60) as http,
    ):
        gate = asyncio.Semaphore(PLANNING_CONCURRENCY)
        return list(await asyncio.gather(*(_plan_one(http, setup, e, gate) for e in corpus)))


def report(scores: list[Score], *, verbose: bool) -> str:
    lines = [table(scores), ""]
    development = [s for s in scores if s.split == "development"]
    lines.append(f"development misses by kind: {misses_by_kind(development)}")
    if verbose:  # the development part only: the held-out part is not for tuning
        for score in development:
            lines += [f"  missed  {score.slug}: [{m.kind}] {m.quote}" for m in score.missed]
            lines += [f"  taken   {score.slug}: {t.quote}" for t in score.taken]
            lines += [f"  no quote {score.slug}: {u}" for u in score.ungrounded]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engine",
        choices=("offline", "env"),
        default="offline",
        help="offline (default), or the LLM settings of this environment (LLM_ENGINE, ...)",
    )
    parser.add_argument("--verbose", action="store_true", help="list the development part's misses")
    args = parser.parse_args()
    if args.engine == "offline":
        engine = OFFLINE
    else:
        settings = {k: v for k, v in os.environ.items() if k.startswith(("LLM_", "OPENAI_"))}
        engine = Engine("the environment's engine", settings)
    scores = asyncio.run(measure(engine))
    print(report(scores, verbose=args.verbose))
    sys.exit(0)


if __name__ == "__main__":
    main()
