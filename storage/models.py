"""SQLAlchemy 2 typed models for LearnLoop's whole domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.slack_installations import declare_oauth_tables

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC and always read back as aware datetimes (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (so Alembic can name and drop)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The agency row for people who act in LearnLoop (stewards, owners of barriers) but
# are in none of the configured agencies. Config ids cannot start with "_", so it never clashes;
# such a member moves to their real agency as soon as one is known (MemberRepository.ensure).
OUTSIDE_AGENCY_ID = "_outside"
OUTSIDE_AGENCY_NAME = "Outside the alliance's agencies"


class AgencyRow(Base):
    """An organisation in the alliance (kept in step with the config file)."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16), default="slack")


class MemberRow(Base):
    """A person on one platform, in one agency."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    timezone_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(64))
    dm_channel_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The weekly "What the alliance learned" note: on unless the person turned it off.
    alliance_note: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    agency: Mapped[AgencyRow] = relationship()


class AllianceNoteRow(Base):
    """The alliance note's ledger: one row per (member, week), claimed before the DM is sent.

    Unique, so a note goes at most once per member per week however many workers run.
    """

    __tablename__ = "alliance_notes"
    __table_args__ = (UniqueConstraint("member_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CohortRow(Base):
    """A group prompted together (kept in step with the config file)."""

    __tablename__ = "cohorts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_set_id: Mapped[str] = mapped_column(String(64))


class PromptRow(Base):
    """The delivery ledger: one row per (member, cycle), written before the DM is sent."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("member_id", "cycle"),
        Index("ix_prompts_cycle_status", "cycle", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    cycle: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set while a send is in flight. A row still marked after a crash is "in doubt":
    # the worker looks for the message in the DM before it ever sends again.
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Several workers share the sending: the one holding the row's lease, and until when. A
    # lease past its expiry (or whose worker is gone) may be taken by another worker.
    leased_by: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[MemberRow] = relationship()


class ThemeRow(Base):
    """A configured theme learnings are tagged with."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class CheckinThemeRow(Base):
    """Which themes a check-in was tagged with."""

    __tablename__ = "checkin_themes"

    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True)


class CheckinRow(Base):
    """A learning, with answers keyed by question id. Text is redacted before it gets here."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_created_agency", "created_at", "agency_id"),
        # "has this person answered the purpose question this period?" on form open.
        Index("ix_checkins_member_purpose", "member_id", "purpose_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id", ondelete="SET NULL"))
    question_set_id: Mapped[str] = mapped_column(String(64))
    # The questions as they were asked, so a later change to the set never breaks old entries.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    visibility: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    redaction_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The inquiry running for the author's cohort when this was shared, and the
    # purpose period (e.g. "2026-Q4") when it answered the purpose question.
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="SET NULL"), index=True
    )
    purpose_period: Mapped[str | None] = mapped_column(String(16))
    # The chat message a plain reply came from ("<channel>:<ts>"), so an edit of that message
    # in Slack finds the entry it created.
    source_message: Mapped[str | None] = mapped_column(String(128), index=True)

    themes: Mapped[list[ThemeRow]] = relationship(secondary="checkin_themes", lazy="selectin")
    member: Mapped[MemberRow | None] = relationship()


class LearningLinkRow(Base):
    """Two learnings from different agencies that say the same thing."""

    __tablename__ = "learning_links"
    __table_args__ = (UniqueConstraint("checkin_a_id", "checkin_b_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkin_a_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    checkin_b_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EscalationRow(Base):
    """A systemic barrier on its way up the ladder."""

    __tablename__ = "escalations"
    # The register lists by status, newest change first.
    __table_args__ = (Index("ix_escalations_status_updated", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    who_is_affected: Mapped[str | None] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    raiser_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # A link to the card, so /barriers and the digest can point at it.
    card_url: Mapped[str | None] = mapped_column(String(500))
    # The modal submission that raised it, so a double submit stores it once.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EscalationLinkRow(Base):
    """A check-in linked to a barrier (its author hears when the barrier moves)."""

    __tablename__ = "escalation_links"

    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), primary_key=True
    )
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True
    )
    # Who made the link: None when the raiser linked their own check-in, "recurring" when a
    # steward raised a barrier from "Barriers we keep meeting" and linked everyone's answers.
    linked_via: Mapped[str | None] = mapped_column(String(16))


class EscalationEventRow(Base):
    """Append-only history of a barrier: who did what, when, from which state to which."""

    __tablename__ = "escalation_events"
    # The register reads a barrier's history, and the digest reads events by period.
    __table_args__ = (Index("ix_escalation_events_escalation_at", "escalation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    from_level: Mapped[str | None] = mapped_column(String(64))
    to_level: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EscalationReminderRow(Base):
    """One stale-barrier reminder per (ladder level, week, channel), claimed before posting.

    `destination` is "" for the level's own channel, or the agency leadership channel the
    first rung's barriers of an agency with its own go to (one reminder in each).
    """

    __tablename__ = "escalation_reminders"
    __table_args__ = (UniqueConstraint("level", "period", "destination"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(100), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    barrier_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DigestRow(Base):
    """One digest per (destination, period): claimed before posting so it is posted once."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("destination_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A digest may be several messages (a head and replies in its thread) and charts. Each part
    # the platform accepted is recorded as it goes, so a retry resumes after it, never re-posts.
    parts: Mapped[list[str] | None] = mapped_column(JSON)
    charts_posted: Mapped[int | None] = mapped_column(Integer)
    # When the current attempt began: a `posting` row older than the lease lost its worker.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuditEventRow(Base):
    """Append-only record of exports, deletions, role changes and admin actions."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TombstoneRow(Base):
    """Someone who deleted their data, as a one-way key (never their platform id).

    Checked before a member is created, so a retried event, a listed id in the config or a
    channel sync cannot bring back a person who asked to be forgotten.
    """

    __tablename__ = "tombstones"

    subject_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    deleted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamsConversationRow(Base):
    """Where LearnLoop can reach someone (or a channel) in Microsoft Teams.

    Stored when the app is installed, because Teams only allows a bot to message a person
    proactively in a conversation it was given: the id, the regional service URL and the tenant.
    """

    __tablename__ = "teams_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(300), unique=True)
    # personal (a 1:1 chat with one person), channel or groupChat.
    kind: Mapped[str] = mapped_column(String(16))
    # The person's Microsoft Entra object id: LearnLoop's platform user id on Teams.
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set when the person is a member; deleting the member (their data) deletes this too.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    teams_user_id: Mapped[str | None] = mapped_column(String(300))
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InquiryRow(Base):
    """A focused question a cohort is asked for a few weeks (a steward starts it)."""

    __tablename__ = "inquiries"
    __table_args__ = (Index("ix_inquiries_cohort_status", "cohort_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    # Redacted before it is stored, like every other text.
    question: Mapped[str] = mapped_column(Text)
    weeks: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))
    # Where its summary was posted (the steward channel).
    summary_channel_id: Mapped[str | None] = mapped_column(String(64))
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ContributorLinkRow(Base):
    """A contributor group's form link (issue 15): revocable, so its nonce is stored.

    The URL carries the group, this nonce and an HMAC of both under BOARD_SECRET_KEY: the
    nonce alone (a database read) cannot make a working link without the key.
    """

    __tablename__ = "contributor_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ContributionRow(Base):
    """When a link's form was submitted: what its rate limit counts (no text, no person)."""

    __tablename__ = "contributions"
    __table_args__ = (Index("ix_contributions_link_at", "link_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("contributor_links.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BarrierContactRow(Base):
    """Someone with no chat account (a `people:` address) told by e-mail when a barrier moves."""

    __tablename__ = "barrier_contacts"
    __table_args__ = (UniqueConstraint("escalation_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BoardLinkRow(Base):
    """One Learning Board sign-in link asked for: its one-use id, and who and where from.

    A link is single use: signing in sets `used_at` in one conditional UPDATE. Requests for an
    address nobody is listed under are stored without a jti or an address (so the per-IP rate
    limit counts them too, and nothing says who was tried).
    """

    __tablename__ = "board_links"
    __table_args__ = (
        Index("ix_board_links_email_created", "email", "created_at"),
        Index("ix_board_links_ip_created", "ip_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # A keyed hash of the requester's IP address (never the address itself).
    ip_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BoardKeptWeekRow(Base):
    """One finished week's board figures, kept so a page need not work them out again.

    `kind` is "counts" (theme x agency raw counts of the week, the same for every scope:
    suppression is applied when they are read) or "patterns" (one scope's shared patterns,
    already as the digest shows them, for one version of the alliance file). `reads_from` and
    `reads_until` bound the check-ins it was worked out from: any change to a check-in in that
    span deletes the row (`storage.kept_weeks.forget_weeks_of`). A row is claimed `filling`
    before its inputs are read and becomes `kept` only if nothing deleted it meanwhile.
    """

    __tablename__ = "board_kept_weeks"
    __table_args__ = (
        UniqueConstraint("kind", "scope", "version", "period_start"),
        Index("ix_board_kept_weeks_reads", "reads_from", "reads_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reads_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reads_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    payload: Mapped[Any | None] = mapped_column(JSON)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # A week still running is kept a few minutes only (new check-ins keep arriving).
    fresh_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# Slack_sdk's OAuth tables (installations, bots, install states), declared by the
# stores' own builders so the migration, the schema test and the stores agree.
SLACK_OAUTH_TABLES = declare_oauth_tables(Base.metadata)


class ConfigReloadRow(Base):
    """One row: bumped by `learnloop reload`, polled by every running process (issue 16).

    A counter in the database reaches every web worker and worker, on any host, where a signal
    reaches only the processes of one machine that someone names.
    """

    __tablename__ = "config_reloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DirectoryListingRow(Base):
    """Who a channel, user group or e-mail address stood for when last looked up.

    Shared by every process, so one lookup serves them all until `refreshed_at` is stale. An
    e-mail address is kept only as a one-way key (`source`), never in clear.
    """

    __tablename__ = "directory_listings"
    __table_args__ = (UniqueConstraint("platform", "kind", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # channel | usergroup | email
    source: Mapped[str] = mapped_column(String(128))
    user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # When admins were last told an e-mail address matched nobody (told once, not each pass).
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AgencyAdditionRow(Base):
    """Someone an admin added to an agency from chat, beside the alliance file's members."""

    __tablename__ = "agency_additions"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkspaceBackoffRow(Base):
    """Until when a Slack workspace or Teams tenant asked to be left alone (a 429's Retry-After).

    Written by the worker that was told, read by every worker before it sends there: the
    platform's limit is the workspace's, shared by all the workers sending into it.
    """

    __tablename__ = "workspace_backoff"

    # "slack:<team id>" (or "slack:" in a single-workspace deployment), "teams:<tenant id>".
    key: Mapped[str] = mapped_column(String(140), primary_key=True)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
