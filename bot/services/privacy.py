"""Privacy: what LearnLoop holds about a person, export, erasure, retention, audit.

Every export goes through the visibility policy (bot/domain/visibility.py): a person's own
export is read as `Audience.author`, an agency's as `Audience.agency`, so an anonymous entry
is never tied to its author in anything but the author's own copy.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.answers import labelled_answers
from bot.domain.checkins import Visibility
from bot.domain.errors import LearnLoopError, NotAMember, NotFound
from bot.domain.privacy import (
    EXPORT_FORMAT,
    daily_slot_start,
    export_filename,
    retention_cutoff,
    subject_key,
)
from bot.domain.visibility import Audience, attribution, may_name_author, readable
from bot.ports import MessengerError
from bot.services.base import MemberFacingService
from bot.views.privacy import PrivacyStage, PrivacyView
from bot.views.words import words
from storage.models import AuditEventRow, CheckinRow, MemberRow
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# How the scheduled retention run appears in the audit log.
WORKER_ACTOR = "worker"

EXPORT_NOTES = [
    "Identifiers of the people you support (NHS numbers, National Insurance numbers, postcodes, "
    "phone numbers, e-mail addresses, dates of birth) were replaced with placeholders such as "
    "[NHS number] before anything was stored; the originals were never kept.",
    "Learnings are deleted automatically when they are older than the alliance's retention period.",
]


@dataclass(frozen=True)
class PurgeReport:
    """What a retention purge did (or, on a dry run, would do)."""

    cutoff: dt.datetime
    retention_months: int
    checkins: int
    prompts: int
    dry_run: bool


@dataclass(frozen=True)
class AuditEntry:
    """One audit event, detached from the session."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: AuditEventRow) -> AuditEntry:
        """Copy the fields out of a row."""
        return cls(row.id, row.at, row.actor, row.action, row.target, dict(row.details or {}))


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def to_json(document: dict[str, Any]) -> bytes:
    """An export as UTF-8 JSON, readable by a person and a program."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


class PrivacyService(MemberFacingService):
    """Self-service and admin data-protection actions; each one leaves an audit event."""

    @property
    def retention_months(self) -> int:
        """How long check-ins are kept (from the alliance file)."""
        return self.alliance.alliance.retention_months

    # ------------------------------------------------------------------ the person's panel

    def panel(self, platform: str, user_id: str) -> PrivacyView:
        """What LearnLoop holds about this person, for `/learnloop privacy`."""
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            if member is None:
                tombstone = uow.privacy.tombstone(subject_key(platform, user_id))
                return PrivacyView(
                    stage=PrivacyStage.PANEL,
                    is_member=False,
                    platform=platform,
                    retention_months=self.retention_months,
                    deleted_on=self._local_date(tombstone.deleted_at) if tombstone else None,
                )
            return self._view(uow, member, PrivacyStage.PANEL, platform)

    def kept(self, platform: str) -> PrivacyView:
        """After "Keep my data": nothing changed, and the panel says so."""
        return PrivacyView(
            stage=PrivacyStage.KEPT,
            is_member=True,
            retention_months=self.retention_months,
            platform=platform,
        )

    def confirm_delete(self, platform: str, user_id: str) -> PrivacyView:
        """The confirmation step: exactly what "Delete" would remove."""
        with self.uow() as uow:
            member = self._member(uow, platform, user_id)
            return self._view(uow, member, PrivacyStage.CONFIRM_DELETE, platform)

    # ------------------------------------------------------------------ export

    def export_member(self, platform: str, user_id: str, actor: str) -> dict[str, Any]:
        """Everything LearnLoop holds about one person (subject access), as a JSON-ready dict.

        Includes their anonymous learnings: they are the author's own. Records an audit event.
        """
        with self.uow() as uow:
            member = self._member(uow, platform, user_id)
            document = self._member_document(uow, member)
            uow.audit.record(
                at=self.clock(),
                actor=actor,
                action="privacy.exported",
                target=f"member:{member.id}",
                checkins=len(document["checkins"]),
            )
            uow.commit()
        return document

    def export_agency(self, agency_id: str, actor: str) -> dict[str, Any]:
        """An agency's members and learnings, with anonymous entries left unattributed."""
        try:
            agency = self.alliance.agency(agency_id)
        except KeyError:
            known = ", ".join(a.id for a in self.alliance.agencies)
            raise NotFound(f"There is no agency {agency_id!r} (known: {known}).") from None
        audience = Audience.agency(agency.id)
        with self.uow() as uow:
            members = uow.privacy.members_of_agency(agency.id)
            rows = readable(audience, uow.privacy.checkins_of_agency(agency.id))
            entries = []
            for row in rows:
                author = row.member if may_name_author(audience, row) else None
                entry = self._checkin_document(
                    row,
                    attribution(
                        audience, row, author.display_name if author else None, agency.name
                    ),
                )
                if author is not None:
                    entry["author"] = {
                        "platform": author.platform,
                        "user_id": author.platform_user_id,
                    }
                entries.append(entry)
            document = {
                "format": EXPORT_FORMAT,
                "generated_at": _iso(self.clock()),
                "alliance": self.alliance.alliance.name,
                "agency": {"id": agency.id, "name": agency.name},
                "members": [self._profile(m) for m in members],
                "checkins": entries,
                "notes": [
                    *EXPORT_NOTES,
                    "Learnings shared anonymously are included without anything that could "
                    "identify their author.",
                ],
            }
            uow.audit.record(
                at=self.clock(),
                actor=actor,
                action="privacy.exported",
                target=f"agency:{agency.id}",
                members=len(members),
                checkins=len(entries),
            )
            uow.commit()
        return document

    def send_export(self, platform: str, user_id: str) -> PrivacyView:
        """Self-service export: build the person's file and DM it to them."""
        actor = f"{platform}:{user_id}"
        with self.uow() as uow:
            member = self._member(uow, platform, user_id)
            document = self._member_document(uow, member)
            view = self._view(uow, member, PrivacyStage.EXPORTED, platform)
            member_id = member.id
        filename = export_filename(self._local_date(self.clock()))
        try:
            self.messenger.send_file(
                user_id,
                filename,
                to_json(document),
                "Here is everything LearnLoop holds about you. Only you can see this file.",
            )
        except MessengerError as exc:
            log.warning("export for member %s not delivered: %s", member_id, exc.code)
            raise LearnLoopError(
                words(
                    "I couldn't send your file just now, so nothing was exported. "
                    "Please try again in a minute."
                )
            ) from exc
        with self.uow() as uow:
            uow.audit.record(
                at=self.clock(),
                actor=actor,
                action="privacy.exported",
                target=f"member:{member_id}",
                checkins=len(document["checkins"]),
                delivered="direct message",
            )
            uow.commit()
        return replace(view, filename=filename)

    # ------------------------------------------------------------------ erasure

    def delete_member(self, platform: str, user_id: str, actor: str | None = None) -> PrivacyView:
        """Erase a person: check-ins, prompts and profile deleted, barriers unattributed.

        A tombstone (a one-way key) is written in the same transaction, so nothing — a
        retried event, the config's member list, a channel sync — re-creates them until
        they choose to start again. Deleting twice is harmless.
        """
        key = subject_key(platform, user_id)
        now = self.clock()
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            if member is None:
                tombstone = uow.privacy.tombstone(key)
                if tombstone is None:
                    raise NotAMember()
                return PrivacyView(
                    stage=PrivacyStage.DELETED,
                    is_member=False,
                    platform=platform,
                    retention_months=self.retention_months,
                    deleted_on=self._local_date(tombstone.deleted_at),
                )
            member_id = member.id
            erased = uow.privacy.erase_member(member_id)
            if platform == "teams":
                # Where LearnLoop could reach them goes in the same transaction as the rest.
                uow.teams.forget_person(user_id)
            uow.privacy.add_tombstone(key, now)
            uow.audit.record(
                at=self.clock(),
                actor=actor or f"{platform}:{user_id}",
                action="privacy.deleted",
                target=f"member:{member_id}",
                checkins=erased.checkins,
                prompts=erased.prompts,
                barriers_unattributed=erased.barriers_unattributed,
            )
            uow.commit()
        return PrivacyView(
            stage=PrivacyStage.DELETED,
            is_member=False,
            platform=platform,
            retention_months=self.retention_months,
            checkins=erased.checkins,
            prompts=erased.prompts,
            barriers_raised=erased.barriers_unattributed,
            deleted_on=self._local_date(now),
        )

    def start_again(self, platform: str, user_id: str) -> PrivacyView:
        """Opt back in after a deletion: the tombstone goes, and a new, empty profile is made."""
        agency_id = self._configured_agency(platform, user_id)
        with self.uow() as uow:
            removed = uow.privacy.remove_tombstone(subject_key(platform, user_id))
            if agency_id is not None:
                uow.members.ensure(platform, user_id, agency_id)
            if removed:
                uow.audit.record(
                    at=self.clock(),
                    actor=f"{platform}:{user_id}",
                    action="privacy.restarted",
                    target=None,
                )
            uow.commit()
        return PrivacyView(
            stage=PrivacyStage.RESTARTED,
            is_member=agency_id is not None,
            platform=platform,
            retention_months=self.retention_months,
        )

    # ------------------------------------------------------------------ retention and audit

    def purge_due(self, now: dt.datetime) -> PurgeReport | None:
        """The worker's daily job: purge once per day, at the first tick after 02:00 local.

        The worker calls this every tick; the audit log is the ledger that makes it once a
        day, across restarts and processes.
        """
        slot = daily_slot_start(now, self.alliance.alliance.zone)
        with self.uow() as uow:
            done = uow.privacy.recorded_since("retention.purged", WORKER_ACTOR, slot)
        if done:
            return None
        return self.purge(now, actor=WORKER_ACTOR)

    def purge(
        self, now: dt.datetime | None = None, *, dry_run: bool = False, actor: str = WORKER_ACTOR
    ) -> PurgeReport:
        """Delete check-ins and prompt history older than `retention_months`, now."""
        now = now or self.clock()
        cutoff = retention_cutoff(now, self.retention_months)
        with self.uow() as uow:
            counts = uow.privacy.purge_before(cutoff, dry_run=dry_run)
            # At the service's `now`: purge_due reads these rows as its once-a-day ledger.
            uow.audit.record(
                at=now,
                actor=actor,
                action="retention.previewed" if dry_run else "retention.purged",
                target=None,
                cutoff=_iso(cutoff),
                retention_months=self.retention_months,
                checkins=counts.checkins,
                prompts=counts.prompts,
            )
            uow.commit()
        if counts.checkins or counts.prompts:
            log.info(
                "retention: %s %d check-ins and %d prompts",
                "would delete" if dry_run else "deleted",
                counts.checkins,
                counts.prompts,
            )
        return PurgeReport(
            cutoff=cutoff,
            retention_months=self.retention_months,
            checkins=counts.checkins,
            prompts=counts.prompts,
            dry_run=dry_run,
        )

    def audit_log(self, actor: str, since: dt.datetime | None = None) -> list[AuditEntry]:
        """The audit log from `since`; reading it is itself recorded."""
        with self.uow() as uow:
            entries = [AuditEntry.of(row) for row in uow.audit.since(since)]
            uow.audit.record(
                at=self.clock(), actor=actor, action="audit.viewed", target=None, since=_iso(since)
            )
            uow.commit()
        return entries

    # ------------------------------------------------------------------ helpers

    def _member(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        # NotAMember, or DataDeleted for someone who deleted their data.
        return self.members.find(uow, platform, user_id)

    def _local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.alliance.alliance.zone).date()

    def _view(
        self, uow: UnitOfWork, member: MemberRow, stage: PrivacyStage, platform: str
    ) -> PrivacyView:
        total, anonymous, first = uow.privacy.checkin_counts(member.id)
        return PrivacyView(
            stage=stage,
            is_member=True,
            platform=platform,
            retention_months=self.retention_months,
            checkins=total,
            anonymous=anonymous,
            prompts=len(uow.privacy.prompts_of(member.id)),
            barriers_raised=len(uow.privacy.barriers_raised_by(member.id)),
            first_saved=self._local_date(first) if first else None,
        )

    def _agency_name(self, agency_id: str) -> str:
        try:
            return self.alliance.agency(agency_id).name
        except KeyError:  # an agency since removed from the config
            return agency_id

    def _configured_agency(self, platform: str, user_id: str) -> str | None:
        """The agency the config puts this person in: listed ids first, then channels."""
        for agency in self.alliance.agencies:
            if agency.platform == platform and user_id in (*agency.members, *agency.managers):
                return agency.id
        for agency in self.alliance.agencies:
            if agency.platform != platform or not agency.channel:
                continue
            try:
                if user_id in self.messenger.channel_members(agency.channel):
                    return agency.id
            except MessengerError as exc:
                log.warning("could not list members of agency %s: %s", agency.id, exc.code)
        return None

    def _profile(self, member: MemberRow) -> dict[str, Any]:
        return {
            "platform": member.platform,
            "user_id": member.platform_user_id,
            "display_name": member.display_name,
            "agency": member.agency_id,
            "roles": sorted(self.alliance.roles_of(member.platform_user_id)),
            "timezone": member.timezone,
            "paused_until": _iso(member.paused_until),
            "alliance_note": member.alliance_note,  # the weekly "What the alliance learned" DM
            "active": member.active,
            "inactive_reason": member.inactive_reason,
            "member_since": _iso(member.created_at),
        }

    def _checkin_document(self, row: CheckinRow, byline: str) -> dict[str, Any]:
        try:
            label = Visibility(row.visibility).label
        except ValueError:
            label = row.visibility
        return {
            "id": row.id,
            "created_at": _iso(row.created_at),
            "byline": byline,
            "visibility": row.visibility,
            "visibility_label": label,
            "source": row.source,
            "themes": [t.name for t in row.themes],
            "questions": list(row.questions or []),
            "answers": dict(row.answers or {}),
            # Each answer under the question it answered, read through the check-in's
            # own questions (a set changed since never relabels it), and its cycle tags.
            "answered": [
                {"question": label, "answer": text}
                for label, text in labelled_answers(row.questions or [], row.answers or {})
            ],
            "inquiry_id": row.inquiry_id,
            "purpose_period": row.purpose_period,
            "identifiers_removed": row.redaction_count,
        }

    def _member_document(self, uow: UnitOfWork, member: MemberRow) -> dict[str, Any]:
        audience = Audience.author(member.id)
        agency_name = self._agency_name(member.agency_id)
        checkins = [
            self._checkin_document(
                row, attribution(audience, row, member.display_name, agency_name)
            )
            for row in readable(audience, uow.privacy.checkins_of(member.id))
        ]
        actor = f"{member.platform}:{member.platform_user_id}"
        return {
            "format": EXPORT_FORMAT,
            "generated_at": _iso(self.clock()),
            "alliance": self.alliance.alliance.name,
            "subject": {**self._profile(member), "agency_name": agency_name},
            "checkins": checkins,
            "prompts": [
                {
                    "cycle": p.cycle,
                    "status": p.status,
                    "sent_at": _iso(p.sent_at),
                    "reminded_at": _iso(p.reminded_at),
                    "closed_at": _iso(p.closed_at),
                }
                for p in uow.privacy.prompts_of(member.id)
            ],
            "barriers_raised": [
                {
                    "id": b.id,
                    "title": b.title,
                    "description": b.description,
                    "status": b.status,
                    "level": b.level,
                    "created_at": _iso(b.created_at),
                }
                for b in uow.privacy.barriers_raised_by(member.id)
            ],
            "activity": [
                {"at": _iso(e.at), "action": e.action, "target": e.target, "details": e.details}
                for e in uow.privacy.audit_about(actor, member.id)
            ],
            "notes": EXPORT_NOTES,
        }
