"""Sign in with Slack: checking the OpenID Connect ID token before believing a word of it.

The code is swapped for tokens with `openid.connect.token` (slack_sdk); the ID token that comes
back is then verified with PyJWT: its RS256 signature against the keys Slack publishes (the
JWKS at `<Slack's web base>/openid/connect/keys`, fetched and kept by `PyJWKClient`), its
issuer (that same web base: `https://slack.com`), its audience (our client id), its expiry and
issue time, the nonce this browser was given, and that `https://slack.com/team_id` is one of the
workspaces this deployment serves. The person is read from the verified token alone.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import jwt
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("learnloop.board")

TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
# Clocks differ a little between Slack and us.
LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]


class SlackSignInRefused(Exception):
    """The ID token could not be trusted; `reason` says why (for the audit log), `user_id` who
    it named when its signature held (else None)."""

    def __init__(self, reason: str, user_id: str | None = None, team_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id
        self.team_id = team_id


@dataclass(frozen=True)
class SlackPerson:
    """Who a verified ID token says signed in."""

    user_id: str
    team_id: str
    name: str | None


class SlackOpenID:
    """Swaps a code for an ID token and verifies it (signature, iss, aud, exp, nonce, team)."""

    def __init__(
        self,
        api_url: str,
        web_base: str,
        client_id: str,
        client_secret: str,
        teams: Callable[[], Collection[str]],
    ) -> None:
        self.api_url = api_url
        self.issuer = web_base
        self.client_id = client_id
        self.client_secret = client_secret
        self.teams = teams
        # Keys are fetched when first needed and kept; a token signed with an unknown key id
        # makes the client fetch again (Slack rotating its keys).
        self.keys = jwt.PyJWKClient(
            web_base + "/openid/connect/keys", cache_keys=True, lifespan=3600, timeout=10
        )

    def person(self, code: str, redirect_uri: str, nonce: str) -> SlackPerson:
        """The person a code stands for; SlackSignInRefused when it cannot be trusted."""
        client = WebClient(base_url=self.api_url, timeout=10)
        try:
            tokens = client.openid_connect_token(
                client_id=self.client_id,
                client_secret=self.client_secret,
                code=code,
                redirect_uri=redirect_uri,
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise SlackSignInRefused(f"token exchange: {exc.__class__.__name__}") from None
        return self.verify(str(tokens.get("id_token") or ""), nonce)

    def verify(self, id_token: str, nonce: str) -> SlackPerson:
        """The person a signed, current ID token for us, with this nonce, names."""
        try:
            key = self.keys.get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise SlackSignInRefused("expired") from None
        except jwt.InvalidAudienceError:
            raise SlackSignInRefused("audience") from None
        except jwt.InvalidIssuerError:
            raise SlackSignInRefused("issuer") from None
        except jwt.PyJWKClientError:
            raise SlackSignInRefused("keys") from None
        except jwt.PyJWTError as exc:
            raise SlackSignInRefused(f"invalid: {exc.__class__.__name__}") from None
        user_id = str(claims.get(USER_CLAIM) or claims.get("sub") or "")
        team_id = str(claims.get(TEAM_CLAIM) or "")
        if not hmac.compare_digest(str(claims["nonce"]).encode(), nonce.encode()):
            raise SlackSignInRefused("nonce", user_id or None, team_id or None)
        if not user_id:
            raise SlackSignInRefused("no user", None, team_id or None)
        if not team_id or team_id not in set(self.teams()):
            raise SlackSignInRefused("team", user_id, team_id or None)
        name = claims.get("name")
        return SlackPerson(user_id, team_id, str(name) if name else None)
