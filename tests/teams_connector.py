"""A fake Bot Connector (the Teams REST API a bot calls) over real HTTP on 127.0.0.1.

Activities carry the service URL a bot must answer on; tests set it to :attr:`url`, so the
Teams SDK's proactive sends, card updates, member lists and new 1:1 chats all land here and are
recorded as :class:`ConnectorCall`. Failures can be scripted with :meth:`fail_next`.

This module does not depend on pytest.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt

JsonDict = dict[str, Any]
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class ConnectorCall:
    """One request the bot made to the Bot Connector."""

    kind: str  # send | update | create | members
    conversation_id: str
    activity_id: str | None
    body: JsonDict
    headers: dict[str, str]
    at: float = field(default_factory=time.time)

    @property
    def authorization(self) -> str | None:
        """The Authorization header the bot sent."""
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)

    @property
    def text(self) -> str:
        """The plain text of a message activity."""
        return str(self.body.get("text") or "")

    @property
    def cards(self) -> list[JsonDict]:
        """The Adaptive Cards attached to the activity."""
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if a.get("contentType") == ADAPTIVE_CARD
        ]

    @property
    def card(self) -> JsonDict:
        """The one Adaptive Card attached (AssertionError if not exactly one)."""
        cards = self.cards
        assert len(cards) == 1, f"expected one card, got {len(cards)}: {self.body}"
        return cards[0]


@dataclass
class _Failure:
    kind: str
    status: int
    headers: dict[str, str]
    times: int


class FakeBotConnector:
    """Records what a bot sends to Teams and answers like the Bot Connector does."""

    def __init__(self) -> None:
        self.calls: list[ConnectorCall] = []
        self.rosters: dict[str, list[JsonDict]] = {}
        # Microsoft Graph's GET /v1.0/users/{address} (the same server stands in for Graph).
        self.graph_users: dict[str, str] = {}
        # Graph per tenant: tenant id -> its users. Graph answers from the tenant the bearer
        # token was issued in (its `tid`); a token of a tenant not listed here reads graph_users.
        self.graph_tenants: dict[str, dict[str, str]] = {}
        # Seconds to wait before answering each call (a slow region, for benchmarks).
        self.latency = 0.0
        # (path, bytes, headers) of every PUT to :meth:`upload_url` URLs.
        self.uploads: list[tuple[str, bytes, dict[str, str]]] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1_700_000_000_001)
        self._lock = threading.Lock()
        connector = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> JsonDict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw) if raw else {}

            def _handle(self, verb: str) -> None:
                parts = [unquote(p) for p in urlsplit(self.path).path.split("/") if p]
                if parts[:1] == ["upload"]:
                    # Stands in for the OneDrive upload URL Teams hands out on file consent.
                    length = int(self.headers.get("Content-Length") or 0)
                    connector.uploads.append(
                        (self.path, self.rfile.read(length), dict(self.headers))
                    )
                    self._reply(201, {"id": "uploaded"})
                    return
                body = self._body() if verb in ("POST", "PUT") else {}
                if connector.latency:
                    time.sleep(connector.latency)
                status, answer, headers = connector._answer(verb, parts, body, dict(self.headers))
                self._reply(status, answer, headers)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._handle("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._handle("PUT")

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The service URL to put in activities (no trailing slash)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def upload_url(self, name: str = "file") -> str:
        """A URL standing in for the OneDrive upload URL of a file consent."""
        return f"{self.url}/upload/{name}"

    def start(self) -> FakeBotConnector:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ scripting

    def set_roster(self, conversation_id: str, members: list[JsonDict]) -> None:
        """Who GET /v3/conversations/{id}/members returns (TeamsChannelAccount shapes)."""
        self.rosters[conversation_id] = members

    def fail_next(
        self, kind: str, status: int, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `times` calls of a kind (send, update, create, members) with `status`."""
        self._failures.append(_Failure(kind, status, headers or {}, times))

    # ------------------------------------------------------------------ reading

    def of_kind(self, kind: str, conversation_id: str | None = None) -> list[ConnectorCall]:
        """Recorded calls of a kind, optionally in one conversation."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.kind == kind
                and (conversation_id is None or c.conversation_id == conversation_id)
            ]

    def sends(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        """New activities the bot posted."""
        return self.of_kind("send", conversation_id)

    def updates(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        """Activities the bot replaced (card updates)."""
        return self.of_kind("update", conversation_id)

    def last_send(self, conversation_id: str) -> ConnectorCall:
        """The newest activity posted in a conversation."""
        sent = self.sends(conversation_id)
        assert sent, f"nothing was sent to {conversation_id}; calls: {self.calls}"
        return sent[-1]

    def clear(self) -> None:
        """Forget recorded calls."""
        with self._lock:
            self.calls.clear()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds (AssertionError after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls: {self.calls}")
            time.sleep(0.01)

    # ------------------------------------------------------------------ answering

    def _answer(
        self, verb: str, parts: list[str], body: JsonDict, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if parts[:2] == ["v1.0", "users"] and verb == "GET" and len(parts) == 3:
            tenant = _token_tenant(headers)
            with self._lock:
                self.calls.append(ConnectorCall("graph_user", parts[2], None, {}, headers))
                users = self.graph_tenants.get(tenant or "", self.graph_users)
                found = users.get(parts[2].lower())
            if found is None:
                return 404, {"error": {"code": "Request_ResourceNotFound"}}, {}
            return 200, {"id": found}, {}
        if parts[:2] != ["v3", "conversations"]:
            return 404, {"error": {"code": "NotFound", "message": "unknown path"}}, {}
        conversation_id = parts[2] if len(parts) > 2 else ""
        if verb == "POST" and len(parts) == 2:
            kind, activity_id = "create", None
        elif verb == "POST" and parts[3:4] == ["activities"]:
            kind, activity_id = "send", str(next(self._ids))
        elif verb == "PUT" and parts[3:4] == ["activities"] and len(parts) == 5:
            kind, activity_id = "update", parts[4]
        elif verb == "GET" and parts[3:4] == ["members"]:
            kind, activity_id = "members", None
        else:
            return 404, {"error": {"code": "NotFound", "message": "unknown path"}}, {}
        with self._lock:
            failure = next((f for f in self._failures if f.kind == kind and f.times > 0), None)
            if failure is not None:
                failure.times -= 1
            self.calls.append(ConnectorCall(kind, conversation_id, activity_id, body, headers))
        if failure is not None:
            error = {"error": {"code": f"Status{failure.status}", "message": "scripted failure"}}
            return failure.status, error, failure.headers
        if kind == "create":
            member = (body.get("members") or [{}])[0].get("id", "unknown")
            return 201, {"id": f"a:created-{member}"}, {}
        if kind == "members" and len(parts) == 5:
            # GET .../members/{id}: one member of the conversation (how a mention is resolved).
            found = [m for m in self.rosters.get(conversation_id, []) if m.get("id") == parts[4]]
            if not found:
                return 404, {"error": {"code": "MemberNotFoundInConversation"}}, {}
            return 200, found[0], {}
        if kind == "members":
            return 200, self.rosters.get(conversation_id, []), {}
        return 200, {"id": activity_id}, {}


def _token_tenant(headers: dict[str, str]) -> str | None:
    """The tenant (`tid`) a bearer token was issued in; None if it says none."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if not auth.lower().startswith("bearer "):
        return None
    try:
        claims = jwt.decode(auth[7:].strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    tid = claims.get("tid")
    return str(tid) if tid else None
