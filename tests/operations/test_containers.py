"""The container definitions and installs: Docker cannot run here, so check what can be
checked without it: every command the compose file and the image run exists in the CLI and
parses, every setting they pass is a real setting, the image runs as a non-root user, the
API's health check asks /readyz, the base image is pinned by digest, and every install
comes from lock files that pin (with hashes) what pyproject.toml asks for."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    pinned = r"python:\d+\.\d+\.\d+-slim-\w+@sha256:[0-9a-f]{64}"
    assert re.fullmatch(pinned, base.group(1)), "pinned by version and digest, slim"
    users = re.findall(r"^USER (\S+)$", stages[-1], re.MULTILINE)
    assert users, "the final stage sets a USER"
    assert users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    created = re.search(rf"useradd .*--uid (\d+) {re.escape(users[-1])}\b", DOCKERFILE)
    assert created is not None and int(created.group(1)) >= 1000


def locked(lock: Path) -> dict[str, str]:
    """name -> version of a lock file's pins; each pin carries its hashes."""
    text = lock.read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE))
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", text)) >= len(pins) > 0
    return {canonicalize_name(name): version for name, version in pins.items()}


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements/runtime.lock", ()), ("requirements/dev.lock", ("dev",))],
)
def test_the_lock_files_pin_every_dependency_within_pyproject(lock, extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(text) for text in project["optional-dependencies"][extra]]
    pins = locked(ROOT / lock)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {lock}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {requirement.specifier}: run make lock"
        )
    if not extras:  # the image carries no development tool
        assert not {"pytest", "ruff", "mypy", "uv", "pip-audit"} & set(pins)


def test_installs_come_from_the_lock_files():
    assert "--require-hashes -r requirements/runtime.lock" in DOCKERFILE
    assert re.search(r"pip install [^\n]*--no-deps \.", DOCKERFILE)
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(DEV_LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make install" in ci and "make audit" in ci
