"""A fake Slack Web API served over real HTTP on 127.0.0.1, for tests.

Point slack_sdk at it with ``WebClient(base_url=fake.url, token="xoxb-test")``. Every request is
recorded as a :class:`Call`; answers imitate Slack's shapes and can be scripted with
:meth:`FakeSlackAPI.queue`, :meth:`FakeSlackAPI.fail_when` and :meth:`FakeSlackAPI.set_latency`.

This module does not depend on pytest.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
TEAM_NAME = "Test"
APP_ID = "A0001"
# The app's OAuth credentials the fake's OpenID Connect endpoints accept.
OIDC_CLIENT_ID = "1111.2222"
OIDC_CLIENT_SECRET = "fake-oidc-client-secret"
DEFAULT_TZ = "Europe/London"
UPLOAD = "upload"
"""Pseudo method name under which uploads to ``upload_url`` can be queued."""
WEBHOOK = "webhook"
"""Pseudo method name of calls to :meth:`FakeSlackAPI.response_url` URLs (respond())."""

JsonDict = dict[str, Any]
Predicate = Callable[[JsonDict], bool]


def dm_channel_id(user_id: str) -> str:
    """Return the DM channel id this fake uses for a user (``"D" + user_id``)."""
    return f"D{user_id}"


@dataclass(frozen=True)
class FilePart:
    """One file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One recorded HTTP request to the fake Web API."""

    method: str
    params: JsonDict
    headers: dict[str, str]
    timestamp: float
    http_method: str = "POST"
    body: bytes = b""
    path: str = ""
    files: dict[str, FilePart] = field(default_factory=dict)
    refused: bool = False  # answered 429 (a rate limit)

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return a request header by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    @property
    def token(self) -> str | None:
        """Return the token sent as a Bearer header or a ``token`` parameter."""
        auth = self.header("Authorization")
        if auth and auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.params.get("token")
        return str(token) if token is not None else None

    @property
    def content_type(self) -> str:
        """Return the request's media type without parameters (e.g. ``application/json``)."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json_field(self, name: str, default: Any = None) -> Any:
        """Return a parameter, JSON-decoding it first if it was sent as a string."""
        value = self.params.get(name, default)
        if isinstance(value, str | bytes):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass(frozen=True)
class Upload:
    """Bytes POSTed to an ``upload_url`` handed out by ``files.getUploadURLExternal``."""

    file_id: str
    data: bytes
    headers: dict[str, str]
    timestamp: float


@dataclass(frozen=True)
class _Scripted:
    body: JsonDict
    status: int
    headers: dict[str, str]
    text: str | None = None


@dataclass(frozen=True)
class _FailRule:
    predicate: Predicate
    error: str
    status: int = 200


class WaitTimeout(AssertionError):
    """Raised when :meth:`FakeSlackAPI.wait_for` gives up."""


def _parse_form(text: str) -> JsonDict:
    return dict(parse_qsl(text, keep_blank_values=True))


def _header_param(header: str, name: str) -> str | None:
    for piece in header.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def _parse_multipart(content_type: str, body: bytes) -> tuple[JsonDict, dict[str, FilePart]]:
    boundary = _header_param(content_type, "boundary")
    if not boundary:
        return {}, {}
    params: JsonDict = {}
    files: dict[str, FilePart] = {}
    for chunk in body.split(b"--" + boundary.encode("latin-1")):
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        if not chunk or chunk.startswith(b"--"):
            continue
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        raw_headers, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _header_param(disposition, "name")
        if name is None:
            continue
        filename = _header_param(disposition, "filename")
        if filename is None:
            params[name] = data.decode("utf-8", "replace")
        else:
            files[name] = FilePart(filename, headers.get("content-type"), data)
    return params, files


def _parse_body(content_type: str, body: bytes) -> tuple[JsonDict, dict[str, FilePart]]:
    if not body:
        return {}, {}
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        decoded = json.loads(body.decode("utf-8"))
        return (decoded if isinstance(decoded, dict) else {"_json": decoded}), {}
    if media_type == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return _parse_form(body.decode("utf-8", "replace")), {}


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tz_offset(tz_name: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz_name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _tz_label(tz_name: str) -> str:
    try:
        return datetime.now(ZoneInfo(tz_name)).tzname() or tz_name
    except (ZoneInfoNotFoundError, ValueError):
        return tz_name


# conversations.history's page size for apps not in the Slack Marketplace.
HISTORY_PAGE_CAP = 15


class FakeSlackAPI:
    """A threaded HTTP server imitating the parts of Slack's Web API LearnLoop uses."""

    def __init__(self) -> None:
        """Create a stopped fake; call :meth:`start` or use it as a context manager."""
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._uploads: list[Upload] = []
        self._errors: list[str] = []
        self._queued: dict[str, deque[_Scripted]] = {}
        self._rules: dict[str, list[_FailRule]] = {}
        self._latency = 0.0
        self._users: dict[str, JsonDict] = {}
        self._members: dict[str, tuple[list[str], int | None]] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._emails: dict[str, str] = {}  # users.lookupByEmail: address -> user id
        self._channels: dict[str, JsonDict] = {}
        self._pending_files: dict[str, JsonDict] = {}
        self._home_views: dict[str, str] = {}
        # What was really posted (per channel), rate limits and random server errors.
        self._history: dict[str, list[JsonDict]] = {}
        self._limits: dict[str, list[float]] = {}  # method -> [rate, tokens, last refill]
        # Per-conversation limits: method -> (rate, burst); (method, channel) -> its bucket.
        self._channel_limits: dict[str, tuple[float, float]] = {}
        self._channel_buckets: dict[tuple[str, str], list[float]] = {}
        self._windows: dict[str, tuple[float, deque[float]]] = {}  # sliding-window limits
        # Per-workspace limits, told apart by the bot token: (method, token) -> bucket.
        self._token_limits: dict[tuple[str, str], list[float]] = {}
        # A workspace that takes `after` calls, then refuses every call for `seconds` (one
        # Retry-After): (method, token) -> [after, seconds, accepted so far, held until].
        self._lockouts: dict[tuple[str, str], list[float]] = {}
        self._flaky: dict[str, tuple[float, int, random.Random]] = {}
        self._slow: dict[str, deque[float]] = {}
        self._token_latency: dict[str, float] = {}
        # Requests being answered now, and the most ever answered at once, per method.
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Sign in with Slack (OpenID Connect): who consents on the authorize page, the codes
        # handed out (code -> user, nonce) and the access tokens they became (token -> user).
        self._oidc_user: str | None = None
        self._oidc_codes: dict[str, tuple[str, str]] = {}
        self._oidc_tokens: dict[str, str] = {}
        # The ID tokens' signing key: an RSA key made when first needed, never a file, and
        # published at /openid/connect/keys; what a test changes in the next ID tokens.
        self._oidc_key: Any = None
        self._oidc_kid = f"fake-{random.randrange(1 << 30):x}"
        self._oidc_changes: JsonDict = {}
        self._oidc_foreign_key = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlackAPI:
        """Start serving on 127.0.0.1 (ephemeral port) in a daemon thread."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the bound TCP port (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeSlackAPI is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Return the Web API base URL for ``WebClient(base_url=...)``."""
        return f"{self.root_url}/api/"

    def response_url(self, name: str = "1") -> str:
        """Return a response_url on this server; POSTs to it are recorded as ``"webhook"``."""
        return f"{self.root_url}/webhook/{name}"

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Return recorded calls, optionally only those of one API method."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def last(self, method: str) -> Call:
        """Return the most recent call of a method; raise AssertionError if there is none."""
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no {method} call recorded; got {self._method_names()}")
        return found[-1]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 20.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` (that ``where`` accepts, if given)
        were recorded; return them.

        Work done after an acknowledgement (a summary with its chart, say) can take seconds on
        a loaded machine: the wait is generous because it only bounds how long a failing test
        takes, never how fast a passing one must be.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"recorded: {self._method_names()}"
                    )
                self._cond.wait(min(remaining, 0.05))

    def messages(self, channel: str | None = None) -> list[JsonDict]:
        """Return messages chat.postMessage really posted (not refused), oldest first."""
        with self._cond:
            if channel is not None:
                return list(self._history.get(self._resolve_channel(channel), []))
            return sorted(
                (m for msgs in self._history.values() for m in msgs), key=lambda m: m["ts"]
            )

    def uploads(self, file_id: str | None = None) -> list[Upload]:
        """Return bytes received on upload URLs, optionally for one file id."""
        with self._cond:
            return [u for u in self._uploads if file_id is None or u.file_id == file_id]

    @property
    def errors(self) -> list[str]:
        """Return internal errors of the fake (e.g. a fail_when predicate that raised)."""
        with self._cond:
            return list(self._errors)

    def reset(self) -> None:
        """Forget recorded calls and uploads (scripted faults and data are kept)."""
        with self._cond:
            self._calls.clear()
            self._uploads.clear()
            self._errors.clear()

    def _method_names(self) -> list[str]:
        with self._cond:
            return [c.method for c in self._calls]

    # ------------------------------------------------------------------ scripting

    def queue(
        self,
        method: str,
        body: JsonDict,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue a one-shot response for ``method``; queued answers are used FIFO."""
        with self._cond:
            self._queued.setdefault(method, deque()).append(
                _Scripted(dict(body), status, dict(headers or {}))
            )

    def fail_when(self, method: str, predicate: Predicate, error: str, status: int = 200) -> None:
        """Answer ``{"ok": false, "error": error}`` whenever ``predicate(params)`` is true.

        ``status`` sets the HTTP status of that answer (e.g. 500 for a server error).
        """
        with self._cond:
            self._rules.setdefault(method, []).append(_FailRule(predicate, error, status))

    def clear_faults(self) -> None:
        """Drop queued responses, fail_when rules and latency."""
        with self._cond:
            self._queued.clear()
            self._rules.clear()
            self._latency = 0.0

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``."""
        with self._cond:
            self._latency = max(0.0, float(seconds))

    def set_token_latency(self, token: str, seconds: float) -> None:
        """Delay every answer to calls made with ``token`` (one slow workspace) by ``seconds``."""
        with self._cond:
            self._token_latency[token] = max(0.0, float(seconds))

    def peak_concurrency(self, method: str) -> int:
        """The most calls of ``method`` that were being answered at the same moment."""
        with self._cond:
            return self._peak.get(method, 0)

    def _enter(self, method: str) -> None:
        with self._cond:
            now = self._in_flight.get(method, 0) + 1
            self._in_flight[method] = now
            self._peak[method] = max(self._peak.get(method, 0), now)

    def _leave(self, method: str) -> None:
        with self._cond:
            self._in_flight[method] -= 1

    def slow_down(self, method: str, seconds: float, count: int = 1) -> None:
        """Delay the answers to the next ``count`` calls of ``method`` (after acting on them)."""
        with self._cond:
            self._slow.setdefault(method, deque()).extend([float(seconds)] * count)

    def set_rate_limit(self, method: str, per_second: float | None) -> None:
        """Refuse calls of ``method`` beyond ``per_second`` on average.

        A token bucket holding one second's worth of calls (Slack allows short bursts): a call
        takes a token, tokens come back at ``per_second``, and a call finding none gets HTTP 429
        with ``Retry-After`` in whole seconds, as Slack sends it. Refusals take no token.
        ``None`` lifts the limit.
        """
        with self._cond:
            if per_second is None:
                self._limits.pop(method, None)
            else:
                rate = float(per_second)
                self._limits[method] = [rate, rate, time.monotonic()]

    def set_token_rate_limit(self, method: str, token: str, per_second: float | None) -> None:
        """Like `set_rate_limit`, but only for calls made with one bot token (one workspace).

        Slack's limits are per workspace: several fake workspaces are one fake server whose
        calls carry each workspace's token. ``None`` lifts it.
        """
        with self._cond:
            if per_second is None:
                self._token_limits.pop((method, token), None)
            else:
                rate = float(per_second)
                self._token_limits[(method, token)] = [rate, rate, time.monotonic()]

    def set_token_lockout(self, method: str, token: str, after: int, seconds: int) -> None:
        """One workspace (bot token) takes `after` calls of `method`, then answers every call
        429 with ``Retry-After: seconds`` until that time is up (measured from the first
        refusal), then takes calls again: a workspace whose limit the senders all share."""
        with self._cond:
            self._lockouts[(method, token)] = [float(after), float(seconds), 0.0, 0.0]

    def lockout_began(self, method: str, token: str) -> float | None:
        """When (Unix time) the lockout's first 429 was answered, or None if not yet."""
        with self._cond:
            lockout = self._lockouts.get((method, token))
            return lockout[3] - lockout[1] if lockout and lockout[3] else None

    def _locked_out(self, call: Call) -> _Scripted | None:
        lockout = self._lockouts.get((call.method, call.token or ""))
        if lockout is None:
            return None
        after, seconds, taken, until = lockout
        now = time.time()
        if not until and taken >= after:
            lockout[3] = until = now + seconds
        if until and now < until:
            wait = max(1, math.ceil(until - now))
            return _Scripted({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        lockout[2] = taken + 1
        return None

    def accepted(self, method: str, token: str | None = None) -> list[Call]:
        """Calls of ``method`` (with ``token``, if given) that were not refused with 429."""
        with self._cond:
            return [
                c
                for c in self._calls
                if c.method == method and (token is None or c.token == token) and not c.refused
            ]

    def set_window_rate_limit(self, method: str, per_second: float | None) -> None:
        """Refuse calls of ``method`` when ``per_second`` were accepted in the last second.

        A sliding window, the other way limits are commonly enforced: no burst beyond the
        rate, and a 429's Retry-After is the time until the oldest call leaves the window,
        rounded up to whole seconds. ``None`` lifts it.
        """
        with self._cond:
            if per_second is None:
                self._windows.pop(method, None)
            else:
                self._windows[method] = (float(per_second), deque())

    def set_channel_rate_limit(
        self, method: str, per_second: float | None, burst: float = 1.0
    ) -> None:
        """Refuse calls of ``method`` into one conversation beyond ``per_second`` there.

        Slack allows about one message a second per channel (short bursts aside): a token
        bucket per conversation holding ``burst`` calls; a call finding none gets 429 with
        ``Retry-After``. Refusals take no token. ``None`` lifts the limit.
        """
        with self._cond:
            self._channel_buckets = {
                k: v for k, v in self._channel_buckets.items() if k[0] != method
            }
            if per_second is None:
                self._channel_limits.pop(method, None)
            else:
                self._channel_limits[method] = (float(per_second), float(burst))

    def fail_randomly(
        self, method: str, fraction: float, status: int = 500, seed: int | None = 0
    ) -> None:
        """Answer a random ``fraction`` of calls of ``method`` with an HTTP ``status`` error."""
        with self._cond:
            if fraction <= 0:
                self._flaky.pop(method, None)
            else:
                self._flaky[method] = (float(fraction), status, random.Random(seed))

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override users.info fields for a user (e.g. tz, deleted, is_bot, profile)."""
        with self._cond:
            self._users.setdefault(user_id, {}).update(fields)

    def set_channel_members(
        self, channel: str, ids: list[str], page_size: int | None = None
    ) -> None:
        """Set conversations.members for a channel, paginated by ``page_size`` if given."""
        with self._cond:
            self._members[channel] = (list(ids), page_size)

    def set_usergroup_users(self, usergroup: str, ids: list[str]) -> None:
        """Set the answer of usergroups.users.list for a user group."""
        with self._cond:
            self._usergroups[usergroup] = list(ids)

    def set_oidc_user(self, user_id: str | None) -> None:
        """Who signs in on the fake's authorize page (None: the person presses Cancel)."""
        with self._cond:
            self._oidc_user = user_id

    def set_oidc_id_token(self, foreign_key: bool = False, **claims: Any) -> None:
        """Change the ID tokens handed out from now on: claims to set (None drops one), or
        `foreign_key` to sign them with a key that is not the published one."""
        with self._cond:
            self._oidc_changes = dict(claims)
            self._oidc_foreign_key = foreign_key

    def _oidc_signing_key(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        with self._cond:
            if self._oidc_key is None:
                self._oidc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._oidc_key

    def _oidc_keys(self) -> _Scripted:
        """Slack's JWKS (https://slack.com/openid/connect/keys): the public half only."""
        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self._oidc_signing_key().public_key()))
        jwk.update({"kid": self._oidc_kid, "alg": "RS256", "use": "sig"})
        return _Scripted({"keys": [jwk]}, 200, {})

    def _id_token(self, user: str, nonce: str) -> str:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        now = int(time.time())
        profile = self._user(user)
        claims: JsonDict = {
            "iss": self.root_url,
            "aud": OIDC_CLIENT_ID,
            "sub": user,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": nonce,
            "https://slack.com/user_id": user,
            "https://slack.com/team_id": TEAM_ID,
            "name": profile.get("real_name") or profile.get("name") or user,
        }
        with self._cond:
            changes, foreign = dict(self._oidc_changes), self._oidc_foreign_key
        for key, value in changes.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if foreign
            else self._oidc_signing_key()
        )
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self._oidc_kid})

    def _oidc_authorize(self, query: str) -> _Scripted:
        """Slack's consent page, answered at once: back to redirect_uri with a code."""
        params = dict(parse_qsl(query))
        redirect = params.get("redirect_uri", "")
        state = params.get("state", "")
        if params.get("client_id") != OIDC_CLIENT_ID or not redirect:
            return _Scripted({"ok": False, "error": "invalid_client_id"}, 400, {})
        with self._cond:
            user = self._oidc_user
            if user is None:
                target = f"{redirect}?error=access_denied&state={state}"
            else:
                code = f"code-{next(self._id_counter)}"
                self._oidc_codes[code] = (user, params.get("nonce", ""))
                target = f"{redirect}?code={code}&state={state}"
        return _Scripted({}, 302, {"Location": target}, text="")

    def _oidc_token(self, call: Call) -> JsonDict:
        params = dict(call.params)
        # slack_sdk sends the client's id and secret as HTTP Basic credentials.
        auth = call.header("Authorization") or ""
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:].strip()).decode()
            params["client_id"], _, params["client_secret"] = decoded.partition(":")
        if (
            params.get("client_id") != OIDC_CLIENT_ID
            or params.get("client_secret") != OIDC_CLIENT_SECRET
        ):
            return {"ok": False, "error": "invalid_client"}
        with self._cond:
            found = self._oidc_codes.pop(str(params.get("code", "")), None)
            if found is None:
                return {"ok": False, "error": "invalid_code"}
            user, nonce = found
            token = f"xoxp-oidc-{next(self._id_counter)}"
            self._oidc_tokens[token] = user
        return {
            "ok": True,
            "access_token": token,
            "token_type": "Bearer",
            "id_token": self._id_token(user, nonce),
        }

    def _oidc_user_info(self, call: Call) -> JsonDict:
        with self._cond:
            user = self._oidc_tokens.get(call.token or "")
        if user is None:
            return {"ok": False, "error": "invalid_auth"}
        profile = self._user(user)
        return {
            "ok": True,
            "sub": user,
            "https://slack.com/user_id": user,
            "https://slack.com/team_id": TEAM_ID,
            "name": profile.get("real_name") or profile.get("name") or user,
        }

    def set_user_email(self, email: str, user_id: str) -> None:
        """Make users.lookupByEmail find `user_id` by this address (any other: users_not_found)."""
        with self._cond:
            self._emails[email.lower()] = user_id

    def set_channel(self, channel: str, **fields: Any) -> None:
        """Override conversations.info / conversations.join fields for a channel."""
        with self._cond:
            self._channels.setdefault(channel, {}).update(fields)

    # ------------------------------------------------------------------ request handling

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _scripted(self, method: str, params: JsonDict) -> _Scripted | None:
        with self._cond:
            pending = self._queued.get(method)
            if pending:
                return pending.popleft()
            for rule in self._rules.get(method, []):
                try:
                    matched = rule.predicate(params)
                except Exception as exc:
                    self._errors.append(f"fail_when predicate for {method} raised {exc!r}")
                    continue
                if matched:
                    return _Scripted({"ok": False, "error": rule.error}, rule.status, {})
        return None

    def _channel_limited(self, method: str, params: JsonDict) -> _Scripted | None:
        limit = self._channel_limits.get(method)
        if limit is None:
            return None
        rate, burst = limit
        channel = self._resolve_channel(params.get("channel") or params.get("channel_id"))
        now = time.monotonic()
        bucket = self._channel_buckets.setdefault((method, channel), [burst, now])
        tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[0], bucket[1] = tokens, now
        if tokens < 1.0:
            wait = max(1, math.ceil((1.0 - tokens) / rate))
            return _Scripted({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        bucket[0] = tokens - 1.0
        return None

    def _window_limited(self, method: str) -> _Scripted | None:
        window = self._windows.get(method)
        if window is None:
            return None
        rate, accepted = window
        now = time.monotonic()
        while accepted and accepted[0] <= now - 1.0:
            accepted.popleft()
        if len(accepted) >= rate:
            wait = max(1, math.ceil(accepted[0] + 1.0 - now))
            return _Scripted({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        accepted.append(now)
        return None

    def _limited(self, method: str, params: JsonDict | None = None) -> _Scripted | None:
        with self._cond:
            refused = self._channel_limited(method, params or {}) or self._window_limited(method)
            if refused is not None:
                return refused
            limit = self._limits.get(method)
            if limit is not None:
                rate, tokens, last = limit
                now = time.monotonic()
                tokens = min(rate, tokens + (now - last) * rate)
                limit[1], limit[2] = tokens, now
                if tokens < 1.0:
                    wait = max(1, math.ceil((1.0 - tokens) / rate))
                    return _Scripted(
                        {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)}
                    )
                limit[1] = tokens - 1.0
            flaky = self._flaky.get(method)
            if flaky is not None and flaky[2].random() < flaky[0]:
                return _Scripted({"ok": False, "error": "internal_error"}, flaky[1], {})
        return None

    def _token_limited(self, call: Call) -> _Scripted | None:
        with self._cond:
            locked = self._locked_out(call)
            if locked is not None:
                return locked
            limit = self._token_limits.get((call.method, call.token or ""))
            if limit is None:
                return None
            rate, tokens, last = limit
            now = time.monotonic()
            tokens = min(rate, tokens + (now - last) * rate)
            limit[1], limit[2] = tokens, now
            if tokens < 1.0:
                wait = max(1, math.ceil((1.0 - tokens) / rate))
                return _Scripted(
                    {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)}
                )
            limit[1] = tokens - 1.0
            return None

    def _respond_api(self, call: Call) -> _Scripted:
        self._record(call)
        limited = self._token_limited(call) or self._limited(call.method, call.params)
        if limited is not None:
            with self._cond:
                call.refused = True
            return limited
        scripted = self._scripted(call.method, call.params)
        if scripted is not None:
            return scripted
        handler = _DEFAULTS.get(call.method)
        call_handler = _CALL_DEFAULTS.get(call.method)
        try:
            if call_handler is not None:
                body = call_handler(self, call)
            else:
                body = handler(self, call.params) if handler else {"ok": True}
        except Exception as exc:
            message = f"fake default for {call.method} raised {exc!r}"
            with self._cond:
                self._errors.append(message)
            return _Scripted(
                {"ok": False, "error": "fake_internal_error", "detail": message}, 500, {}
            )
        return _Scripted(body, 200, {})

    def _respond_upload(self, file_id: str, data: bytes, headers: dict[str, str]) -> _Scripted:
        with self._cond:
            self._uploads.append(Upload(file_id, data, headers, time.time()))
            self._cond.notify_all()
            pending = self._queued.get(UPLOAD)
            if pending:
                return pending.popleft()
        return _Scripted({}, 200, {}, text=f"OK - {len(data)}")

    def _latency_now(self, method: str | None = None, token: str | None = None) -> float:
        with self._cond:
            slow = self._slow.get(method or "")
            extra = self._token_latency.get(token or "", 0.0)
            return self._latency + extra + (slow.popleft() if slow else 0.0)

    # ------------------------------------------------------------------ id helpers

    def _next_ts(self) -> str:
        with self._cond:
            micro = next(self._ts_counter) * 100
        return f"{1700000000 + micro // 1_000_000}.{micro % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._cond:
            return f"{prefix}{next(self._id_counter):08d}"

    # ------------------------------------------------------------------ default answers

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": TEAM_NAME,
            "user": "learnloop",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _bots_info(self, params: JsonDict) -> JsonDict:
        if params.get("bot") != BOT_ID:
            return {"ok": False, "error": "bot_not_found"}
        return {"ok": True, "bot": {"id": BOT_ID, "app_id": APP_ID, "user_id": BOT_USER_ID}}

    @staticmethod
    def _resolve_channel(channel: Any) -> str:
        text = str(channel or "")
        if text[:1] in ("U", "W"):
            return dm_channel_id(text)
        return text

    def _message(self, params: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                message[key] = _maybe_json(params[key])
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return message

    def _chat_post_message(self, params: JsonDict) -> JsonDict:
        ts = self._next_ts()
        channel = self._resolve_channel(params.get("channel"))
        message = self._message(params, ts)
        with self._cond:
            self._history.setdefault(channel, []).append({**message, "channel": channel})
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        # Since 2025 Slack returns at most 15 messages a page to apps outside its Marketplace,
        # whatever `limit` asks for; `cursor` pages further back.
        limit = min(int(params.get("limit") or HISTORY_PAGE_CAP), HISTORY_PAGE_CAP)
        skip = int(str(params.get("cursor") or "skip:0").removeprefix("skip:"))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._cond:
            newest_first = list(reversed(self._history.get(channel, [])))
        page = newest_first[skip : skip + limit]
        messages = []
        for message in page:
            shown = {k: v for k, v in message.items() if k != "channel"}
            if not with_metadata:
                shown.pop("metadata", None)
            messages.append(shown)
        more = len(newest_first) > skip + limit
        answer: JsonDict = {"ok": True, "messages": messages, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": f"skip:{skip + limit}"}
        return answer

    def _conversations_replies(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        thread_ts = str(params.get("ts", ""))
        if not channel or not thread_ts:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._cond:
            posted = list(self._history.get(channel, []))
        messages = []
        for message in posted:  # the parent first, then its replies, oldest first
            if message["ts"] != thread_ts and message.get("thread_ts") != thread_ts:
                continue
            shown = {k: v for k, v in message.items() if k != "channel"}
            if not with_metadata:
                shown.pop("metadata", None)
            messages.append(shown)
        if not messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": messages, "has_more": False}

    def _chat_update(self, params: JsonDict) -> JsonDict:
        ts = str(params.get("ts", ""))
        return {
            "ok": True,
            "channel": self._resolve_channel(params.get("channel")),
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts),
        }

    def _chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_delete(self, params: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "channel": self._resolve_channel(params.get("channel")),
            "ts": params.get("ts", ""),
        }

    def _chat_get_permalink(self, params: JsonDict) -> JsonDict:
        # Slack's permalink shape, .../archives/<channel>/p<ts without the dot>.
        channel = str(params.get("channel", ""))
        ts = str(params.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _view(self, params: JsonDict, view_id: str, default_type: str) -> JsonDict:
        view = _maybe_json(params.get("view"))
        view = dict(view) if isinstance(view, dict) else {}
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", default_type),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id[-8:]}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", params.get("external_id", "")),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }

    def _views_open(self, params: JsonDict) -> JsonDict:
        return {"ok": True, "view": self._view(params, self._next_id("V"), "modal")}

    def _views_update(self, params: JsonDict) -> JsonDict:
        view_id = str(params.get("view_id") or self._next_id("V"))
        return {"ok": True, "view": self._view(params, view_id, "modal")}

    def _views_publish(self, params: JsonDict) -> JsonDict:
        user_id = str(params.get("user_id", ""))
        with self._cond:
            view_id = self._home_views.get(user_id) or self._next_id("V")
            self._home_views[user_id] = view_id
        return {"ok": True, "view": self._view(params, view_id, "home")}

    def _conversations_open(self, params: JsonDict) -> JsonDict:
        if params.get("channel"):
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": str(params["channel"])},
            }
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            channel_id = dm_channel_id(users[0])
        else:
            channel_id = "G" + binascii.hexlify(",".join(sorted(users)).encode()).decode()[:10]
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _user(self, user_id: str) -> JsonDict:
        with self._cond:
            overrides = dict(self._users.get(user_id, {}))
        tz = str(overrides.get("tz", DEFAULT_TZ))
        real_name = f"User {user_id}"
        user: JsonDict = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": f"user.{user_id.lower()}",
            "deleted": False,
            "real_name": real_name,
            "tz": tz,
            "tz_label": _tz_label(tz),
            "tz_offset": _tz_offset(tz),
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1700000000,
            "profile": {
                "real_name": real_name,
                "display_name": real_name,
                "email": f"{user_id.lower()}@example.com",
                "team": TEAM_ID,
            },
        }
        profile = overrides.pop("profile", None)
        user.update(overrides)
        if isinstance(profile, dict):
            user["profile"].update(profile)
        return user

    def _users_info(self, params: JsonDict) -> JsonDict:
        user_id = params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user(str(user_id))}

    def _conversations_members(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        with self._cond:
            members, page_size = self._members.get(channel, ([], None))
        sizes = [page_size] if page_size else []
        if params.get("limit") not in (None, "", "0", 0):
            sizes.append(int(params["limit"]))
        size = min(sizes) if sizes else 100
        offset = 0
        cursor = params.get("cursor")
        if cursor:
            try:
                decoded = base64.b64decode(str(cursor), validate=True).decode("ascii")
                if not decoded.startswith("offset:"):
                    raise ValueError(decoded)
                offset = int(decoded.split(":", 1)[1])
            except (ValueError, binascii.Error):
                return {"ok": False, "error": "invalid_cursor"}
        page = members[offset : offset + size]
        next_offset = offset + size
        next_cursor = (
            base64.b64encode(f"offset:{next_offset}".encode("ascii")).decode("ascii")
            if next_offset < len(members)
            else ""
        )
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _users_lookup_by_email(self, params: JsonDict) -> JsonDict:
        email = str(params.get("email", "")).lower()
        with self._cond:
            user_id = self._emails.get(email)
        if user_id is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": self._user(user_id)}

    def _usergroups_users_list(self, params: JsonDict) -> JsonDict:
        with self._cond:
            users = list(self._usergroups.get(str(params.get("usergroup", "")), []))
        return {"ok": True, "users": users}

    def _channel(self, channel: str) -> JsonDict:
        with self._cond:
            overrides = dict(self._channels.get(channel, {}))
        is_im = channel.startswith("D")
        info: JsonDict = {
            "id": channel,
            "name": "" if is_im else f"channel-{channel.lower()}",
            "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"),
            "is_im": is_im,
            "is_mpim": False,
            "is_private": channel.startswith("G"),
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "created": 1700000000,
            "context_team_id": TEAM_ID,
        }
        if is_im:
            info["user"] = channel[1:]
        info.update(overrides)
        return info

    def _conversations_info(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel(channel)}

    def _conversations_join(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel(channel)}

    def _files_get_upload_url(self, params: JsonDict) -> JsonDict:
        file_id = self._next_id("F")
        with self._cond:
            self._pending_files[file_id] = {
                "name": params.get("filename", ""),
                "length": params.get("length"),
            }
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: JsonDict) -> JsonDict:
        requested = _maybe_json(params.get("files", "[]"))
        files: list[JsonDict] = []
        for item in requested if isinstance(requested, list) else []:
            file_id = str(item.get("id", ""))
            with self._cond:
                pending = dict(self._pending_files.get(file_id, {}))
                size = sum(len(u.data) for u in self._uploads if u.file_id == file_id)
            name = str(pending.get("name") or file_id)
            channel = params.get("channel_id")
            files.append(
                {
                    "id": file_id,
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": name,
                    "title": item.get("title") or name,
                    "mimetype": "",
                    "filetype": "",
                    "user": BOT_USER_ID,
                    "size": size,
                    "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{name}",
                    "permalink": f"https://test.slack.com/files/{BOT_USER_ID}/{file_id}/{name}",
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": files}


_DEFAULTS: dict[str, Callable[[FakeSlackAPI, JsonDict], JsonDict]] = {
    "auth.test": FakeSlackAPI._auth_test,
    "bots.info": FakeSlackAPI._bots_info,
    "chat.postMessage": FakeSlackAPI._chat_post_message,
    "chat.update": FakeSlackAPI._chat_update,
    "chat.postEphemeral": FakeSlackAPI._chat_post_ephemeral,
    "chat.delete": FakeSlackAPI._chat_delete,
    "chat.getPermalink": FakeSlackAPI._chat_get_permalink,
    "views.open": FakeSlackAPI._views_open,
    "views.push": FakeSlackAPI._views_open,
    "views.update": FakeSlackAPI._views_update,
    "views.publish": FakeSlackAPI._views_publish,
    "conversations.open": FakeSlackAPI._conversations_open,
    "users.info": FakeSlackAPI._users_info,
    "conversations.members": FakeSlackAPI._conversations_members,
    "usergroups.users.list": FakeSlackAPI._usergroups_users_list,
    "users.lookupByEmail": FakeSlackAPI._users_lookup_by_email,
    "conversations.join": FakeSlackAPI._conversations_join,
    "conversations.info": FakeSlackAPI._conversations_info,
    "conversations.history": FakeSlackAPI._conversations_history,
    "conversations.replies": FakeSlackAPI._conversations_replies,
    "files.getUploadURLExternal": FakeSlackAPI._files_get_upload_url,
    "files.completeUploadExternal": FakeSlackAPI._files_complete_upload,
}


# Answers that need the whole call (its Authorization header), not only its parameters.
_CALL_DEFAULTS: dict[str, Callable[[FakeSlackAPI, Call], JsonDict]] = {
    "openid.connect.token": FakeSlackAPI._oidc_token,
    "openid.connect.userInfo": FakeSlackAPI._oidc_user_info,
}


def _make_handler(fake: FakeSlackAPI) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlackAPI/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, http_method: str) -> None:
            parts = urlsplit(self.path)
            counted = parts.path[len("/api/") :] if parts.path.startswith("/api/") else None
            if counted:
                fake._enter(counted)
            try:
                self._answer(http_method, parts)
            finally:
                if counted:
                    fake._leave(counted)

        def _answer(self, http_method: str, parts: Any) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k: v for k, v in self.headers.items()}
            path = parts.path
            token: str | None = None
            if path.startswith("/api/") and len(path) > len("/api/"):
                params = _parse_form(parts.query)
                try:
                    body_params, files = _parse_body(self.headers.get("Content-Type", ""), body)
                except ValueError:
                    body_params, files = {}, {}
                params.update(body_params)
                call = Call(
                    method=path[len("/api/") :],
                    params=params,
                    headers=headers,
                    timestamp=time.time(),
                    http_method=http_method,
                    body=body,
                    path=path,
                    files=files,
                )
                token = call.token
                answer = fake._respond_api(call)
            elif path.startswith("/webhook/") and http_method == "POST":
                try:
                    params, files = _parse_body(self.headers.get("Content-Type", ""), body)
                except ValueError:
                    params, files = {}, {}
                call = Call(WEBHOOK, params, headers, time.time(), http_method, body, path, files)
                answer = fake._respond_api(call)
            elif path == "/openid/connect/authorize" and http_method == "GET":
                answer = fake._oidc_authorize(parts.query)
            elif path == "/openid/connect/keys" and http_method == "GET":
                answer = fake._oidc_keys()
            elif path.startswith("/upload/") and http_method == "POST":
                answer = fake._respond_upload(path[len("/upload/") :], body, headers)
            else:
                answer = _Scripted({"ok": False, "error": "unknown_path"}, 404, {})
            latency = fake._latency_now(
                path[len("/api/") :] if path.startswith("/api/") else None, token
            )
            if latency:
                time.sleep(latency)
            self._send(answer)

        def _send(self, answer: _Scripted) -> None:
            if answer.text is not None:
                payload = answer.text.encode("utf-8")
                content_type = "text/plain; charset=utf-8"
            else:
                payload = json.dumps(answer.body).encode("utf-8")
                content_type = "application/json; charset=utf-8"
            self.send_response(answer.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return _Handler
