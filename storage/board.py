"""The Learning Board's storage: one-use sign-in links, and the register's extra readings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    BoardLinkRow,
    CheckinRow,
    CheckinThemeRow,
    EscalationLinkRow,
    EscalationRow,
    MemberRow,
    ThemeRow,
)


@dataclass(frozen=True)
class LinkedTheme:
    """A theme of a check-in linked to a barrier, with what the visibility policy needs."""

    escalation_id: int
    theme: str
    visibility: str
    agency_id: str
    member_id: int | None


class BoardRepository:
    """Sign-in links (single use, rate-limited) and the board's register queries."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ sign-in links

    def add_link(
        self, jti: str | None, email: str | None, ip_key: str | None, at: dt.datetime
    ) -> None:
        """Record a link asked for (jti and email None when the address is nobody's)."""
        self.session.add(BoardLinkRow(jti=jti, email=email, ip_key=ip_key, created_at=at))

    def requests_since(
        self, since: dt.datetime, *, email: str | None = None, ip_key: str | None = None
    ) -> int:
        """How many links were asked for since `since` for this address or from this IP."""
        query = (
            select(func.count()).select_from(BoardLinkRow).where(BoardLinkRow.created_at >= since)
        )
        if email is not None:
            query = query.where(BoardLinkRow.email == email)
        if ip_key is not None:
            query = query.where(BoardLinkRow.ip_key == ip_key)
        return int(self.session.scalar(query) or 0)

    def use_link(self, jti: str, at: dt.datetime) -> bool:
        """Mark a link used; False when it is unknown or was used already (one UPDATE)."""
        result = self.session.execute(
            update(BoardLinkRow)
            .where(and_(BoardLinkRow.jti == jti, BoardLinkRow.used_at.is_(None)))
            .values(used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the register

    def register_page(
        self,
        *,
        scope_agency: str | None,
        level: str | None,
        status: str | None,
        agency: str | None,
        among: Collection[int] | None,
        page: int,
        size: int,
    ) -> tuple[int, int, list[int]]:
        """(barriers matching, page shown, their ids on it), newest change first, paged in SQL.

        `scope_agency`/`agency`: only barriers naming that agency (matched by its quoted form
        in the agencies' JSON text); `among`: only these ids. A page past the last shows the
        last.
        """
        where = []
        agencies = cast(EscalationRow.agencies, String)
        for named in (scope_agency, agency):
            if named:
                where.append(agencies.contains(f'"{named}"', autoescape=True))
        if level:
            where.append(EscalationRow.level == level)
        if status:
            where.append(EscalationRow.status == status)
        if among is not None:
            if not among:
                return 0, 1, []
            where.append(EscalationRow.id.in_(sorted(among)))
        total = int(
            self.session.scalar(select(func.count()).select_from(EscalationRow).where(*where)) or 0
        )
        pages = max(1, -(-total // size))
        page = min(max(page, 1), pages)
        ids = self.session.scalars(
            select(EscalationRow.id)
            .where(*where)
            .order_by(EscalationRow.updated_at.desc(), EscalationRow.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
        return total, page, list(ids)

    def ended_ids(self, scope_agency: str | None, limit: int) -> list[int]:
        """The newest-changed resolved or closed barriers with an outcome ("You said, we did")."""
        where = [
            EscalationRow.status.in_(["resolved", "closed"]),
            EscalationRow.outcome.is_not(None),
        ]
        if scope_agency:
            where.append(
                cast(EscalationRow.agencies, String).contains(f'"{scope_agency}"', autoescape=True)
            )
        ids = self.session.scalars(
            select(EscalationRow.id)
            .where(*where)
            .order_by(EscalationRow.updated_at.desc(), EscalationRow.id.desc())
            .limit(limit)
        )
        return list(ids)

    def linked_themes(
        self, escalation_ids: Sequence[int] | None = None, theme: str | None = None
    ) -> list[LinkedTheme]:
        """Themes of the check-ins linked to barriers (all barriers when ids is None), or only
        the links under one theme."""
        query = (
            select(
                EscalationLinkRow.escalation_id,
                ThemeRow.name,
                CheckinRow.visibility,
                CheckinRow.agency_id,
                CheckinRow.member_id,
            )
            .join(CheckinRow, CheckinRow.id == EscalationLinkRow.checkin_id)
            .join(CheckinThemeRow, CheckinThemeRow.checkin_id == CheckinRow.id)
            .join(ThemeRow, ThemeRow.id == CheckinThemeRow.theme_id)
        )
        if escalation_ids is not None:
            if not escalation_ids:
                return []
            query = query.where(EscalationLinkRow.escalation_id.in_(escalation_ids))
        if theme is not None:
            query = query.where(ThemeRow.name == theme)
        return [LinkedTheme(*row) for row in self.session.execute(query)]

    def member_names(self, member_ids: set[int]) -> dict[int, str]:
        """Display names (else platform ids) of some members."""
        if not member_ids:
            return {}
        rows = self.session.execute(
            select(MemberRow.id, MemberRow.display_name, MemberRow.platform_user_id).where(
                MemberRow.id.in_(member_ids)
            )
        )
        return {member_id: name or user_id for member_id, name, user_id in rows}
