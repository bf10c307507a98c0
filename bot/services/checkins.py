"""Check-ins: validate, redact, store, and tell the author it is saved."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from bot.alliance import AllianceConfig, Question, QuestionKind, QuestionSet
from bot.domain.checkins import (
    PromptStatus,
    QuestionSpec,
    Source,
    Visibility,
    prepare_checkin,
)
from bot.domain.entries import EditWindowClosed, may_edit
from bot.domain.errors import NotFound, ValidationFailed
from bot.domain.purpose import period_of
from bot.ports import Clock, MessageRef, Messenger, MessengerError
from bot.services.base import MemberFacingService
from bot.services.inquiries import AskedSet, InquiryService
from bot.services.members import MemberService
from bot.views.checkin import (
    CheckinSavedView,
    PromptState,
    PromptView,
    ReplySavedView,
    checkin_thanks_message,
    prompt_message,
    read_checkin,
    reply_saved_message,
)
from bot.views.entries import GONE
from storage import group_commit
from storage.entry_queries import EntryQueries
from storage.models import CheckinRow
from storage.repositories import AlreadyStored
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

PAUSE_BUTTON_WEEKS = 4


@dataclass(frozen=True)
class SavedCheckin:
    """What the handler needs after a check-in is stored."""

    checkin_id: int
    created: bool
    redaction_summary: str
    prompt_ref: MessageRef | None
    prompt_id: int | None
    # The barrier question was answered, so thanks offer "Escalate this".
    barrier_named: bool = False
    # Another delivery of the same event stored it: that one says thanks, this one is silent.
    repeat: bool = False

    @property
    def escalate_checkin_id(self) -> int | None:
        """The check-in to offer for escalation, if it names a barrier."""
        return self.checkin_id if self.barrier_named else None


class ReplyEditOutcome(StrEnum):
    """What became of an edit the author made to a chat message that was a check-in."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"  # same text after redaction (or a retried event): nothing to do
    NO_ENTRY = "no_entry"  # that message was never a check-in (a command, or since deleted)
    WINDOW_CLOSED = "window_closed"
    INVALID = "invalid"


@dataclass(frozen=True)
class ReplyEdit:
    """The result of applying an edited chat message to the entry it created."""

    outcome: ReplyEditOutcome
    checkin_id: int | None = None
    redaction_summary: str = ""
    problem: str = ""


def first_text_question(qset: QuestionSet) -> str:
    """The question a plain reply answers: the set's first free-text question."""
    return next(
        (
            q.id
            for q in qset.questions
            if q.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT)
        ),
        qset.questions[0].id,
    )


def question_specs(qset: QuestionSet) -> list[QuestionSpec]:
    """The domain's view of a configured question set."""
    return [
        QuestionSpec(
            id=q.id,
            label=q.label,
            required=q.required,
            choices=tuple(q.choices),
            multiple=q.kind == QuestionKind.MULTIPLE_CHOICE,
        )
        for q in qset.questions
    ]


def snapshot(qset: QuestionSet) -> list[dict[str, Any]]:
    """The questions as asked, stored with each check-in."""
    # All of each question (barrier flag, choices…), so an old check-in can still be
    # shown, exported, digested and given more detail after its set changes.
    return [q.model_dump(mode="json") for q in qset.questions]


def snapshot_set(question_set_id: str, questions: list[dict[str, Any]]) -> QuestionSet | None:
    """The set a check-in was answered with, rebuilt from its snapshot (None if not)."""
    rebuilt = []
    for item in questions:
        try:
            rebuilt.append(Question.model_validate(item))
        except ValidationError:
            return None
    # Already valid when asked: no re-validation against today's limits.
    return QuestionSet.model_construct(id=question_set_id, questions=rebuilt) if rebuilt else None


class CheckinService(MemberFacingService):
    """Everything a practitioner does with the weekly prompt."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
        inquiries: InquiryService | None = None,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        # Adds an inquiry's question and the purpose question to the form.
        self.inquiries = inquiries
        # DM replies that arrive together are committed together on SQLite (each is still
        # committed before its ack); see storage/group_commit.py.
        self.replies = group_commit.for_engine(uow)

    # ------------------------------------------------------------------ reading

    def question_set_for(
        self,
        platform: str,
        user_id: str,
        prompt_id: int | None = None,
        checkin_id: int | None = None,
    ) -> QuestionSet:
        """The questions this person's form asks (NotAMember if they are not in the alliance).

        The cohort's set plus any inquiry or purpose question due now (for the cycle
        of `prompt_id` when given); for `checkin_id`, the questions that check-in was answered
        with, so giving an old entry more detail never meets a changed set.
        """
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            if checkin_id is not None:
                row = uow.checkins.get(checkin_id)
                if row is not None and row.member_id == member.id:
                    return self._stored_set(row)
            return self._asked(uow, member, prompt_id).qset

    def draft_of(self, platform: str, user_id: str, checkin_id: int) -> dict[str, Any]:
        """A stored check-in's answers, for pre-filling the modal ("Add detail", "Edit")."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            row = uow.checkins.get(checkin_id)
            if row is None or row.member_id != member.id:
                raise NotFound(GONE)
            if not may_edit(row.created_at, self.clock()):
                raise EditWindowClosed()
            return {
                "answers": dict(row.answers),
                "themes": [t.name for t in row.themes],
                "visibility": row.visibility,
            }

    # ------------------------------------------------------------------ writing

    def submit_form(
        self,
        platform: str,
        user_id: str,
        values: Mapping[str, Any],
        source: Source,
        prompt_id: int | None = None,
        checkin_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedCheckin:
        """Store a submitted check-in form, `values` by field id as the renderer read them.

        The form's questions depend on the person's cohort and cycle (or, for more detail,
        on the entry), so they are read here, against the set the answers are stored with.
        """
        return self.submit(
            platform,
            user_id,
            answers={},
            themes=[],
            visibility="",
            source=source,
            prompt_id=prompt_id,
            checkin_id=checkin_id,
            idempotency_key=idempotency_key,
            form_values=values,
        )

    def submit(
        self,
        platform: str,
        user_id: str,
        answers: dict[str, Any],
        themes: list[str],
        visibility: str,
        source: Source,
        prompt_id: int | None = None,
        checkin_id: int | None = None,
        idempotency_key: str | None = None,
        answer_latest_prompt: bool = False,
        source_message: str | None = None,
        form_values: Mapping[str, Any] | None = None,
    ) -> SavedCheckin:
        """Validate, redact and store a check-in (or edit one of the author's own).

        Raises ValidationFailed with a message per field, and EditWindowClosed for an entry
        saved more than the edit window ago; nothing is stored then. An edit is audited.
        Deliveries of one event (same `idempotency_key`) store one row, however they
        interleave: all but the first get it back marked `repeat`, which thanks nobody.
        """
        try:
            return self._store(
                platform,
                user_id,
                answers,
                themes,
                visibility,
                source,
                prompt_id,
                checkin_id,
                idempotency_key,
                answer_latest_prompt,
                source_message,
                form_values,
            )
        except AlreadyStored as exc:
            with self.uow() as uow:
                existing = uow.checkins.by_idempotency_key(exc.key)
                if existing is None:  # stored and deleted in between: nothing to give back
                    raise NotFound("That check-in no longer exists.") from exc
                return replace(self._saved(uow, existing, False, ""), repeat=True)

    def _store(
        self,
        platform: str,
        user_id: str,
        answers: dict[str, Any],
        themes: list[str],
        visibility: str,
        source: Source,
        prompt_id: int | None,
        checkin_id: int | None,
        idempotency_key: str | None,
        answer_latest_prompt: bool,
        source_message: str | None,
        form_values: Mapping[str, Any] | None = None,
    ) -> SavedCheckin:
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            # New entries get today's questions; more detail keeps the entry's own.
            existing_row = uow.checkins.get(checkin_id) if checkin_id is not None else None
            if existing_row is not None and existing_row.member_id == member.id:
                if not may_edit(existing_row.created_at, self.clock()):
                    raise EditWindowClosed()
                qset = self._stored_set(existing_row)
                purpose_period = existing_row.purpose_period or self._purpose_period_of(
                    existing_row.created_at
                )
                inquiry_id = existing_row.inquiry_id
            else:
                asked = self._asked(uow, member, prompt_id)
                qset, purpose_period = asked.qset, asked.purpose_period
                inquiry_id = asked.inquiry_id
            if form_values is not None:
                # Read against the questions this entry is answered with, known only here.
                answers, themes, visibility = read_checkin(qset, self.alliance.themes, form_values)
            draft = prepare_checkin(
                question_specs(qset), answers, themes, visibility, self.alliance.themes
            )
            # Only an answered purpose question marks the entry (the digest gathers those).
            purpose_period = purpose_period if draft.answers.get("purpose") else None
            if idempotency_key:
                existing = uow.checkins.by_idempotency_key(idempotency_key)
                if existing is not None:
                    return replace(self._saved(uow, existing, False, ""), repeat=True)
            theme_rows = uow.config.themes_named(draft.themes)
            if checkin_id is not None:
                row = uow.checkins.get(checkin_id)
                if row is None or row.member_id != member.id:
                    raise NotFound(GONE)
                before_visibility = row.visibility
                row.answers = draft.answers
                row.visibility = draft.visibility.value
                row.questions = snapshot(qset)
                row.question_set_id = qset.id
                row.redaction_count += draft.redaction_count
                row.themes = list(theme_rows)
                row.purpose_period = purpose_period
                created = False
                # What changed and how, never the text: the audit log is read by admins.
                uow.audit.record(
                    at=self.clock(),
                    actor=f"{platform}:{user_id}",
                    action="checkin.edited",
                    target=f"checkin:{row.id}",
                    source=source.value,
                    redactions=draft.redaction_count,
                )
                if before_visibility != row.visibility:
                    # Sharing changed in the same form: the same record as the dedicated button.
                    uow.audit.record(
                        at=self.clock(),
                        actor=f"{platform}:{user_id}",
                        action="checkin.visibility_changed",
                        target=f"checkin:{row.id}",
                        before=before_visibility,
                        after=row.visibility,
                    )
            else:
                row = uow.checkins.add(
                    CheckinRow(
                        member_id=member.id,
                        agency_id=member.agency_id,
                        prompt_id=None,
                        question_set_id=qset.id,
                        questions=snapshot(qset),
                        answers=draft.answers,
                        visibility=draft.visibility.value,
                        source=source.value,
                        redaction_count=draft.redaction_count,
                        idempotency_key=idempotency_key,
                        created_at=self.clock(),
                        inquiry_id=inquiry_id,
                        purpose_period=purpose_period,
                        source_message=source_message,
                    ),
                    theme_rows,
                )
                created = True
            self._answer_prompt(uow, row, member.id, prompt_id, answer_latest_prompt)
            saved = self._saved(uow, row, created=created, summary=draft.redaction_summary)
            barrier = qset.barrier_question
            saved = replace(saved, barrier_named=bool(barrier and draft.answers.get(barrier.id)))
            uow.commit()
            return saved

    def submit_reply(
        self,
        platform: str,
        user_id: str,
        text: str,
        event_id: str | None,
        source_message: str | None = None,
    ) -> SavedCheckin:
        """Store a plain DM reply as a check-in visible to the author's team.

        `source_message` names the chat message ("<channel>:<ts>"), so that editing the
        message later edits this entry. Returns once the reply is committed: the questions are
        read and the text redacted in the caller's thread, then the row is written together
        with the replies that arrive alongside it, in one transaction (storage/group_commit.py).
        """
        key = f"{platform}:event:{event_id}" if event_id else None
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            asked = self._asked(uow, member, None)
            member_id, agency_id = member.id, member.agency_id
        # The cohort's set names the question a plain reply answers; the extras (an inquiry's,
        # the purpose question) come after it and stay unanswered.
        answer_to = first_text_question(
            self.alliance.question_set_for(self.members.cohort_of(agency_id))
        )
        qset = asked.qset
        draft = prepare_checkin(
            question_specs(qset), {answer_to: text}, [], Visibility.TEAM, self.alliance.themes
        )
        purpose_period = asked.purpose_period if draft.answers.get("purpose") else None
        barrier = qset.barrier_question
        barrier_named = bool(barrier and draft.answers.get(barrier.id))

        def write(uow: UnitOfWork) -> SavedCheckin:
            if key:
                existing = uow.checkins.by_idempotency_key(key)
                if existing is not None:
                    return replace(self._saved(uow, existing, False, ""), repeat=True)
            # A reply answers the newest open prompt, if there is one: found before the insert,
            # so the row is inserted with it instead of updated again at commit.
            prompt = uow.prompts.latest_open(member_id)
            row = uow.checkins.add(
                CheckinRow(
                    member_id=member_id,
                    agency_id=agency_id,
                    prompt_id=prompt.id if prompt is not None else None,
                    question_set_id=qset.id,
                    questions=snapshot(qset),
                    answers=draft.answers,
                    visibility=draft.visibility.value,
                    source=Source.DM_REPLY.value,
                    redaction_count=draft.redaction_count,
                    idempotency_key=key,
                    created_at=self.clock(),
                    inquiry_id=asked.inquiry_id,
                    purpose_period=purpose_period,
                    source_message=source_message,
                ),
                [],
            )
            # (The prompt is in the session already: no second query.)
            self._answer_prompt(uow, row, member_id, row.prompt_id, latest=False)
            saved = self._saved(uow, row, created=True, summary=draft.redaction_summary)
            return replace(saved, barrier_named=barrier_named)

        try:
            return self.replies.run(write)
        except AlreadyStored as exc:
            # Another process stored this event between the lookup and the insert.
            with self.uow() as uow:
                existing = uow.checkins.by_idempotency_key(exc.key)
                if existing is None:
                    raise NotFound("That check-in no longer exists.") from exc
                return replace(self._saved(uow, existing, False, ""), repeat=True)

    def edit_reply(self, platform: str, user_id: str, source_message: str, text: str) -> ReplyEdit:
        """The author edited a chat message that was saved as a check-in: edit the entry too.

        Only the answer that message gave changes, redacted again; within the edit window;
        the same text again (a retried event, an unfurl) changes and audits nothing.
        """
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            row = (
                EntryQueries(uow.session).by_source_message(member.id, source_message)
                if member is not None
                else None
            )
            if row is None:
                return ReplyEdit(ReplyEditOutcome.NO_ENTRY)
            if not may_edit(row.created_at, self.clock()):
                return ReplyEdit(
                    ReplyEditOutcome.WINDOW_CLOSED, row.id, problem=EditWindowClosed().message
                )
            qset = self._stored_set(row)
            key = first_text_question(qset)
            spec = next(s for s in question_specs(qset) if s.id == key)
            try:
                draft = prepare_checkin([spec], {key: text}, [], row.visibility, [])
            except ValidationFailed as exc:
                return ReplyEdit(
                    ReplyEditOutcome.INVALID, row.id, problem=" ".join(exc.errors.values())
                )
            if row.answers.get(key) == draft.answers.get(key):
                return ReplyEdit(ReplyEditOutcome.UNCHANGED, row.id)
            # A new dict, so the JSON column sees the change.
            row.answers = {**row.answers, key: draft.answers[key]}
            row.redaction_count += draft.redaction_count
            uow.audit.record(
                at=self.clock(),
                actor=f"{platform}:{user_id}",
                action="checkin.edited",
                target=f"checkin:{row.id}",
                source="dm_edit",
                redactions=draft.redaction_count,
            )
            uow.commit()
            return ReplyEdit(
                ReplyEditOutcome.UPDATED, row.id, redaction_summary=draft.redaction_summary
            )

    def skip(self, platform: str, user_id: str, prompt_id: int) -> MessageRef | None:
        """Record "Skip this week" and re-render the prompt."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            prompt = uow.prompts.get(prompt_id)
            if prompt is None or prompt.member_id != member.id:
                raise NotFound("That prompt is no longer available.")
            if prompt.status in (PromptStatus.SENT, PromptStatus.PENDING):
                prompt.status = PromptStatus.SKIPPED
                prompt.closed_at = self.clock()
            ref = _ref(prompt.channel_id, prompt.message_ts)
            uow.commit()
        self._rerender(ref, prompt_id, PromptState.SKIPPED)
        return ref

    def nothing_this_week(self, platform: str, user_id: str, prompt_id: int) -> PromptState:
        """ "Nothing this week" — taking part with nothing to report.

        Recorded on the ledger row alone (status `nothing`): no check-in and no text, so it
        counts in participation but never in learnings, themes or quotes, and as the prompt is
        no longer `sent` it is never reminded. Sharing a learning later still answers it.
        Returns what the prompt now shows (Teams answers the button with that card).
        """
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            prompt = uow.prompts.get(prompt_id)
            if prompt is None or prompt.member_id != member.id:
                raise NotFound("That prompt is no longer available.")
            state = PromptState.NOTHING
            if prompt.status in (PromptStatus.SENT, PromptStatus.PENDING, PromptStatus.SKIPPED):
                prompt.status = PromptStatus.NOTHING
                prompt.closed_at = self.clock()
            elif prompt.status == PromptStatus.ANSWERED:
                state = PromptState.ANSWERED  # a learning was shared already: keep saying so
            ref = _ref(prompt.channel_id, prompt.message_ts)
            uow.commit()
        self._rerender(ref, prompt_id, state)
        return state

    def pause_from_prompt(self, platform: str, user_id: str, prompt_id: int | None) -> dt.datetime:
        """The prompt's "Pause prompts" button: pause for a few weeks and skip this one."""
        until = self.clock() + dt.timedelta(weeks=PAUSE_BUTTON_WEEKS)
        self.members.pause(platform, user_id, until)
        ref = None
        if prompt_id is not None:
            with self.uow() as uow:
                prompt = uow.prompts.get(prompt_id)
                if prompt is not None and prompt.status in (
                    PromptStatus.SENT,
                    PromptStatus.PENDING,
                ):
                    prompt.status = PromptStatus.SKIPPED
                    prompt.closed_at = self.clock()
                if prompt is not None:
                    ref = _ref(prompt.channel_id, prompt.message_ts)
                uow.commit()
        if ref is not None and prompt_id is not None:
            self._rerender(ref, prompt_id, PromptState.PAUSED, paused_until=until.date())
        return until

    # ------------------------------------------------------------------ after the ack

    def thank(self, user_id: str, saved: SavedCheckin) -> None:
        """Say thanks after the modal closed: on the prompt DM if there was one, else by DM.

        Only the delivery that stored the check-in thanks: a redelivered or doubled
        submission already has its thank-you.
        """
        if saved.repeat:
            return
        if saved.prompt_ref is not None and saved.prompt_id is not None:
            self._rerender(
                saved.prompt_ref,
                saved.prompt_id,
                PromptState.ANSWERED,
                redaction_summary=saved.redaction_summary,
                escalate_checkin_id=saved.escalate_checkin_id,
            )
            return
        view = CheckinSavedView(
            checkin_id=saved.checkin_id,
            redaction_summary=saved.redaction_summary,
            escalate_checkin_id=saved.escalate_checkin_id,
        )
        try:
            self.messenger.send(user_id, checkin_thanks_message(view))
        except MessengerError as exc:
            log.warning("could not confirm check-in %s: %s", saved.checkin_id, exc.code)

    def confirm_reply(self, channel: str, saved: SavedCheckin) -> None:
        """Answer a plain DM reply: saved, what was removed, and an "Add detail" button.

        Once per stored reply: a redelivery of the same message sends nothing.
        """
        if saved.repeat:
            return
        view = ReplySavedView(
            checkin_id=saved.checkin_id,
            redaction_summary=saved.redaction_summary,
            escalate_checkin_id=saved.escalate_checkin_id,
        )
        self.messenger.send(channel, reply_saved_message(view))
        if saved.prompt_ref is not None and saved.prompt_id is not None:
            self._rerender(saved.prompt_ref, saved.prompt_id, PromptState.ANSWERED)

    # ------------------------------------------------------------------ helpers

    def _answer_prompt(
        self,
        uow: UnitOfWork,
        row: CheckinRow,
        member_id: int,
        prompt_id: int | None,
        latest: bool,
    ) -> None:
        prompt = None
        if prompt_id is None and latest:
            prompt = uow.prompts.latest_open(member_id)
        elif prompt_id is not None:
            prompt = uow.prompts.get(prompt_id)
            if prompt is not None and prompt.member_id != member_id:
                prompt = None
        if prompt is None:
            return
        if prompt.status in (
            PromptStatus.SENT,
            PromptStatus.PENDING,
            PromptStatus.SKIPPED,
            PromptStatus.NOTHING,  # Something came up after all
        ):
            prompt.status = PromptStatus.ANSWERED
            prompt.closed_at = self.clock()
        if row.prompt_id is None:
            row.prompt_id = prompt.id

    def _asked(self, uow: UnitOfWork, member: Any, prompt_id: int | None) -> AskedSet:
        """The questions the form asks now, and what its check-in is tagged with."""
        cohort = self.members.cohort_of(member.agency_id)
        if self.inquiries is None:
            return AskedSet(self.alliance.question_set_for(cohort))
        # The prompt's cycle only matters to the purpose question: no query without one.
        wanted = prompt_id is not None and self.alliance.purpose is not None
        prompt = uow.prompts.get(prompt_id) if wanted and prompt_id is not None else None
        cycle = prompt.cycle if prompt is not None and prompt.member_id == member.id else None
        return self.inquiries.asked(uow, cohort, member.id, cycle)

    def _stored_set(self, row: CheckinRow) -> QuestionSet:
        """The set a stored check-in was answered with (today's set if unreadable)."""
        rebuilt = snapshot_set(row.question_set_id, list(row.questions or []))
        if rebuilt is not None:
            return rebuilt
        return self.alliance.question_set_for(self.members.cohort_of(row.agency_id))

    def _purpose_period_of(self, created_at: dt.datetime) -> str | None:
        """The purpose period a check-in made at this time belongs to."""
        purpose = self.alliance.purpose
        if purpose is None:
            return None
        local = created_at.astimezone(self.alliance.alliance.zone).date()
        return period_of(local, purpose.cadence)

    def _saved(self, uow: UnitOfWork, row: CheckinRow, created: bool, summary: str) -> SavedCheckin:
        prompt = uow.prompts.get(row.prompt_id) if row.prompt_id else None
        return SavedCheckin(
            checkin_id=row.id,
            created=created,
            redaction_summary=summary,
            prompt_ref=_ref(prompt.channel_id, prompt.message_ts) if prompt else None,
            prompt_id=prompt.id if prompt else None,
        )

    def _rerender(
        self,
        ref: MessageRef | None,
        prompt_id: int,
        state: PromptState,
        paused_until: dt.date | None = None,
        redaction_summary: str = "",
        escalate_checkin_id: int | None = None,
    ) -> None:
        if ref is None:
            return
        view = PromptView(
            prompt_id=prompt_id,
            alliance_name=self.alliance.alliance.name,
            question="",
            state=state,
            paused_until=paused_until,
            redaction_summary=redaction_summary,
            escalate_checkin_id=escalate_checkin_id,
        )
        try:
            self.messenger.update(ref, prompt_message(view))
        except MessengerError as exc:
            # The answer is stored; an out-of-date prompt message is cosmetic.
            log.warning("could not update prompt %s: %s", prompt_id, exc.code)


def _ref(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None
