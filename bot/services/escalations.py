"""Escalations: raise a barrier, move it along the ladder, and close the loop with its raisers.

Every change is one conditional UPDATE on the barrier's version plus an event and an audit row,
committed together before anyone is told; the card, the pointer and the DMs follow (after the
ack), rendered from what is stored. An anonymous raiser's member id is stored so they can be
told what happens, and is read by nothing that renders for stewards.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.config import DEFAULT_QUESTION_SET, AllianceConfig, QuestionSet
from bot.domain.cycles import is_due
from bot.domain.errors import DataDeleted, NotFound, ValidationFailed
from bot.domain.escalation import (
    STALE_AFTER,
    Action,
    EscalationStatus,
    NoLadder,
    StaleBarrier,
    check_version,
    plan_move,
    prepare_barrier,
    suggested_title,
)
from bot.domain.roles import Role, require
from bot.ports import Clock, MessageRef, Messenger, MessengerError
from bot.services.barriers import BarrierRegister, BarrierSummary
from bot.services.base import MemberFacingService
from bot.services.members import MemberService
from bot.views import (
    BarrierListView,
    BarrierNoticeView,
    BarrierPointerView,
    EscalateFormView,
    StaleBarriersView,
)
from storage.models import (
    OUTSIDE_AGENCY_ID,
    CheckinRow,
    EscalationRow,
    MemberRow,
)
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# Check-ins offered for linking in the "Raise a barrier" modal.
RECENT_CHECKINS = dt.timedelta(weeks=8)
MAX_RECENT_CHECKINS = 10
STEWARDS = (Role.STEWARD, Role.ADMIN)
# When the weekly stale-barrier reminder is due, in the alliance's time zone.
STALE_REMINDER_DAY = "mon"
STALE_REMINDER_TIME = dt.time(9, 0)
# Slack errors that mean the card is gone for good: post a fresh one instead.
CARD_GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message"})


@dataclass(frozen=True)
class Change:
    """One recorded change: what has to be told after the ack (card, pointer, DMs)."""

    barrier_id: int
    kind: str
    actor_user_id: str | None
    from_level: str
    to_level: str
    note: str | None = None
    owner_user_id: str | None = None
    redaction_summary: str = ""
    created: bool = True


@dataclass(frozen=True)
class BarrierRef:
    """What a steward's modal needs: which barrier, the version they saw, its title."""

    barrier_id: int
    version: int
    title: str


@dataclass
class StaleReport:
    """What `raise_stale` did this run (counts and level ids only)."""

    period: str
    posted: dict[str, int] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    off_ladder: int = 0


class EscalationService(MemberFacingService):
    """Barriers: raising, steward actions, closing the loop, the register and reminders."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        self.register = BarrierRegister(uow, alliance, clock)

    # ------------------------------------------------------------------ raising

    def form_for(
        self, platform: str, user_id: str, checkin_id: int | None = None, text: str = ""
    ) -> EscalateFormView:
        """What the "Raise a barrier" modal offers, pre-filled from text or a check-in."""
        if not self.alliance.escalation_ladder:
            raise NoLadder()
        title, description, linked = "", text.strip(), []
        recent: list[tuple[int, str]] = []
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            if member is not None:
                since = self.clock() - RECENT_CHECKINS
                rows = uow.escalations.recent_checkins(member.id, since, MAX_RECENT_CHECKINS)
                if checkin_id is not None and checkin_id not in {r.id for r in rows}:
                    source = uow.checkins.get(checkin_id)
                    if source is not None and source.member_id == member.id:
                        rows = [source, *rows[: MAX_RECENT_CHECKINS - 1]]
                recent = [(r.id, self._checkin_label(r)) for r in rows]
            if checkin_id is not None:
                source = uow.checkins.get(checkin_id)
                if source is None or member is None or source.member_id != member.id:
                    raise NotFound("That check-in no longer exists, so it can't be escalated.")
                description = self._barrier_answer(source) or description
                linked = [checkin_id]
        if description:
            title = suggested_title(description)
        return EscalateFormView(
            levels=[(r.level, r.name) for r in self.alliance.escalation_ladder],
            agencies=[(a.id, a.name) for a in self.alliance.agencies],
            recent_checkins=recent,
            title=title,
            description=description,
            linked=linked,
            source_checkin_id=checkin_id,
        )

    def raise_barrier(
        self,
        platform: str,
        user_id: str,
        *,
        title: str | None,
        description: str | None,
        who_is_affected: str | None,
        agencies: list[str],
        level: str | None,
        anonymous: bool,
        checkin_ids: list[int],
        idempotency_key: str | None = None,
    ) -> Change:
        """Validate, redact and store a new barrier at a ladder level (anyone may raise one).

        Raises ValidationFailed naming each field; nothing is stored then.
        """
        if not self.alliance.escalation_ladder:
            raise NoLadder()
        now = self.clock()
        with self.uow() as uow:
            if idempotency_key:
                existing = uow.escalations.by_key(idempotency_key)
                if existing is not None:
                    return Change(
                        existing.id, "raised", None, existing.level, existing.level, created=False
                    )
            raiser = self._person(uow, platform, user_id)
            own = [
                cid
                for cid in checkin_ids
                if (checkin := uow.checkins.get(cid)) is not None and checkin.member_id == raiser.id
            ]
            draft = prepare_barrier(
                title,
                description,
                who_is_affected,
                agencies,
                level,
                anonymous,
                checkin_ids,
                known_agencies=[a.id for a in self.alliance.agencies],
                ladder=self.register.ladder,
                own_checkins=own,
            )
            row = uow.escalations.add(
                EscalationRow(
                    title=draft.title,
                    description=draft.description,
                    who_is_affected=draft.who_is_affected,
                    raised_by_id=raiser.id,
                    raiser_anonymous=draft.anonymous,
                    agencies=draft.agencies,
                    level=draft.level,
                    status=EscalationStatus.OPEN.value,
                    version=1,
                    idempotency_key=idempotency_key,
                    created_at=now,
                    updated_at=now,
                ),
                draft.checkin_ids,
            )
            # The history and the audit log are read by stewards and admins: an anonymous
            # raiser is recorded in neither.
            uow.escalations.record(
                row.id,
                "raised",
                actor_id=None if draft.anonymous else raiser.id,
                at=now,
                to_status=EscalationStatus.OPEN.value,
                # Raised *at* a level, not moved to it: readers that look for a level change
                # (from_level != to_level) must not count a new barrier as moved up.
                from_level=draft.level,
                to_level=draft.level,
            )
            uow.audit.record(
                actor="anonymous" if draft.anonymous else f"{platform}:{user_id}",
                action="escalation.raised",
                target=f"escalation:{row.id}",
                level=draft.level,
                anonymous=draft.anonymous,
                linked_checkins=len(draft.checkin_ids),
            )
            change = Change(
                barrier_id=row.id,
                kind="raised",
                actor_user_id=None if draft.anonymous else user_id,
                from_level=draft.level,
                to_level=draft.level,
                redaction_summary=draft.redaction_summary,
            )
            uow.commit()
        log.info("barrier %s raised at %s", change.barrier_id, change.to_level)
        return change

    # ------------------------------------------------------------------ steward actions

    def for_steward(
        self, platform: str, user_id: str, barrier_id: int, seen_version: int | None, action: Action
    ) -> BarrierRef:
        """Check a steward may take `action` now (before opening its modal)."""
        require(self.alliance.roles_of(user_id), STEWARDS, action.doing)
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            check_version(seen_version, row.version, row.status)
            # Planning with a placeholder note checks the transition and the ladder only.
            plan_move(row.status, row.level, action, self.register.ladder, note="-")
            return BarrierRef(barrier_id=row.id, version=row.version, title=row.title)

    def act(
        self,
        platform: str,
        user_id: str,
        barrier_id: int,
        seen_version: int | None,
        action: Action,
        note: str | None = None,
        owner_user_id: str | None = None,
    ) -> Change:
        """Record one steward action, or refuse it with a message saying why.

        Refusals: Forbidden (not a steward), InvalidTransition, StaleBarrier (someone else
        changed it first: of two simultaneous actions on one version exactly one is recorded),
        ValidationFailed (a missing outcome, reason or owner).
        """
        require(self.alliance.roles_of(user_id), STEWARDS, action.doing)
        now = self.clock()
        with self.uow() as uow:
            actor = self._person(uow, platform, user_id)
            row = self._barrier(uow, barrier_id)
            check_version(seen_version, row.version, row.status)
            move = plan_move(row.status, row.level, action, self.register.ladder, note)
            values: dict[str, object] = {
                "status": move.to_status.value,
                "level": move.to_level,
                "updated_at": now,
            }
            if action is Action.ASSIGN:
                if not owner_user_id:
                    raise ValidationFailed({"owner": "Choose the person who will own it."})
                values["owner_id"] = self._owner(uow, platform, owner_user_id).id
            if move.clears_owner:
                values["owner_id"] = None
            if action in (Action.RESOLVE, Action.CLOSE):
                values["outcome"] = move.note
            if not uow.escalations.apply(row.id, row.version, **values):
                # Another steward's change was committed between our read and our write.
                current = uow.escalations.get(row.id)
                raise StaleBarrier(EscalationStatus(current.status if current else row.status))
            uow.escalations.record(
                row.id,
                action.event_kind,
                actor_id=actor.id,
                at=now,
                from_status=move.from_status.value,
                to_status=move.to_status.value,
                from_level=move.from_level,
                to_level=move.to_level,
                note=move.note,
            )
            uow.audit.record(
                actor=f"{platform}:{user_id}",
                action=f"escalation.{action.event_kind}",
                target=f"escalation:{row.id}",
                from_status=move.from_status.value,
                to_status=move.to_status.value,
                from_level=move.from_level,
                to_level=move.to_level,
            )
            uow.commit()
        log.info("barrier %s %s", barrier_id, action.event_kind)
        return Change(
            barrier_id=barrier_id,
            kind=action.event_kind,
            actor_user_id=user_id,
            from_level=move.from_level,
            to_level=move.to_level,
            note=move.note,
            owner_user_id=owner_user_id if action is Action.ASSIGN else None,
        )

    # ------------------------------------------------------------------ after the ack

    def publish(self, change: Change) -> None:
        """Show a change: the card (and a pointer when it moved up), then DMs to its people."""
        if not change.created:
            return
        card_url = self._publish_card(change)
        self._tell_people(change, card_url)

    def _publish_card(self, change: Change) -> str | None:
        barrier_id = change.barrier_id
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            old = _ref(row.channel_id, row.message_ts)
            channel = self.register.level_channel(row.level) or row.channel_id
            view = self.register.card_view(uow, row)
            card_url, title = row.card_url, row.title
        moved = change.kind == "escalated" and change.from_level != change.to_level
        if old is not None and not moved:
            try:
                self.messenger.update_card(old, view)
                return card_url
            except MessengerError as exc:
                if exc.code not in CARD_GONE:
                    log.warning("could not update card of barrier %s: %s", barrier_id, exc.code)
                    return card_url
        if channel is None:
            log.warning("barrier %s has no channel to post its card in", barrier_id)
            return card_url
        try:
            ref = self.messenger.post_card(channel, view)
        except MessengerError as exc:
            log.warning("could not post card of barrier %s: %s", barrier_id, exc.code)
            if moved and old is not None:
                self._keep_old_card(old, change, channel, exc.code)
            return card_url
        url = self.messenger.link_to(ref)
        with self.uow() as uow:
            uow.escalations.set_card(barrier_id, ref.channel, ref.ts, url)
            uow.commit()
        if moved and old is not None:
            pointer = BarrierPointerView(
                barrier_id=barrier_id,
                title=title,
                to_level_name=self.register.level_name(change.to_level),
                to_channel=ref.channel,
                at=self.clock(),
                actor_user_id=change.actor_user_id,
                card_url=url,
            )
            try:
                self.messenger.post_pointer(old, pointer)
            except MessengerError as exc:
                log.warning("could not leave a pointer for barrier %s: %s", barrier_id, exc.code)
        return url

    def _keep_old_card(self, old: MessageRef, change: Change, channel: str, code: str) -> None:
        """The next level's channel refused the card: say so on the old one, which stays live."""
        note = (
            f"This barrier moved up to {self.register.level_name(change.to_level)}, but "
            f"LearnLoop couldn't post in its channel ({code}). Please invite LearnLoop there; "
            "meanwhile the card stays here."
        )
        with self.uow() as uow:
            view = self.register.card_view(uow, self._barrier(uow, change.barrier_id), note=note)
        try:
            self.messenger.update_card(old, view)
        except MessengerError as exc:
            log.warning("could not update card of barrier %s: %s", change.barrier_id, exc.code)
        log.warning("barrier %s card not posted in %s", change.barrier_id, channel)

    def _tell_people(self, change: Change, card_url: str | None) -> None:
        """DM the raiser and the authors of linked check-ins (anonymous raisers too)."""
        with self.uow() as uow:
            row = self._barrier(uow, change.barrier_id)
            people = [
                (m.platform_user_id, m.id == row.raised_by_id)
                for m in uow.escalations.people_to_tell(row.id)
            ]
            anonymous, title = row.raiser_anonymous, row.title
            level_name = self.register.level_name(row.level)
        for user_id, as_raiser in people:
            if change.kind != "raised" and user_id == change.actor_user_id:
                continue  # the steward who acted knows already
            view = BarrierNoticeView(
                barrier_id=change.barrier_id,
                title=title,
                kind=change.kind,
                level_name=level_name,
                as_raiser=as_raiser,
                anonymous=anonymous and as_raiser,
                actor_user_id=change.actor_user_id if change.kind != "raised" else None,
                owner_user_id=change.owner_user_id,
                note=change.note if change.kind in ("resolved", "closed") else None,
                redaction_summary=change.redaction_summary if as_raiser else "",
            )
            self._dm(user_id, view)
        owner = change.owner_user_id
        if change.kind == "assigned" and owner and owner != change.actor_user_id:
            self._dm(
                owner,
                BarrierNoticeView(
                    barrier_id=change.barrier_id,
                    title=title,
                    kind="assigned_to_you",
                    level_name=level_name,
                    as_raiser=False,
                    actor_user_id=change.actor_user_id,
                    owner_user_id=owner,
                    note=change.note,
                    card_url=card_url,
                ),
            )

    def _dm(self, user_id: str, view: BarrierNoticeView) -> None:
        try:
            self.messenger.notify_barrier(user_id, view)
        except MessengerError as exc:
            # The change is recorded; one undelivered DM must not undo or block it.
            log.warning("could not tell someone about barrier %s: %s", view.barrier_id, exc.code)

    def refresh_card(self, barrier_id: int) -> None:
        """Re-render a card from what is stored (after a refusal showed it was out of date)."""
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            ref = _ref(row.channel_id, row.message_ts)
            view = self.register.card_view(uow, row)
        if ref is None:
            return
        try:
            self.messenger.update_card(ref, view)
        except MessengerError as exc:
            log.warning("could not refresh card of barrier %s: %s", barrier_id, exc.code)

    # ------------------------------------------------------------------ the register

    def listing(self, platform: str, user_id: str, which: str) -> BarrierListView:
        """`/barriers [open|mine|stale|all]`: a compact list, linking to the cards."""
        return self.register.listing(platform, user_id, which)

    def summary_for_period(self, start: dt.datetime, end: dt.datetime) -> BarrierSummary:
        """The digest's barrier section: new, moved up, stale, resolved and closed."""
        return self.register.summary_for_period(start, end)

    def raise_stale(self, now: dt.datetime | None = None) -> StaleReport:
        """Post, once per level per week, the barriers that have not moved for two weeks.

        Called by the worker every tick; nothing happens before the weekly slot (Monday 09:00
        alliance time) and, once a level's reminder is posted, nothing more that week.
        """
        now = now or self.clock()
        local = now.astimezone(self.alliance.alliance.zone)
        period = local.strftime("%G-W%V")
        report = StaleReport(period=period)
        if not is_due([STALE_REMINDER_DAY], STALE_REMINDER_TIME, local):
            return report
        with self.uow() as uow:
            done = uow.escalations.reminded_levels(period)
            grouped = self.register.stale_lines(uow, now)
        for level, lines in grouped.items():
            channel = self.register.level_channel(level)
            if channel is None:
                report.off_ladder += len(lines)
                continue
            if level in done:
                report.already.append(level)
                continue
            with self.uow() as uow:
                claimed = uow.escalations.claim_reminder(level, period)
                uow.commit()
                reminder_id = claimed.id if claimed else None
            if reminder_id is None:
                report.already.append(level)
                continue
            view = StaleBarriersView(
                level_name=self.register.level_name(level),
                stale_days=STALE_AFTER.days,
                lines=lines,
            )
            try:
                ref = self.messenger.post_stale(channel, view)
            except MessengerError as exc:
                # Left pending: the next run this week tries again.
                with self.uow() as uow:
                    row = uow.escalations.reminder(reminder_id)
                    if row is not None:
                        row.error = exc.code[:200]
                    uow.commit()
                report.failed[level] = exc.code
                log.warning("stale reminder for %s not posted: %s", level, exc.code)
                continue
            with self.uow() as uow:
                row = uow.escalations.reminder(reminder_id)
                if row is not None:
                    row.status = "posted"
                    row.channel_id, row.message_ts = ref.channel, ref.ts
                    row.barrier_count = len(lines)
                    row.posted_at = self.clock()
                    row.error = None
                uow.commit()
            report.posted[level] = len(lines)
        return report

    def export_records(self, actor: str = "cli", fmt: str = "") -> list[dict[str, object]]:
        """Every barrier and its history for board papers (audited; no raisers in it)."""
        records = self.register.export_records()
        with self.uow() as uow:
            uow.audit.record(
                actor=actor, action="barriers.exported", format=fmt, barriers=len(records)
            )
            uow.commit()
        return records

    # ------------------------------------------------------------------ helpers

    def _barrier(self, uow: UnitOfWork, barrier_id: int) -> EscalationRow:
        row = uow.escalations.get(barrier_id)
        if row is None:
            raise NotFound("That barrier no longer exists.")
        return row

    def _config_agency(self, platform: str, user_id: str) -> str | None:
        for agency in self.alliance.agencies:
            if agency.platform == platform and user_id in (*agency.members, *agency.managers):
                return agency.id
        return None

    def _person(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        """The member row for someone taking part in the register, created if need be.

        Their agency comes from the config, else their existing row; people in no agency at
        all (a steward, a board member given a barrier) go in the reserved outside agency.
        """
        row = uow.members.by_platform_id(platform, user_id)
        agency = self._config_agency(platform, user_id)
        if row is not None and (agency is None or row.agency_id != OUTSIDE_AGENCY_ID):
            return row
        if agency is None:
            uow.escalations.ensure_outside_agency(platform)
        return uow.members.ensure(platform, user_id, agency or OUTSIDE_AGENCY_ID)

    def _owner(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        try:
            return self._person(uow, platform, user_id)
        except DataDeleted:
            raise ValidationFailed(
                {
                    "owner": "That person asked LearnLoop to forget them, so they can't own a "
                    "barrier. Please choose someone else."
                }
            ) from None

    def _question_set(self, set_id: str) -> QuestionSet | None:
        if set_id == DEFAULT_QUESTION_SET.id:
            return DEFAULT_QUESTION_SET
        return next((q for q in self.alliance.question_sets if q.id == set_id), None)

    def _barrier_answer(self, row: CheckinRow) -> str:
        qset = self._question_set(row.question_set_id)
        question = qset.barrier_question if qset else None
        answer = row.answers.get(question.id) if question else None
        return answer if isinstance(answer, str) else ""

    def _checkin_label(self, row: CheckinRow) -> str:
        day = row.created_at.astimezone(self.alliance.alliance.zone).strftime("%-d %b")
        first = next((v for v in row.answers.values() if isinstance(v, str) and v.strip()), "")
        return f"{day}: {' '.join(first.split())}"


def _ref(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None
