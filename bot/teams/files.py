"""Files waiting for a person's consent before Teams lets the bot put them in their OneDrive.

Kept in this process's memory, for a few minutes: an export is personal data, so it is never
written anywhere else. The person must accept in the same web process that offered the file
(one process in a pilot; behind a load balancer use sticky sessions or ask again).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

FILE_CONSENT_MINUTES = 15


@dataclass(frozen=True)
class PendingFile:
    """A file offered to someone, and until when it may be uploaded."""

    user_id: str
    filename: str
    content: bytes
    expires: dt.datetime


class PendingFiles:
    """Files offered and not yet accepted, by a random key sent in the consent card."""

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._files: dict[str, PendingFile] = {}
        self._lock = threading.Lock()

    def put(self, user_id: str, filename: str, content: bytes) -> str:
        """Hold a file for `user_id`; the key to ask for it back."""
        key = secrets.token_urlsafe(16)
        expires = self._clock() + dt.timedelta(minutes=FILE_CONSENT_MINUTES)
        with self._lock:
            self._drop_expired()
            self._files[key] = PendingFile(user_id, filename, content, expires)
        return key

    def take(self, key: str, user_id: str) -> PendingFile | None:
        """The file, once, if it was offered to this person and has not expired."""
        with self._lock:
            self._drop_expired()
            found = self._files.get(key)
            # Only the person it was offered to can take it (a replayed key gets nothing).
            if found is None or found.user_id != user_id:
                return None
            del self._files[key]
            return found

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, f in self._files.items() if f.expires <= now]:
            del self._files[key]
