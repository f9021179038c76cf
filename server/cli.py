"""The ``canvas-workspace`` command: serve the API, run the demo, mint a dev token."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from server.settings import MissingSecretError, get_settings

SDL_PATH = Path(__file__).resolve().parent.parent / "graphql_api" / "schema.graphql"


def _serve(args: argparse.Namespace) -> int:
    from server.app import create_app
    from server.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        proxy_headers=args.proxy_headers,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from server.logs import configure_logging

    settings = get_settings()
    if not settings.redis_url:
        print(
            "canvas-workspace worker: set REDIS_URL (workers take jobs from Redis)", file=sys.stderr
        )
        return 2
    configure_logging(settings.log_level)
    from jobs.worker import create_worker

    create_worker().run()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from server.db import apply_migrations
    from server.settings import Settings

    applied = asyncio.run(apply_migrations(Settings()))  # needs no secrets
    print("\n".join(f"applied {name}" for name in applied) or "the database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from server.demo import run_demo

    return asyncio.run(
        run_demo(
            course_id=args.course,
            assignment_id=args.assignment,
            keep_running=args.keep_running,
            port=args.port,
            as_json=args.json,
        )
    )


def _token(args: argparse.Namespace) -> int:
    from server.auth import mint_access_token

    token, expires_at = mint_access_token(get_settings(), args.user_id)
    print(token)
    print(f"expires at {expires_at.isoformat()}", file=sys.stderr)
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from graphql_api.schema import schema_sdl

    args.output.write_text(schema_sdl(), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canvas-workspace",
        description="Canvas Workspace: Canvas assignments turned into verified plans.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server (settings from env/.env)")
    serve.add_argument("--host", help="bind address (default: HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT, 8000)")
    serve.add_argument(
        "--proxy-headers", action="store_true", help="trust X-Forwarded-* from a reverse proxy"
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run an arq worker: takes planning jobs from Redis (needs REDIS_URL)"
    )
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser(
        "migrate", help="apply the aerich migrations to DATABASE_URL (PostgreSQL)"
    )
    migrate.set_defaults(handler=_migrate)

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
    demo.set_defaults(handler=_demo)

    token = commands.add_parser(
        "token", help="mint a backend JWT for a user id (development and support)"
    )
    token.add_argument("user_id", type=int)
    token.set_defaults(handler=_token)

    export_schema = commands.add_parser(
        "export-schema", help="write the GraphQL schema (SDL) to graphql_api/schema.graphql"
    )
    export_schema.add_argument(
        "--output", type=Path, default=SDL_PATH, help=f"where to write it (default {SDL_PATH})"
    )
    export_schema.set_defaults(handler=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except MissingSecretError as exc:
        print(f"canvas-workspace: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
