"""Check-ins: validate, redact, store, and tell the author it is saved."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from bot.config import AllianceConfig, QuestionKind, QuestionSet
from bot.domain.checkins import (
    PromptStatus,
    QuestionSpec,
    Source,
    Visibility,
    prepare_checkin,
)
from bot.domain.errors import NotFound
from bot.ports import Clock, MessageRef, Messenger, MessengerError
from bot.services.members import MemberService
from bot.views import PromptState, PromptView, ReplySavedView
from storage.models import CheckinRow
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
    return [q.model_dump(mode="json", include={"id", "label", "kind"}) for q in qset.questions]


class CheckinService:
    """Everything a practitioner does with the weekly prompt."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.messenger = messenger
        self.clock = clock

    # ------------------------------------------------------------------ reading

    def question_set_for(self, platform: str, user_id: str) -> QuestionSet:
        """The questions this person's cohort asks (NotAMember if they are not in the alliance)."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            return self.alliance.question_set_for(self.members.cohort_of(member.agency_id))

    def draft_of(self, platform: str, user_id: str, checkin_id: int) -> dict[str, Any]:
        """A stored check-in's answers, for pre-filling the modal ("Add detail")."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            row = uow.checkins.get(checkin_id)
            if row is None or row.member_id != member.id:
                raise NotFound("That check-in no longer exists.")
            return {
                "answers": dict(row.answers),
                "themes": [t.name for t in row.themes],
                "visibility": row.visibility,
            }

    # ------------------------------------------------------------------ writing

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
    ) -> SavedCheckin:
        """Validate, redact and store a check-in (or replace one being given more detail).

        Raises ValidationFailed with a message per field; nothing is stored then.
        """
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            qset = self.alliance.question_set_for(self.members.cohort_of(member.agency_id))
            draft = prepare_checkin(
                question_specs(qset), answers, themes, visibility, self.alliance.themes
            )
            if idempotency_key:
                existing = uow.checkins.by_idempotency_key(idempotency_key)
                if existing is not None:
                    return self._saved(uow, existing, created=False, summary="")
            theme_rows = uow.config.themes_named(draft.themes)
            if checkin_id is not None:
                row = uow.checkins.get(checkin_id)
                if row is None or row.member_id != member.id:
                    raise NotFound("That check-in no longer exists, so it couldn't be updated.")
                row.answers = draft.answers
                row.visibility = draft.visibility.value
                row.questions = snapshot(qset)
                row.question_set_id = qset.id
                row.redaction_count += draft.redaction_count
                row.themes = list(theme_rows)
                created = False
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
                    ),
                    theme_rows,
                )
                created = True
            self._answer_prompt(uow, row, member.id, prompt_id, answer_latest_prompt)
            saved = self._saved(uow, row, created=created, summary=draft.redaction_summary)
            uow.commit()
            return saved

    def submit_reply(
        self, platform: str, user_id: str, text: str, event_id: str | None
    ) -> SavedCheckin:
        """Store a plain DM reply as a check-in visible to the author's team."""
        with self.uow() as uow:
            member = self.members.find(uow, platform, user_id)
            qset = self.alliance.question_set_for(self.members.cohort_of(member.agency_id))
        first_text = next(
            (
                q.id
                for q in qset.questions
                if q.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT)
            ),
            qset.questions[0].id,
        )
        return self.submit(
            platform,
            user_id,
            answers={first_text: text},
            themes=[],
            visibility=Visibility.TEAM,
            source=Source.DM_REPLY,
            idempotency_key=f"{platform}:event:{event_id}" if event_id else None,
            # A reply answers the newest open prompt, if there is one.
            answer_latest_prompt=True,
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
        """Say thanks after the modal closed: on the prompt DM if there was one, else by DM."""
        if saved.prompt_ref is not None and saved.prompt_id is not None:
            self._rerender(
                saved.prompt_ref,
                saved.prompt_id,
                PromptState.ANSWERED,
                redaction_summary=saved.redaction_summary,
            )
            return
        text = "Thank you — your learning is saved."
        if saved.redaction_summary:
            text += " " + saved.redaction_summary
        try:
            self.messenger.notify(user_id, text)
        except MessengerError as exc:
            log.warning("could not confirm check-in %s: %s", saved.checkin_id, exc.code)

    def confirm_reply(self, channel: str, saved: SavedCheckin) -> None:
        """Answer a plain DM reply: saved, what was removed, and an "Add detail" button."""
        self.messenger.confirm_reply(
            channel,
            ReplySavedView(
                checkin_id=saved.checkin_id,
                redaction_summary=saved.redaction_summary,
                duplicate=not saved.created,
            ),
        )
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
        if prompt.status in (PromptStatus.SENT, PromptStatus.PENDING, PromptStatus.SKIPPED):
            prompt.status = PromptStatus.ANSWERED
            prompt.closed_at = self.clock()
        if row.prompt_id is None:
            row.prompt_id = prompt.id

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
        )
        try:
            self.messenger.update_prompt(ref, view)
        except MessengerError as exc:
            # The answer is stored; an out-of-date prompt message is cosmetic.
            log.warning("could not update prompt %s: %s", prompt_id, exc.code)


def _ref(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None
