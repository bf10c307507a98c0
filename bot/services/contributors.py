"""Contributor links (issue 15): a group with no chat account shares through a web form.

A group's link carries its id, a random nonce and an HMAC of both under BOARD_SECRET_KEY, so
a link cannot be made up; the nonce is stored so that the link can be revoked. A submission is
validated and redacted by the same rules as a check-in (`prepare_checkin`), stored as a
check-in of the group (an agency of its own in every count) by a member row made for that one
submission, never prompted and never messaged: the group's people stay as many as its
contributions, and none of them is a person LearnLoop can name.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from bot.alliance import DEFAULT_QUESTION_SET, AllianceConfig, ContributorGroup, QuestionSet
from bot.domain.checkins import Source, Visibility, prepare_checkin
from bot.domain.entries import EditWindowClosed, editable_until, may_edit
from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.ports import Clock
from bot.services.checkins import CheckinService, question_specs, snapshot
from bot.services.entries import EntryService
from bot.views import contribute as receipt_words
from bot.views.checkin import VISIBILITY_FIELD, CheckinForm, read_checkin
from bot.views.contribute import CHOICES, CHOOSE_VISIBILITY
from storage.models import CheckinRow, MemberRow
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Submissions one link takes in an hour: a panel meeting's worth, not a flood.
RATE_LIMIT = 20
RATE_WINDOW = dt.timedelta(hours=1)
PLATFORM = "web"


class LinkForged(LearnLoopError):
    """A contributor link whose signature does not match (made up or altered)."""

    code = "link_forged"

    def __init__(self) -> None:
        super().__init__("This link is not one LearnLoop made. Ask the alliance for its link.")


class LinkRevoked(LearnLoopError):
    """A contributor link that was revoked, or whose group left the alliance file."""

    code = "link_revoked"

    def __init__(self) -> None:
        super().__init__(
            "This link has been withdrawn. Ask the person who sent it for the new one."
        )


class TooManySubmissions(LearnLoopError):
    """A link's rate limit: too many submissions in the last hour."""

    code = "rate_limited"

    def __init__(self) -> None:
        super().__init__(
            "This link has taken a lot of contributions in the last hour. Please try again "
            "in an hour; nothing you wrote was stored."
        )


class ReceiptForged(LearnLoopError):
    """A receipt link whose signature does not match (made up, altered or cut short)."""

    code = "receipt_forged"

    def __init__(self) -> None:
        super().__init__(receipt_words.RECEIPT_FORGED)


class ReceiptExpired(LearnLoopError):
    """A receipt older than the alliance keeps entries: what it pointed at is purged."""

    code = "receipt_expired"

    def __init__(self, months: int) -> None:
        super().__init__(receipt_words.receipt_expired(months))


class EntryGone(LearnLoopError):
    """A receipt whose entry was deleted (by its author, or by retention)."""

    code = "entry_gone"

    def __init__(self) -> None:
        super().__init__(receipt_words.ENTRY_GONE)


class ChangeClosed(LearnLoopError):
    """The group's link was withdrawn: what was shared through it can be deleted, not changed."""

    code = "change_closed"

    def __init__(self) -> None:
        super().__init__(receipt_words.CHANGE_CLOSED)


class SecretNotSet(LearnLoopError):
    """BOARD_SECRET_KEY or BOARD_URL is missing: links cannot be made or checked."""

    code = "not_configured"


@dataclass(frozen=True)
class OpenLink:
    """A valid link: its group and the form it opens."""

    link_id: int
    group: ContributorGroup
    form: CheckinForm


@dataclass(frozen=True)
class Contribution:
    """What one submission stored: no text, no person."""

    checkin_id: int
    redactions: int
    redaction_summary: str
    receipt_url: str = ""


@dataclass(frozen=True)
class OpenReceipt:
    """A contributor's receipt, read: their entry as stored and what they may do with it."""

    checkin_id: int
    user_id: str  # the entry's own member ("contributor:<random>"), nobody LearnLoop knows
    group_name: str
    form: CheckinForm  # the questions the entry was answered with
    current: dict[str, Any]  # its answers, themes and visibility as stored
    saved_on: dt.date
    edit_until: dt.date
    editable: bool  # inside the edit window (the same as a chat author's)
    link_open: bool  # the group still takes contributions (its link was not withdrawn)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ContributorService:
    """Issues, revokes and checks contributor links, and stores what comes through them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        clock: Clock,
        secret: str | None,
        base_url: str | None,
        checkins: CheckinService | None = None,
        entries: EntryService | None = None,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.clock = clock
        # A receipt's change and delete are a chat author's edit and delete: the same services.
        self.checkins = checkins
        self.entries = entries
        self._secret = secret.encode() if secret else None
        self.base_url = base_url.rstrip("/") if base_url else None

    # ------------------------------------------------------------------ signing

    def _key(self) -> bytes:
        if self._secret is None:
            raise SecretNotSet("BOARD_SECRET_KEY is not set: contributor links need it.")
        return self._secret

    def _signature(self, purpose: str, *parts: str) -> str:
        message = "\x1f".join((purpose, *parts)).encode()
        return _b64(hmac.new(self._key(), message, hashlib.sha256).digest()[:18])

    def token_for(self, group_id: str, nonce: str) -> str:
        """The URL token of a link: group, nonce and their signature."""
        return f"{group_id}.{nonce}.{self._signature('contribute', group_id, nonce)}"

    def csrf_token(self, token: str, browser: str) -> str:
        """The form's anti-forgery value: bound to the link and to the browser's cookie."""
        return self._signature("csrf", token, browser)

    def csrf_ok(self, token: str, browser: str | None, sent: str | None) -> bool:
        """Whether a submitted form carries the value this browser's form was given."""
        if not browser or not sent:
            return False
        # As bytes: compare_digest refuses a str with non-ASCII characters (a forged value).
        return hmac.compare_digest(self.csrf_token(token, browser).encode(), sent.encode())

    # ------------------------------------------------------------------ links (admins)

    def group(self, group_id: str) -> ContributorGroup:
        """A configured group, or NotFound naming the ones there are."""
        try:
            return self.alliance.contributor_group(group_id)
        except KeyError:
            known = ", ".join(g.id for g in self.alliance.contributors) or "none configured"
            raise NotFound(
                f"There is no contributor group {group_id!r} in the alliance file (known: {known})."
            ) from None

    def link(self, group_id: str, actor: str) -> str:
        """The group's form URL: its live link, or a new one (audited)."""
        self.group(group_id)
        self._key()
        if not self.base_url:
            raise SecretNotSet("BOARD_URL is not set: it is the start of every link.")
        with self.uow() as uow:
            row = uow.contributor_links.live(group_id)
            if row is None:
                row = uow.contributor_links.add(
                    group_id, secrets.token_urlsafe(24), actor[:100], self.clock()
                )
                uow.audit.record(
                    at=self.clock(),
                    actor=actor[:100],
                    action="contributor_link.issued",
                    target=f"contributor_group:{group_id}",
                )
            nonce = row.nonce
            uow.commit()
        return f"{self.base_url}/contribute/{self.token_for(group_id, nonce)}"

    def revoke(self, group_id: str, actor: str) -> int:
        """Revoke the group's link (every live one); how many were revoked (audited)."""
        self.group(group_id)
        with self.uow() as uow:
            count = uow.contributor_links.revoke(group_id, self.clock())
            uow.audit.record(
                at=self.clock(),
                actor=actor[:100],
                action="contributor_link.revoked",
                target=f"contributor_group:{group_id}",
                links=count,
            )
            uow.commit()
        return count

    # ------------------------------------------------------------------ the form

    def question_set(self, group: ContributorGroup) -> QuestionSet:
        """The questions the group's form asks (its own set, else the default)."""
        for qset in self.alliance.question_sets:
            if qset.id == group.question_set:
                return qset
        return DEFAULT_QUESTION_SET

    def typed(self, opened: OpenLink, values: dict[str, Any]) -> dict[str, Any]:
        """What a submitted form says, read against its questions (to show it again)."""
        answers, themes, visibility = read_checkin(opened.form.qset, self.alliance.themes, values)
        if not values.get(VISIBILITY_FIELD):
            visibility = ""  # the check-in's default (team) is not a contributor's choice
        return {"answers": answers, "themes": themes, "visibility": visibility}

    def open(self, token: str) -> OpenLink:
        """The link's group and form; LinkForged or LinkRevoked when it is not usable."""
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise LinkForged()
        group_id, nonce, signature = parts
        expected = self._signature("contribute", group_id, nonce).encode()
        if not hmac.compare_digest(expected, signature.encode()):
            raise LinkForged()
        try:
            group = self.alliance.contributor_group(group_id)
        except KeyError:
            raise LinkRevoked() from None
        with self.uow() as uow:
            row = uow.contributor_links.by_nonce(nonce)
            if row is None or row.revoked_at is not None or row.group_id != group_id:
                raise LinkRevoked()
            link_id = row.id
        qset = self.question_set(group)
        return OpenLink(link_id, group, CheckinForm.build(qset, self.alliance.themes))

    def submit(self, token: str, values: dict[str, Any]) -> Contribution:
        """Validate, redact and store one contribution as a check-in of the group.

        Raises ValidationFailed (by question id), TooManySubmissions, LinkForged or
        LinkRevoked; nothing is stored then.
        """
        opened = self.open(token)
        qset = opened.form.qset
        typed = self.typed(opened, values)
        errors: dict[str, str] = {}
        visibility = typed["visibility"]
        if visibility not in {v.value for v in CHOICES}:
            errors["visibility"] = CHOOSE_VISIBILITY
            visibility = Visibility.ANONYMOUS.value  # checked for the other fields' sake
        try:
            draft = prepare_checkin(
                question_specs(qset),
                typed["answers"],
                typed["themes"],
                visibility,
                self.alliance.themes,
            )
        except ValidationFailed as exc:
            errors.update(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        now = self.clock()
        with self.uow() as uow:
            link = uow.contributor_links.by_nonce(token.split(".")[1])
            if link is None or link.revoked_at is not None:
                raise LinkRevoked()  # revoked between opening and storing
            if uow.contributor_links.submissions_since(link.id, now - RATE_WINDOW) >= RATE_LIMIT:
                raise TooManySubmissions()
            # One member row per contribution: counted as one person of the group, never
            # prompted (inactive) and never reachable (no platform account behind it).
            member = MemberRow(
                platform=PLATFORM,
                platform_user_id=f"contributor:{secrets.token_hex(12)}",
                agency_id=opened.group.id,
                active=False,
                inactive_reason="contributor",
                created_at=now,
            )
            uow.session.add(member)
            uow.session.flush()
            row = uow.checkins.add(
                CheckinRow(
                    member_id=member.id,
                    agency_id=opened.group.id,
                    prompt_id=None,
                    question_set_id=qset.id,
                    questions=snapshot(qset),
                    answers=draft.answers,
                    visibility=draft.visibility.value,
                    source=Source.WEB_FORM.value,
                    redaction_count=draft.redaction_count,
                    created_at=now,
                ),
                uow.config.themes_named(draft.themes),
            )
            uow.contributor_links.record_submission(link.id, now)
            uow.audit.record(
                at=now,
                actor=f"contributor_link:{link.id}",
                action="checkin.contributed",
                target=f"checkin:{row.id}",
                redactions=draft.redaction_count,
            )
            uow.commit()
            checkin_id = row.id
            user_id = member.platform_user_id
        log.info("contribution stored for group %s", opened.group.id)
        return Contribution(
            checkin_id,
            draft.redaction_count,
            draft.redaction_summary,
            self.receipt_url(checkin_id, user_id, now),
        )

    # ------------------------------------------------------------------ receipts

    def receipt_lifetime(self) -> dt.timedelta:
        """How long a receipt works: as long as the alliance keeps entries (then purged)."""
        return dt.timedelta(days=31 * self.alliance.alliance.retention_months)

    def receipt_token(self, checkin_id: int, user_id: str, issued: dt.datetime) -> str:
        """A receipt's URL token: the entry, when it was issued, its member's random part, and
        their signature (so the link cannot be made up, and a reused id opens nothing)."""
        nonce = user_id.removeprefix("contributor:")
        stamp = str(int(issued.timestamp()))
        signature = self._signature("receipt", str(checkin_id), stamp, nonce)
        return f"{checkin_id}.{stamp}.{nonce}.{signature}"

    def receipt_url(self, checkin_id: int, user_id: str, issued: dt.datetime) -> str:
        """The private link a contributor keeps to change or delete what they shared."""
        token = self.receipt_token(checkin_id, user_id, issued)
        return f"{self.base_url or ''}/contribute/entry/{token}"

    def _read_receipt(self, token: str) -> tuple[int, str]:
        parts = token.split(".")
        if len(token) > 300 or len(parts) != 4 or not all(parts):
            raise ReceiptForged()
        id_text, stamp, nonce, signature = parts
        expected = self._signature("receipt", id_text, stamp, nonce).encode()
        # As bytes: compare_digest refuses a str with non-ASCII characters (a forged value).
        if not hmac.compare_digest(expected, signature.encode()):
            raise ReceiptForged()
        try:
            checkin_id = int(id_text)
            issued = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise ReceiptForged() from None
        if self.clock() - issued > self.receipt_lifetime():
            raise ReceiptExpired(self.alliance.alliance.retention_months)
        return checkin_id, f"contributor:{nonce}"

    def receipt(self, token: str) -> OpenReceipt:
        """The entry a receipt opens; ReceiptForged, ReceiptExpired or EntryGone if none."""
        checkin_id, user_id = self._read_receipt(token)
        zone = self.alliance.alliance.zone
        with self.uow() as uow:
            row = uow.checkins.get(checkin_id)
            member = (
                uow.members.get(row.member_id)
                if row is not None and row.member_id is not None
                else None
            )
            if (
                row is None
                or member is None
                or member.platform != PLATFORM
                or member.platform_user_id != user_id
            ):
                raise EntryGone()
            group_id = row.agency_id
            current = {
                "answers": dict(row.answers),
                "themes": [t.name for t in row.themes],
                "visibility": row.visibility,
            }
            saved_at = row.created_at
            link_open = uow.contributor_links.live(group_id) is not None
        try:
            group_name = self.alliance.contributor_group(group_id).name
        except KeyError:  # the group left the alliance file: its link is gone with it
            group_name, link_open = group_id, False
        qset = self._checkins().question_set_for(PLATFORM, user_id, checkin_id=checkin_id)
        now = self.clock()
        return OpenReceipt(
            checkin_id=checkin_id,
            user_id=user_id,
            group_name=group_name,
            form=CheckinForm.build(qset, self.alliance.themes),
            current=current,
            saved_on=saved_at.astimezone(zone).date(),
            edit_until=editable_until(saved_at).astimezone(zone).date(),
            editable=may_edit(saved_at, now),
            link_open=link_open,
        )

    def typed_receipt(self, opened: OpenReceipt, values: dict[str, Any]) -> dict[str, Any]:
        """What a submitted change says, read against the entry's questions (to show again)."""
        answers, themes, visibility = read_checkin(opened.form.qset, self.alliance.themes, values)
        if not values.get(VISIBILITY_FIELD):
            visibility = ""
        return {"answers": answers, "themes": themes, "visibility": visibility}

    def change(self, token: str, values: dict[str, Any]) -> str:
        """Change what a receipt's entry says: a chat author's edit (validated, redacted again,
        audited), within the same edit window; the redaction summary to show.

        Raises ChangeClosed once the group's link is withdrawn, EditWindowClosed after the
        window, ValidationFailed by question id; nothing is changed then.
        """
        opened = self.receipt(token)
        if not opened.link_open:
            raise ChangeClosed()
        if not opened.editable:
            raise EditWindowClosed()
        if values.get(VISIBILITY_FIELD) not in {v.value for v in CHOICES}:
            # Checked with the other answers, so every mistake is named at once.
            errors = {"visibility": CHOOSE_VISIBILITY}
            try:
                typed = self.typed_receipt(opened, values)
                prepare_checkin(
                    question_specs(opened.form.qset),
                    typed["answers"],
                    typed["themes"],
                    Visibility.ANONYMOUS.value,
                    self.alliance.themes,
                )
            except ValidationFailed as exc:
                errors.update(exc.errors)
            raise ValidationFailed(errors)
        saved = self._checkins().submit_form(
            PLATFORM, opened.user_id, values, Source.WEB_FORM, checkin_id=opened.checkin_id
        )
        log.info("contribution %s changed by its author", opened.checkin_id)
        return saved.redaction_summary

    def delete(self, token: str) -> None:
        """Delete a receipt's entry as a chat author deletes theirs (its themes, links and text
        go; audited), then the one-off member row it was stored under. A withdrawn group link
        does not stop this: what someone shared stays theirs to take back."""
        opened = self.receipt(token)
        entries = self.entries
        if entries is None:
            raise RuntimeError("ContributorService was built without the entry service")
        entries.delete(PLATFORM, opened.user_id, opened.checkin_id)
        with self.uow() as uow:
            uow.contributor_links.forget_member(PLATFORM, opened.user_id)
            uow.commit()
        log.info("contribution %s deleted by its author", opened.checkin_id)

    def _checkins(self) -> CheckinService:
        if self.checkins is None:
            raise RuntimeError("ContributorService was built without the check-in service")
        return self.checkins
