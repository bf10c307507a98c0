"""Signing for the Learning Board: sign-in links, session cookies and CSRF tokens.

Everything is signed with BOARD_SECRET_KEY by itsdangerous, each kind under its own salt so a
value of one kind never passes as another. A link carries its one-use id (checked against the
database), the address and when it was issued (checked against the service's clock); a session
cookie carries who signed in, their CSRF token and when the session began.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

SESSION_COOKIE = "learnloop_board"
CSRF_COOKIE = "learnloop_board_csrf"
OIDC_COOKIE = "learnloop_board_oidc"
SESSION_LIFETIME = dt.timedelta(hours=8)


class BadToken(Exception):
    """A value that was not signed by this deployment, or is not shaped as it should be."""


@dataclass(frozen=True)
class LinkClaims:
    """What a sign-in link says."""

    jti: str
    email: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class Session:
    """What a session cookie says."""

    subject: str
    name: str
    csrf: str
    started_at: dt.datetime


class BoardSigner:
    """Signs and reads the board's links and cookies with one secret key."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._links = URLSafeSerializer(secret, salt="learnloop-board-link")
        self._sessions = URLSafeSerializer(secret, salt="learnloop-board-session")
        self._csrf = URLSafeSerializer(secret, salt="learnloop-board-csrf")
        self._oidc = URLSafeSerializer(secret, salt="learnloop-board-oidc")

    # ------------------------------------------------------------------ links

    def link_token(self, jti: str, email: str, issued_at: dt.datetime) -> str:
        """The token a sign-in link carries."""
        return self._links.dumps({"j": jti, "e": email, "t": int(issued_at.timestamp())})

    def read_link(self, token: str) -> LinkClaims:
        """The claims of a link's token; BadToken when forged or mangled."""
        data = _loads(self._links, token)
        try:
            return LinkClaims(
                jti=str(data["j"]),
                email=str(data["e"]),
                issued_at=dt.datetime.fromtimestamp(int(data["t"]), dt.UTC),
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            raise BadToken("link claims") from None

    # ------------------------------------------------------------------ sessions

    def session_cookie(self, subject: str, name: str, started_at: dt.datetime) -> Session:
        """A new session, with its own CSRF token."""
        return Session(subject, name, secrets.token_urlsafe(24), started_at)

    def dump_session(self, session: Session) -> str:
        """The session as a cookie value."""
        return self._sessions.dumps(
            {
                "s": session.subject,
                "n": session.name,
                "c": session.csrf,
                "t": int(session.started_at.timestamp()),
            }
        )

    def read_session(self, value: str) -> Session:
        """The session in a cookie; BadToken when it was changed or is malformed."""
        data = _loads(self._sessions, value)
        try:
            return Session(
                subject=str(data["s"]),
                name=str(data["n"]),
                csrf=str(data["c"]),
                started_at=dt.datetime.fromtimestamp(int(data["t"]), dt.UTC),
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            raise BadToken("session claims") from None

    # ------------------------------------------------------------------ CSRF before sign-in

    def new_csrf(self) -> tuple[str, str]:
        """A CSRF token for a visitor who has no session, and its signed cookie value."""
        token = secrets.token_urlsafe(24)
        return token, self._csrf.dumps(token)

    def read_csrf(self, value: str) -> str:
        """The token in a CSRF cookie; BadToken when changed."""
        return str(_loads(self._csrf, value))

    # ------------------------------------------------------------------ Slack sign-in

    def dump_oidc(self, state: str, nonce: str) -> str:
        """The state and nonce of a Slack sign-in under way, as a cookie value."""
        return self._oidc.dumps({"s": state, "n": nonce})

    def read_oidc(self, value: str) -> tuple[str, str]:
        """The state and nonce of a Slack sign-in under way."""
        data = _loads(self._oidc, value)
        try:
            return str(data["s"]), str(data["n"])
        except (KeyError, TypeError):
            raise BadToken("oidc cookie") from None

    # ------------------------------------------------------------------ rate limits

    def ip_key(self, ip: str) -> str:
        """A keyed hash of an IP address: rate limits count it, nobody can read it back."""
        return hmac.new(self._secret, ip.encode(), hashlib.sha256).hexdigest()[:32]


def same(a: str, b: str) -> bool:
    """Compare two tokens in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def _loads(serializer: URLSafeSerializer, value: str) -> Any:
    if not value or len(value) > 4096:
        raise BadToken("empty or too long")
    try:
        return serializer.loads(value)
    except (BadSignature, UnicodeDecodeError, ValueError):
        raise BadToken("bad signature") from None
