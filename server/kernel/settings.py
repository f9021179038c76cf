"""Settings, read from the environment or a ``.env`` file (pydantic-settings).

Every setting is documented in the README. Names are fixed (no prefix) so every process
of a deployment, API and worker alike, reads the same variables.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024


class CanvasOAuthClient(BaseModel):
    """A Canvas developer key (API key) an institution issued for this service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    # The secret encrypted with CREDENTIALS_KEYS (`canvas-workspace encrypt-secret`), so the
    # configuration at rest holds no plain secret.
    client_secret_encrypted: str | None = None
    # Where the browser extension may be sent back to (exact match), e.g. the
    # https://<extension-id>.chromiumapp.org/ address chrome.identity gives it.
    redirect_uris: list[str] = Field(min_length=1)
    # Only when the developer key enforces scopes; sent space-separated as Canvas wants.
    scopes: list[str] = []

    @model_validator(mode="after")
    def _exactly_one_secret(self) -> CanvasOAuthClient:
        if (self.client_secret is None) == (self.client_secret_encrypted is None):
            raise ValueError("set exactly one of client_secret and client_secret_encrypted")
        return self

    @field_validator("redirect_uris")
    @classmethod
    def _absolute_redirect_uris(cls, uris: list[str]) -> list[str]:
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
                raise ValueError(f"redirect URI {uri!r} must be an absolute http(s) URL")
        return uris


REMINDER_PATTERN = r"^(off|([01][0-9]|2[0-3]):[0-5][0-9])$"


def browser_origin(value: str) -> str:
    """An exact browser origin as browsers send it in ``Origin``: scheme and host in
    lowercase, no path, no default port (``chrome-extension://<id>``, ``https://x.edu``)."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        not parts.scheme
        or not parts.hostname
        or port == -1
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"ALLOWED_ORIGINS entry {value!r} must be an exact origin such as "
            "chrome-extension://<id> or https://dashboard.example.edu (no path, no '*')"
        )
    scheme = parts.scheme.lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    host = parts.hostname
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default_port) else "")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Where the embedded defaults keep their files (SQLite database, generated secrets).
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # "json": one JSON object a line (production); "text" for reading in a terminal.
    log_format: Literal["json", "text"] = "json"

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
    # An OAuth access token that expires within this many seconds is renewed before a job
    # uses it (Canvas's live about an hour), not only after Canvas refuses it.
    canvas_token_renew_margin_seconds: float = 300.0
    # How long a resume waits for Canvas when comparing the plan's sources with it; past
    # this the answer says the comparison could not be made (the plan is still served).
    canvas_check_timeout_seconds: float = 10.0
    # Canvas host (as in its address: "school.instructure.com", with ":port" when not the
    # default) -> the developer key for signing in with Canvas OAuth2 there.
    canvas_oauth_clients: dict[str, CanvasOAuthClient] = {}
    # This service's public address (https://api.example.edu); the OAuth callback URL is
    # built from it. Unset: taken from each request (fine behind no proxy, or --proxy-headers).
    public_base_url: str | None = None
    # Browser origins allowed to call this service (CORS on REST and SSE, the GraphQL
    # websocket's Origin check): exact origins, comma-separated. None by default.
    allowed_origins: Annotated[list[str], NoDecode] = []

    attachment_max_file_bytes: int = 25 * MIB
    attachment_max_total_bytes: int = 60 * MIB
    attachment_max_files: int = 12
    attachment_max_pdf_pages: int = 300
    attachment_max_chars: int = 400_000
    attachment_timeout_seconds: float = 20.0
    attachment_max_docx_uncompressed_bytes: int = 150 * MIB
    # Unpacked:packed size of a DOCX beyond which it is a zip bomb (real ones are 3-20:1).
    attachment_max_compression_ratio: int = 100
    # Address space of each extraction process (RLIMIT_AS), interpreter and parsers
    # (about 100 MB) included.
    attachment_max_memory_bytes: int = 1024 * MIB
    # Extraction processes kept warm; at most this many files are parsed at once.
    attachment_extraction_workers: int = 2
    extraction_cache_entries: int = 256

    # The language of every plan and its feedback (e.g. "es"); unset follows each
    # student's Canvas locale. A start request's ?language= overrides both.
    plan_language: str | None = None

    llm_engine: Literal["offline", "openai"] = "offline"
    # Any OpenAI-compatible endpoint (Azure's /openai/v1/, Ollama, vLLM, LM Studio); unset
    # is api.openai.com. Local servers take any non-empty key.
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    llm_model: str = "gpt-4.1-mini"
    # Per stage; unset uses LLM_MODEL. "draft" also makes the combined distill+draft call.
    llm_model_distill: str | None = None
    llm_model_draft: str | None = None
    llm_model_verify: str | None = None
    llm_model_feedback: str | None = None
    llm_timeout_seconds: float = 120.0
    llm_max_retries: int = 2
    # "json_object" for servers without strict JSON-schema output (llama.cpp); with
    # "json_schema" a server that rejects it is switched to json_object by itself.
    llm_response_format: Literal["json_schema", "json_object"] = "json_schema"
    llm_max_output_tokens: int = 8000
    # Prompt plus completion tokens one job may spend on model calls (per attempt).
    llm_job_token_budget: int = 60_000
    # Source text (description, files, rubric) sent to the model; longer sources are cut
    # to this by relevance, and the plan lists what was left out.
    llm_source_token_budget: int = 12_000
    # Sources up to this size are distilled and drafted in one call; longer ones get a
    # distill call, then a draft call that sees only the distilled requirements.
    llm_combined_call_max_source_tokens: int = 8_000
    # When the model's answer stays unusable after its retries (invalid output, refusal,
    # cut off, timeout, unavailable, rate limited), "offline" gives the student the offline
    # engine's plan with a warning; "none" fails the job. Configuration errors (a rejected
    # key, an unknown model) fail the job either way.
    llm_fallback: Literal["offline", "none"] = "offline"

    job_concurrency: int = 4
    job_timeout_seconds: float = 300.0
    # A running job renews its lease every third of this; a job whose lease lapsed (its
    # worker died) is retried or failed by the reaper within about this long.
    job_lease_seconds: float = 30.0
    job_max_attempts: int = 3
    max_active_jobs_per_user: int = 3
    worker_max_jobs: int = 4
    # An idle worker is woken when a job is enqueued; it also looks at the queue this often,
    # for a wake-up lost while Redis reconnected.
    worker_poll_seconds: float = 0.5
    # A worker serves its Prometheus metrics on http://HOST:<this>/metrics; unset: not at all.
    worker_metrics_port: int | None = None

    event_retention: int = 1000
    sse_heartbeat_seconds: float = 15.0
    sse_max_stream_seconds: float = 3600.0

    # Limits of the public GraphQL API (graphql_api/limits.py explains the cost).
    graphql_max_depth: int = 10
    graphql_max_cost: int = 50_000
    graphql_max_subscriptions_per_connection: int = 10

    submission_max_chars: int = 100_000

    # The agenda's daily work budget across assignments; each student can set their own.
    agenda_hours_per_day: float = Field(default=2.0, gt=0, le=24)
    # Minutes counted for a task whose plan gives no usable effort estimate.
    agenda_default_task_minutes: int = Field(default=60, ge=1)
    # When the calendar feed's alarms go off: "HH:MM" local time on the day before a
    # milestone, or "off"; each student can set their own.
    calendar_reminder: str = Field(default="18:00", pattern=REMINDER_PATTERN)

    rate_limit_enabled: bool = True
    rate_limit_onboarding_per_minute: int = 10
    rate_limit_start_per_minute: int = 30
    rate_limit_feedback_per_minute: int = 30

    @model_validator(mode="after")
    def _openai_engine_has_a_key(self) -> Settings:
        if self.llm_engine == "openai" and not self.openai_api_key:
            raise ValueError(
                "LLM_ENGINE=openai needs OPENAI_API_KEY (any non-empty value for servers "
                "without keys, such as Ollama, vLLM or LM Studio)"
            )
        return self

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _exact_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [browser_origin(str(origin)) for origin in value]
        return value

    @field_validator("canvas_oauth_clients")
    @classmethod
    def _keys_are_hosts(cls, clients: dict[str, CanvasOAuthClient]) -> dict[str, CanvasOAuthClient]:
        for host in clients:
            if not host or any(c in host for c in "/@ ") or host != host.lower():
                raise ValueError(
                    f"CANVAS_OAUTH_CLIENTS key {host!r} must be a lowercase host[:port], no scheme"
                )
        return clients

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite://{self.data_dir / 'canvas_workspace.sqlite3'}"

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

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


__all__ = [
    "MIB",
    "CanvasOAuthClient",
    "MissingSecretError",
    "Settings",
    "ensure_secrets",
    "get_settings",
]
