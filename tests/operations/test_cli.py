"""The operator's command: every command the issue names exists and explains itself, and
`config` prints the settings with every secret masked."""

from __future__ import annotations

import json

import pytest

from server.cli import build_parser, main

COMMANDS = ("serve", "worker", "migrate", "token", "export-openapi", "export-schema")


@pytest.mark.parametrize("command", [*COMMANDS, "config"])
def test_each_command_has_a_help_that_explains_it(command, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([command, "--help"])
    assert exited.value.code == 0
    usage, _, explanation = capsys.readouterr().out.partition("\n\n")
    assert usage.startswith(f"usage: canvas-workspace {command}")
    assert len(explanation.split("options:")[0].split()) >= 5, explanation


def test_config_prints_the_settings_with_secrets_masked(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    secrets = {
        "JWT_SECRET": "jwt-secret-value-123",
        "CREDENTIALS_KEYS": "fernet-key-value-456",
        "DATABASE_URL": "postgres://canvas:db-password-789@db.internal:5432/canvas",
        "REDIS_URL": "redis://:redis-password-012@redis.internal:6379/0",
    }
    oauth = {
        "school.instructure.com": {
            "client_id": "10000000000001",
            "client_secret": "oauth-secret-345",
            "redirect_uris": ["https://ext.chromiumapp.org/"],
        }
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CANVAS_OAUTH_CLIENTS", json.dumps(oauth))
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    for secret in ("jwt-secret-value-123", "fernet-key-value-456", "db-password-789"):
        assert secret not in out
    assert "redis-password-012" not in out and "oauth-secret-345" not in out
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines["JWT_SECRET"] == "***"
    assert lines["DATABASE_URL"] == "postgres://canvas:***@db.internal:5432/canvas"
    assert lines["LOG_LEVEL"] == "DEBUG"  # set, so not marked as a default
    assert lines["PORT"] == "8000  # default"
    assert lines["ACCESS_TOKEN_TTL_SECONDS"].startswith("604800")  # "token" is not a secret
    assert "10000000000001" in lines["CANVAS_OAUTH_CLIENTS"]  # the client id is no secret


def test_the_demo_is_a_development_tool_not_a_service_command(capsys):
    # The demo needs the checkout's fixtures, so the installed command does not offer it.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo"])
    assert "invalid choice: 'demo'" in capsys.readouterr().err
    from devkit.__main__ import main as devkit_main

    with pytest.raises(SystemExit) as exited:
        devkit_main(["demo", "--help"])
    assert exited.value.code == 0
    assert "--assignment" in capsys.readouterr().out
