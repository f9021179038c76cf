"""The container definitions: Docker cannot run here, so check what can be checked without
it: every command the compose file and the image run exists in the CLI and parses, every
setting they pass is a real setting, the image runs as a non-root user, and the API's
health check asks /readyz."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from server.cli import build_parser
from server.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ("migrate", "api", "worker")


def parses(command: list[str]) -> bool:
    assert command[0] == "canvas-workspace", command
    try:
        build_parser().parse_args(command[1:])
    except SystemExit:
        return False
    return True


def test_compose_runs_postgres_redis_migrate_api_and_worker():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_compose_command_exists_in_the_cli(service):
    assert parses(COMPOSE["services"][service]["command"])


def test_the_image_command_exists_in_the_cli():
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert cmd is not None
    assert parses(json.loads(cmd.group(1)))
    assert not parses(["canvas-workspace", "no-such-command"])  # the check can fail


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_setting_compose_passes_is_a_setting(service):
    settings = {name.upper() for name in Settings.model_fields}
    assert set(COMPOSE["services"][service]["environment"]) <= settings


def test_the_api_health_check_asks_readyz_on_the_port_it_serves():
    api = COMPOSE["services"]["api"]
    command = api["command"]
    port = command[command.index("--port") + 1]
    probe = " ".join(api["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/readyz" in probe


def test_the_image_is_pinned_and_runs_as_a_non_root_user():
    stages = DOCKERFILE.split("\nFROM ")
    base = re.search(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base.group(1)), "pinned, slim"
    users = re.findall(r"^USER (\S+)$", stages[-1], re.MULTILINE)
    assert users, "the final stage sets a USER"
    assert users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    created = re.search(rf"useradd .*--uid (\d+) {re.escape(users[-1])}\b", DOCKERFILE)
    assert created is not None and int(created.group(1)) >= 1000
