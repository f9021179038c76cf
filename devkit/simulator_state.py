"""The simulator's state: what it serves (loaded from ``fixtures/canvas``), the requests it
recorded and the faults tests queued. Tests mutate it in-process; the HTTP apps are in
``devkit/canvas_simulator.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES_DIR = REPO_ROOT / "fixtures" / "canvas"
FIRST_ADDED_USER_ID = 9100


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    host: str  # the Host header, e.g. "127.0.0.1:5555" or "localhost:5556"
    server: str  # "canvas" or "files"
    has_authorization: bool
    authorization: str | None  # kept so tests can prove what (not) arrived where
    status: int | None = None  # of the answer, once it has started


@dataclass
class Fault:
    """A queued failure: the next ``times`` requests under ``path_prefix`` get it.

    ``status=None`` only delays, then serves normally (a slow Canvas).
    """

    path_prefix: str
    status: int | None
    times: int = 1
    retry_after: float | None = None
    body: str | None = None
    www_authenticate: bool = True
    delay: float = 0.0


@dataclass
class OAuthClientRecord:
    """A developer key: its secret and the redirect URIs (prefixes) it accepts."""

    secret: str
    redirect_uris: list[str]


@dataclass
class OAuthGrant:
    """One user's authorization of one developer key: an access and a refresh token."""

    client_id: str
    user: dict[str, Any]
    access_token: str
    refresh_token: str
    expires_at: float  # time.monotonic()


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    user: dict[str, Any]
    expires_at: float


@dataclass
class SimulatorState:
    """Everything the simulator serves and records; tests mutate it in-process."""

    users_by_token: dict[str, dict[str, Any]] = field(default_factory=dict)
    courses: dict[int, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[int, dict[str, Any]] = field(default_factory=dict)
    assignment_groups: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[int, dict[str, Any]] = field(default_factory=dict)
    pages: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    # Modules as the student sees them (``state: "locked"`` until prerequisites are met).
    modules: list[dict[str, Any]] = field(default_factory=list)
    files_dir: Path = REPO_ROOT / "fixtures" / "files"
    # Bytes served for a file id instead of fixtures/files/<filename>.
    file_bytes: dict[int, bytes] = field(default_factory=dict)
    # Serve file bytes without Content-Length (chunked), to test streaming limits.
    chunked_downloads: bool = False
    file_host_url: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    oauth_clients: dict[str, OAuthClientRecord] = field(default_factory=dict)
    # The Canvas user signed in to the browser that opens /login/oauth2/auth, and whether
    # they click "Authorize" there.
    browser_user: dict[str, Any] | None = None
    browser_approves: bool = True
    access_token_ttl: float = 3600.0  # seconds an OAuth access token lives, as Canvas's
    oauth_grants: list[OAuthGrant] = field(default_factory=list)
    authorization_codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    token_grant_types: list[str] = field(default_factory=list)  # of each token request
    # Relative fixture dates ("-7d", "+21d23:59") count from here, not from each request,
    # so the same assignment reads the same between two calls (as on a real Canvas).
    clock_origin: datetime = field(default_factory=lambda: datetime.now(UTC))

    # ----- test helpers -------------------------------------------------------------

    def add_user(
        self, token: str, name: str = "Test Student", *, time_zone: str | None = None
    ) -> dict[str, Any]:
        """A new Canvas user, reachable with ``token``, with a fresh id; ``time_zone`` is
        the user's own setting (None: the account's default, as in Canvas)."""
        taken = [user["id"] for user in self.users_by_token.values()]
        user_id = max([FIRST_ADDED_USER_ID - 1, *taken]) + 1
        user = _user_object(user_id, name, time_zone)
        self.users_by_token[token] = user
        return user

    def copy_assignment(self, assignment_id: int, **changes: Any) -> dict[str, Any]:
        """A new assignment like ``assignment_id`` with a fresh id and ``changes``
        (e.g. ``course_id``, ``due_at``), so a test can change it without touching the
        fixtures other tests read."""
        new_id = max(self.assignments) + 1
        copy = {**json.loads(json.dumps(self.assignments[assignment_id])), **changes}
        copy["id"] = new_id
        self.assignments[new_id] = copy
        return copy

    def edit_assignment(self, assignment_id: int, **changes: Any) -> dict[str, Any]:
        """What a teacher's edit does: the fields change and ``updated_at`` becomes now."""
        assignment = self.assignments[assignment_id]
        assignment.update(changes)
        assignment["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return assignment

    def fail(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        body: str | None = None,
        www_authenticate: bool = True,
        delay: float = 0,
    ) -> None:
        """Answer the next ``times`` requests under ``path_prefix`` with ``status``.

        403 answers with Canvas's rate-limit body unless ``body`` is given; a 2xx
        status with a ``body`` serves that body as it is (e.g. broken JSON).
        """
        self.faults.append(
            Fault(path_prefix, status, times, retry_after, body, www_authenticate, delay)
        )

    def slow(self, path_prefix: str, delay: float, *, times: int = 1) -> None:
        """Delay the next ``times`` requests under ``path_prefix``, then serve them."""
        self.faults.append(Fault(path_prefix, None, times, delay=delay))

    def requests_to(self, server: str, path_prefix: str = "/") -> list[RecordedRequest]:
        return [r for r in self.requests if r.server == server and r.path.startswith(path_prefix)]

    def add_oauth_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> None:
        self.oauth_clients[client_id] = OAuthClientRecord(secret, redirect_uris)

    def authorize_as(self, user: dict[str, Any] | None, *, approve: bool = True) -> None:
        """Who is signed in to Canvas in the browser, and whether they authorize the key."""
        self.browser_user = user
        self.browser_approves = approve

    def grants_of(self, user_id: int) -> list[OAuthGrant]:
        return [grant for grant in self.oauth_grants if grant.user["id"] == user_id]

    def expire_access_tokens(self, user_id: int) -> None:
        """As if an hour had passed: the user's OAuth access tokens are expired."""
        for grant in self.grants_of(user_id):
            grant.expires_at = 0.0

    def revoke_grants(self, user_id: int) -> None:
        """As if the user removed the authorization in their Canvas settings, or an
        administrator deleted the user's tokens: access and refresh token are gone."""
        self.oauth_grants = [g for g in self.oauth_grants if g.user["id"] != user_id]

    def refresh_count(self) -> int:
        return self.token_grant_types.count("refresh_token")

    def user_for_token(self, token: str) -> dict[str, Any] | None:
        """The user of a personal token, or of an OAuth access token that has not expired."""
        if token in self.users_by_token:
            return self.users_by_token[token]
        grant = self.grant_for_access_token(token)
        if grant is not None and grant.expires_at > time.monotonic():
            return grant.user
        return None

    def grant_for_access_token(self, token: str) -> OAuthGrant | None:
        return next((g for g in self.oauth_grants if g.access_token == token), None)

    def issue_tokens(self, grant: OAuthGrant) -> None:
        """New access and refresh tokens for a new ``grant`` (``AccessToken`` creation)."""
        grant.refresh_token = f"oauth-refresh-{secrets.token_hex(12)}"
        self.regenerate_access_token(grant)

    def regenerate_access_token(self, grant: OAuthGrant) -> None:
        """A refresh: a new access token, the old one stops working; the refresh token
        stays (Canvas's ``AccessToken#regenerate_access_token``)."""
        grant.access_token = f"oauth-access-{secrets.token_hex(12)}"
        grant.expires_at = time.monotonic() + self.access_token_ttl

    # ----- used by the apps ---------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path_prefix) and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def sign(self, file_id: int) -> str:
        return hmac.new(self.signing_key, str(file_id).encode(), hashlib.sha256).hexdigest()[:32]

    def verifier(self, file_id: int) -> str:
        return self.sign(-file_id)  # a different value from the file-host signature

    def blob(self, file_id: int) -> bytes | None:
        if file_id in self.file_bytes:
            return self.file_bytes[file_id]
        meta = self.files.get(file_id)
        if meta is None:
            return None
        path = self.files_dir / meta["filename"]
        return path.read_bytes() if path.is_file() else None


def _user_object(user_id: int, name: str, time_zone: str | None) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    return {
        "id": user_id,
        "name": name,
        "sortable_name": f"{last}, {first}" if last else name,
        "short_name": first or name,
        "locale": "en",
        "effective_locale": "en",
        "time_zone": time_zone,
    }


def load_state(fixtures_dir: Path | None = None, files_dir: Path | None = None) -> SimulatorState:
    """A fresh state from ``fixtures/canvas/*.json``."""
    fixtures_dir = fixtures_dir or DEFAULT_FIXTURES_DIR
    files_dir = files_dir or fixtures_dir.parent / "files"

    def read(name: str) -> Any:
        return json.loads((fixtures_dir / name).read_text(encoding="utf-8"))

    users = {}
    for entry in read("users.json"):
        user = {key: value for key, value in entry.items() if key != "token"}
        users[entry["token"]] = user
    groups = {int(course): items for course, items in read("assignment_groups.json").items()}
    return SimulatorState(
        users_by_token=users,
        courses={c["id"]: c for c in read("courses.json")},
        assignments={a["id"]: a for a in read("assignments.json")},
        assignment_groups=groups,
        files={f["id"]: f for f in read("files.json")},
        pages={(p["course_id"], p["url"]): p for p in read("pages.json")},
        modules=read("modules.json"),
        files_dir=files_dir,
    )


__all__ = [
    "DEFAULT_FIXTURES_DIR",
    "REPO_ROOT",
    "AuthorizationCode",
    "Fault",
    "OAuthClientRecord",
    "OAuthGrant",
    "RecordedRequest",
    "SimulatorState",
    "load_state",
]
