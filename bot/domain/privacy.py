"""Data-protection rules: who a deleted person was (as a one-way key), and when data expires.

Pure: stdlib only. The services apply these; storage keeps the results.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib

# Bumped if the shape of an export changes, so a reader can tell which one it holds.
EXPORT_FORMAT = "learnloop-export/1"

# Domain separation: the same platform id hashed for another purpose gives another key.
_SUBJECT_KEY_PREFIX = b"learnloop-erased-subject\x00"


def subject_key(platform: str, user_id: str) -> str:
    """A one-way key for a person (SHA-256 hex), kept after erasure instead of their id.

    It lets LearnLoop recognise someone who deleted their data — so a retried event or a
    listed id in the config does not re-create them — without storing who they were. It
    is pseudonymous, not anonymous: anyone holding the id can recompute the key.
    """
    digest = hashlib.sha256(_SUBJECT_KEY_PREFIX)
    digest.update(f"{platform}\x00{user_id}".encode())
    return digest.hexdigest()


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same wall-clock moment `months` calendar months earlier (day clamped to the month)."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def retention_cutoff(now: dt.datetime, retention_months: int) -> dt.datetime:
    """Data created before this moment is past retention and is deleted by the daily purge."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if retention_months < 1:
        raise ValueError("retention_months must be at least 1")
    return months_before(now, retention_months)


def export_filename(day: dt.date) -> str:
    """The name of a person's export file (no user id in it: file names end up in logs)."""
    return f"learnloop-my-data-{day.isoformat()}.json"


# The daily retention run happens at the first worker tick after this local hour: quiet, and
# after the night's backups in most councils' schedules.
PURGE_LOCAL_HOUR = 2


def daily_slot_start(
    now: dt.datetime, zone: dt.tzinfo, hour: int = PURGE_LOCAL_HOUR
) -> dt.datetime:
    """The latest `hour`:00 local time at or before `now` (aware, UTC): one run per slot."""
    local = now.astimezone(zone)
    start = dt.datetime.combine(local.date(), dt.time(hour), tzinfo=zone)
    if start > local:
        start = dt.datetime.combine(local.date() - dt.timedelta(days=1), dt.time(hour), tzinfo=zone)
    return start.astimezone(dt.UTC)
