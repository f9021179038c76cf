"""Settings, read from the environment or a ``.env`` file (pydantic-settings).

Every setting is documented in the README. Names are fixed (no prefix) so every process
of a deployment, API and worker alike, reads the same variables.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Where the embedded defaults keep their files (SQLite database, generated secrets).
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    # PEM public key of an external issuer (RS256/ES256); when set, access tokens are
    # verified with it instead of JWT_SECRET. Stream tokens are always ours (HS256).
    jwt_public_key: str | None = None
    jwt_issuer: str = "canvas-workspace"
    jwt_audience: str = "canvas-workspace-extension"
    access_token_ttl_seconds: int = 7 * 24 * 3600
    stream_token_ttl_seconds: int = 300
    credentials_keys: str | None = None

    canvas_allow_local: bool = False
    canvas_timeout_seconds: float = 20.0
    canvas_max_retries: int = 3
    canvas_backoff_seconds: float = 0.5
    canvas_backoff_max_seconds: float = 8.0
    canvas_per_page: int = 50

    attachment_max_file_bytes: int = 25 * MIB
    attachment_max_total_bytes: int = 60 * MIB
    attachment_max_files: int = 12
    attachment_max_pdf_pages: int = 300
    attachment_max_chars: int = 400_000
    attachment_timeout_seconds: float = 20.0
    attachment_max_docx_uncompressed_bytes: int = 150 * MIB
    extraction_cache_entries: int = 256

    llm_engine: str = "offline"

    job_concurrency: int = 4
    job_timeout_seconds: float = 300.0
    # A running job renews its lease every third of this; a job whose lease lapsed (its
    # worker died) is retried or failed by the reaper within about this long.
    job_lease_seconds: float = 30.0
    job_max_attempts: int = 3
    max_active_jobs_per_user: int = 3
    worker_max_jobs: int = 4

    event_retention: int = 1000
    sse_heartbeat_seconds: float = 15.0
    sse_max_stream_seconds: float = 3600.0

    submission_max_chars: int = 100_000

    rate_limit_enabled: bool = True
    rate_limit_onboarding_per_minute: int = 10
    rate_limit_start_per_minute: int = 30
    rate_limit_feedback_per_minute: int = 30

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite://{self.data_dir / 'canvas_workspace.sqlite3'}"

    @property
    def is_embedded(self) -> bool:
        """True when nothing production-grade is configured (SQLite, no Redis)."""
        return self.database_url is None and self.redis_url is None

    def credential_key_list(self) -> list[str]:
        return [key.strip() for key in (self.credentials_keys or "").split(",") if key.strip()]


class MissingSecretError(RuntimeError):
    pass


def ensure_secrets(settings: Settings) -> Settings:
    """Fill unset secrets: generated once and kept beside the SQLite file on embedded
    defaults; a production configuration must set them explicitly."""
    secret_values = {
        "JWT_SECRET": settings.jwt_secret,
        "CREDENTIALS_KEYS": settings.credentials_keys,
    }
    missing = [name for name, value in secret_values.items() if not value]
    if not missing:
        return settings
    if not settings.is_embedded:
        raise MissingSecretError(
            f"{' and '.join(missing)} must be set when DATABASE_URL or REDIS_URL is configured: "
            "every API and worker process has to share the same secrets."
        )
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    stored.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    stored.setdefault("CREDENTIALS_KEYS", Fernet.generate_key().decode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return settings.model_copy(
        update={
            "jwt_secret": settings.jwt_secret or stored["JWT_SECRET"],
            "credentials_keys": settings.credentials_keys or stored["CREDENTIALS_KEYS"],
        }
    )


@lru_cache
def get_settings() -> Settings:
    return ensure_secrets(Settings())


__all__ = ["MIB", "MissingSecretError", "Settings", "ensure_secrets", "get_settings"]
