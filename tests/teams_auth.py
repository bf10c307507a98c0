"""A local Bot Framework key service on 127.0.0.1, and RS256 tokens signed as the Bot Connector.

The Teams SDK validates each inbound activity's JWT against the keys published next to the
cloud's OpenID metadata (`.../openidconfiguration` → `.../keys`). Pointing
TEAMS_OPENID_METADATA_URL at :attr:`KeyService.metadata_url` makes the real validator fetch
this service's JWKS, so tests sign real tokens and the production check runs unchanged.

This module does not depend on pytest.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

# What the Bot Connector puts in `iss` (the Teams SDK's public-cloud token issuer).
BOT_CONNECTOR_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyService:
    """Serves OpenID metadata and a JWKS with one signing key; signs tokens with that key."""

    def __init__(self) -> None:
        self.key = new_key()
        self.kid = uuid.uuid4().hex
        self.requests: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                service.requests.append(self.path)
                if self.path == METADATA_PATH:
                    body: Any = {
                        "issuer": BOT_CONNECTOR_ISSUER,
                        "jwks_uri": service.url + KEYS_PATH,
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == KEYS_PATH:
                    body = {"keys": [service.public_jwk()]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def public_jwk(self) -> dict[str, Any]:
        """The signing key as a JWK, as Bot Framework publishes it."""
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": ["msteams"]})
        return jwk

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        """What TEAMS_OPENID_METADATA_URL should be set to."""
        return self.url + METADATA_PATH

    def start(self) -> KeyService:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = BOT_CONNECTOR_ISSUER,
        expires_in: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        claims: dict[str, Any] | None = None,
        without: tuple[str, ...] = (),
    ) -> str:
        """An RS256 token as the Bot Connector would send it (override any part to break it;
        `without` leaves claims out)."""
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience or app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + expires_in,
            **(claims or {}),
        }
        for claim in without:
            payload.pop(claim, None)
        return jwt.encode(
            payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )
