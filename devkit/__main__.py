"""``python -m devkit demo``: the whole product against the Canvas simulator, from a
checkout (the demo needs ``fixtures/``, so it is not part of the installed service)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from devkit.demo import run_demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="start a Canvas simulator and the service on embedded defaults, plan a sample "
        "assignment while showing its progress, and print the plan",
    )
    demo.add_argument("--course", default="101", help="simulated course id (default 101)")
    demo.add_argument("--assignment", default="1001", help="simulated assignment id (default 1001)")
    demo.add_argument("--port", type=int, default=0, help="API port (default: a free port)")
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="keep the service and simulator running after the plan is printed",
    )
    demo.add_argument("--json", action="store_true", help="print the plan as JSON")
    demo.add_argument(
        "--oauth",
        action="store_true",
        help="sign in with Canvas OAuth2 (developer key) instead of a personal token, and "
        "show the access token being renewed during planning",
    )
    args = parser.parse_args(argv)
    return asyncio.run(
        run_demo(
            course_id=args.course,
            assignment_id=args.assignment,
            keep_running=args.keep_running,
            port=args.port,
            as_json=args.json,
            oauth=args.oauth,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
