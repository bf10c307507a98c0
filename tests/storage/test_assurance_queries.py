"""The review pack's barrier figures read from the register, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from storage.assurance_queries import AssuranceQueries
from storage.models import EscalationEventRow, EscalationRow
from storage.uow import UnitOfWorkFactory

T0 = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def _barrier(u, level: str, status: str, raised_days: int, agencies: list[str]) -> int:  # type: ignore[no-untyped-def]
    row = EscalationRow(
        title="t",
        description="d",
        agencies=agencies,
        level=level,
        status=status,
        created_at=T0 + dt.timedelta(days=raised_days),
        updated_at=T0 + dt.timedelta(days=raised_days),
    )
    u.session.add(row)
    u.session.flush()
    return row.id


def test_open_barriers_and_first_resolution_times(engine: Engine) -> None:
    factory = UnitOfWorkFactory(engine)
    with factory() as u:
        _barrier(u, "agency", "open", 0, ["housing"])
        _barrier(u, "alliance", "in_progress", 3, ["nhs"])
        done = _barrier(u, "alliance", "resolved", 1, ["housing"])
        # Resolved on day 11, reopened and closed again later: the first time counts.
        for day, status in ((11, "resolved"), (12, "open"), (20, "closed")):
            u.session.add(
                EscalationEventRow(
                    escalation_id=done,
                    kind="status",
                    to_status=status,
                    at=T0 + dt.timedelta(days=day),
                )
            )
        u.commit()
    with factory() as u:
        q = AssuranceQueries(u.session)
        as_of = T0 + dt.timedelta(days=30)
        assert sorted(b.level for b in q.open_barriers(as_of, None)) == ["agency", "alliance"]
        assert [b.level for b in q.open_barriers(as_of, "housing")] == ["agency"]
        [resolved] = q.resolutions(T0, as_of, None)
        assert resolved.resolved_at - resolved.raised_at == dt.timedelta(days=10)
        assert q.resolutions(T0, as_of, "nhs") == []
        assert q.resolutions(T0 + dt.timedelta(days=12), as_of, None) == []
