"""The ``canvas-workspace`` command: serve the API, run workers, migrate, mint a dev token,
print the settings, export the OpenAPI and GraphQL contracts. (The demo is a development
tool: ``python -m devkit demo`` from a checkout.)"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import uvicorn

from server.kernel.settings import MissingSecretError, Settings, get_settings

SDL_PATH = Path(__file__).resolve().parent.parent / "graphql_api" / "schema.graphql"
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "contract" / "openapi.json"
# Setting names that hold secrets (JWT_SECRET, CREDENTIALS_KEYS, client_secret, *_API_KEY);
# not *_TOKEN_TTL_SECONDS.
_SECRET_SETTING = re.compile(r"(secret|password|_keys?)($|_)", re.IGNORECASE)


def _serve(args: argparse.Namespace) -> int:
    from server.app import create_app
    from server.kernel.logs import configure_logging
    from server.kernel.loops import loop_name

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,  # the app logs each request itself, with its request id
        loop=loop_name(),
        proxy_headers=args.proxy_headers,
        # No permessage-deflate on websockets: its compressor and decompressor keep some
        # 50 KiB of zlib state per connection for as long as it is open, to compress
        # GraphQL messages of a few hundred bytes.
        ws_per_message_deflate=False,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from server.kernel.logs import configure_logging

    settings = get_settings()
    if not settings.redis_url:
        print(
            "canvas-workspace worker: set REDIS_URL (workers take jobs from Redis)", file=sys.stderr
        )
        return 2
    configure_logging(settings.log_level, settings.log_format)
    from jobs.worker import create_worker
    from server.kernel.loops import new_event_loop
    from server.kernel.metrics import serve_worker_metrics

    if settings.worker_metrics_port is not None:
        serve_worker_metrics(settings.host, settings.worker_metrics_port)
    asyncio.set_event_loop(new_event_loop())  # arq runs on the loop set here
    create_worker().run()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from server.kernel.db import apply_migrations
    from server.kernel.settings import Settings

    applied = asyncio.run(apply_migrations(Settings()))  # needs no secrets
    print("\n".join(f"applied {name}" for name in applied) or "the database is up to date")
    return 0


def _token(args: argparse.Namespace) -> int:
    from server.kernel.auth import mint_access_token

    token, expires_at = mint_access_token(get_settings(), args.user_id)
    print(token)
    print(f"expires at {expires_at.isoformat()}", file=sys.stderr)
    return 0


def _encrypt_secret(args: argparse.Namespace) -> int:
    from server.kernel.credentials import TokenCipher

    secret = sys.stdin.readline().strip()
    if not secret:
        print("canvas-workspace: give the secret on standard input", file=sys.stderr)
        return 2
    print(TokenCipher(get_settings().credential_key_list()).encrypt(secret))
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from graphql_api.schema import schema_sdl

    args.output.write_text(schema_sdl(), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _export_openapi(args: argparse.Namespace) -> int:
    from rest.openapi import openapi_json
    from server.app import create_app

    # The document does not depend on the deployment: built from the defaults, no secrets.
    args.output.write_text(openapi_json(create_app(Settings(_env_file=None))), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _masked(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _masked(key, item) for key, item in value.items()}
    if value is None or value == "":
        return value
    if _SECRET_SETTING.search(name):
        return "***"
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def describe_settings(settings: Settings) -> str:
    """``NAME=value`` lines, secrets masked, defaults marked."""
    values = settings.model_dump(mode="json")
    lines = []
    for name, value in values.items():
        shown = _masked(name, value)
        text = shown if isinstance(shown, str) else json.dumps(shown)
        default = "" if name in settings.model_fields_set else "  # default"
        lines.append(f"{name.upper()}={'' if shown is None else text}{default}")
    return "\n".join(lines)


def _config(args: argparse.Namespace) -> int:
    print(describe_settings(Settings()))  # what is configured, not the generated secrets
    return 0


DETAILS = {
    "serve": "Settings come from the environment or a .env file (canvas-workspace config "
    "prints them). Logs go to standard error, one JSON object a line (LOG_FORMAT=text for a "
    "terminal). /healthz says the process is alive, /readyz that the database, Redis and "
    "migrations are ready, /metrics has Prometheus metrics. Run several behind a proxy "
    "against PostgreSQL and Redis; embedded defaults (SQLite, jobs in this process) otherwise.",
    "worker": "Runs planning and feedback jobs from the arq queue in Redis, WORKER_MAX_JOBS "
    "at a time; run as many as needed. With WORKER_METRICS_PORT set it serves its own "
    "Prometheus metrics on http://HOST:WORKER_METRICS_PORT/metrics.",
    "migrate": "Applies the aerich migrations DATABASE_URL has not seen yet (run it before "
    "each deploy; /readyz stays 503 until it has run). SQLite needs none: the embedded "
    "database is created from the models.",
    "token": "Prints the token on standard output and its expiry on standard error. It is "
    "signed with this deployment's JWT_SECRET, so run it with the same settings as the API.",
    "config": "Shows each setting as NAME=value, marking the defaults; secrets and the "
    "passwords in URLs are masked. Unset secrets on embedded defaults are generated at the "
    "first start (DATA_DIR/secrets.json), not shown here.",
    "export-openapi": "The contract of the REST API and the SSE stream for the browser "
    "extension (its TypeScript types are generated from this file; see contract/). A test "
    "fails when the checked-in file differs from the code: run this after changing a route.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canvas-workspace",
        description="Canvas Workspace: Canvas assignments turned into verified plans.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add_command(name: str, *, help: str) -> argparse.ArgumentParser:
        """A command whose own --help says what it does, and the details that matter."""
        paragraphs = [f"{help[0].upper()}{help[1:]}.", DETAILS.get(name, "")]
        return commands.add_parser(
            name,
            help=help,
            description="\n\n".join(textwrap.fill(text, 88) for text in paragraphs if text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = add_command("serve", help="run the API server (settings from env/.env)")
    serve.add_argument("--host", help="bind address (default: HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT, 8000)")
    serve.add_argument(
        "--proxy-headers", action="store_true", help="trust X-Forwarded-* from a reverse proxy"
    )
    serve.set_defaults(handler=_serve)

    worker = add_command(
        "worker", help="run an arq worker: takes planning jobs from Redis (needs REDIS_URL)"
    )
    worker.set_defaults(handler=_worker)

    migrate = add_command(
        "migrate", help="apply the aerich migrations to DATABASE_URL (PostgreSQL)"
    )
    migrate.set_defaults(handler=_migrate)

    token = add_command("token", help="mint a backend JWT for a user id (development and support)")
    token.add_argument("user_id", type=int)
    token.set_defaults(handler=_token)

    encrypt_secret = add_command(
        "encrypt-secret",
        help="encrypt a secret read from standard input with CREDENTIALS_KEYS (for "
        "client_secret_encrypted in CANVAS_OAUTH_CLIENTS)",
    )
    encrypt_secret.set_defaults(handler=_encrypt_secret)

    export_schema = add_command(
        "export-schema", help="write the GraphQL schema (SDL) to graphql_api/schema.graphql"
    )
    export_schema.add_argument(
        "--output", type=Path, default=SDL_PATH, help=f"where to write it (default {SDL_PATH})"
    )
    export_schema.set_defaults(handler=_export_schema)

    export_openapi = add_command(
        "export-openapi", help="write the OpenAPI document, the REST and SSE contract, to a file"
    )
    export_openapi.add_argument(
        "--output",
        type=Path,
        default=OPENAPI_PATH,
        help=f"where to write it (default {OPENAPI_PATH})",
    )
    export_openapi.set_defaults(handler=_export_openapi)

    config = add_command("config", help="print the settings in effect, secrets masked")
    config.set_defaults(handler=_config)
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
