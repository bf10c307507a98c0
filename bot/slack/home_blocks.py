"""Issue 8: Block Kit for the App Home — a pure function from a HomeView to a `home` view."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.pause import DEFAULT_PAUSE
from bot.domain.suppression import Count
from bot.slack.blocks import escape_mrkdwn
from bot.slack.entries_blocks import entries_blocks
from bot.slack.ids import Action
from bot.views.home import HomeAdmin, HomeLevel, HomeSchedule, HomeView

# Slack's limit for a Home tab.
MAX_HOME_BLOCKS = 100


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _date(day: Any) -> str:
    return day.strftime("%-d %B %Y")


def _counts(counts: dict[str, Count]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in sorted(counts.items()))


def _schedule_blocks(schedule: HomeSchedule) -> list[Block]:
    if schedule.when is None:
        lines = [
            "*Your weekly prompt*",
            "No cohort covers your agency, so LearnLoop doesn't send you a weekly prompt. "
            "You can share a learning any time with `/checkin`.",
        ]
    else:
        lines = [
            "*Your weekly prompt*",
            f"{schedule.when}, your time ({schedule.time_zone}).",
        ]
        if schedule.reminder:
            lines.append(schedule.reminder + ".")
    if schedule.paused_until is not None:
        lines.append(f":double_vertical_bar: *Paused* until {_date(schedule.paused_until)}.")
        button = ButtonElement(text="Resume my prompts", action_id=Action.HOME_RESUME)
    else:
        weeks = DEFAULT_PAUSE.days // 7
        button = ButtonElement(text=f"Pause prompts for {weeks} weeks", action_id=Action.HOME_PAUSE)
    blocks: list[Block] = [_section("\n".join(lines))]
    if schedule.when is not None:
        blocks.append(ActionsBlock(elements=[button]))
    return blocks


def _privacy_blocks() -> list[Block]:
    return [
        _section(
            "*Your data*\nOnly you can see this page. You can have a copy of everything "
            "LearnLoop holds about you, or delete it."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(text="Export my data", action_id=Action.PRIVACY_EXPORT),
                ButtonElement(text="Delete my data", action_id=Action.PRIVACY_DELETE),
            ]
        ),
    ]


def _practitioner_blocks(view: HomeView) -> list[Block]:
    if not view.is_member:
        if view.data_deleted:
            return [
                _section(
                    "You deleted your LearnLoop data, so you get no prompts and nothing about "
                    "you is kept. To take part again, type `/learnloop privacy` and press "
                    "*Start again*."
                )
            ]
        return [
            _section(
                "You're not on LearnLoop's list for any agency yet, so you don't get the weekly "
                "prompt. Ask your LearnLoop admin to add you to your agency in the alliance file."
            )
        ]
    blocks: list[Block] = []
    if view.schedule is not None:
        blocks += _schedule_blocks(view.schedule)
    blocks.append(DividerBlock())
    if view.entries is not None:
        blocks += entries_blocks(view.entries)
    blocks.append(DividerBlock())
    blocks += _privacy_blocks()
    return blocks


def _level_blocks(level: HomeLevel) -> list[Block]:
    if not level.barriers:
        return [_section(f"*{escape_mrkdwn(level.name)}* — no open barriers")]
    lines = [f"*{escape_mrkdwn(level.name)}* — {len(level.barriers)} open"]
    for barrier in level.barriers:
        title = escape_mrkdwn(barrier.title)
        linked = f"<{barrier.card_url}|{title}>" if barrier.card_url else title
        days = barrier.days_since_change
        age = "changed today" if days == 0 else f"no change for {days} day{'s' * (days != 1)}"
        lines.append(f"• {linked} — {barrier.status_label}, {age}")
    return [_section("\n".join(lines))]


def _steward_blocks(view: HomeView) -> list[Block]:
    assert view.levels is not None
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="Open barriers by level")]
    if not view.levels:
        blocks.append(_section("No escalation ladder is configured."))
    for level in view.levels:
        blocks += _level_blocks(level)
    blocks.append(
        _context(
            f"{view.open_barriers} open in all. `/barriers` lists them with links; "
            "`/escalate` raises one."
        )
    )
    return blocks


def _admin_blocks(admin: HomeAdmin) -> list[Block]:
    platforms = ", ".join(f"{p.title()} {n}" for p, n in sorted(admin.agencies_by_platform.items()))
    ladder = " → ".join(admin.ladder) or "none"
    config = [
        f"*{escape_mrkdwn(admin.alliance_name)}*",
        f"Agencies: {admin.agencies} ({platforms})",
        f"Cohorts: {admin.cohorts} · Digests: {admin.digests} · Themes: {admin.themes}",
        f"Escalation ladder: {escape_mrkdwn(ladder)}",
        f"Check-ins kept {admin.retention_months} months; counts under "
        f"{admin.suppress_below} shown as “fewer than {admin.suppress_below}”",
    ]
    health = [
        f"*Delivery, last {admin.days} days* (counts only)",
        f"Prompts: {_counts(admin.prompts)}",
    ]
    if admin.prompt_errors:
        health.append(f"Failed prompts by reason: {_counts(admin.prompt_errors)}")
    health += [
        f"Digests: {_counts(admin.digests_by_status)}",
        f"People: {_counts(admin.members)}",
    ]
    return [
        DividerBlock(),
        HeaderBlock(text="Configuration and delivery"),
        _section("\n".join(config)),
        _section("\n".join(health)),
        _context("`learnloop check-config` checks the alliance file; `/metrics` has the rest."),
    ]


def home_view(view: HomeView) -> dict[str, Any]:
    """The `home` view for views.publish."""
    blocks: list[Block] = [HeaderBlock(text="LearnLoop")]
    if view.notice:
        blocks.append(_section(f":white_check_mark: {view.notice}"))
    if view.problem:
        blocks.append(_section(f":warning: {view.problem}"))
    blocks += _practitioner_blocks(view)
    if view.levels is not None:
        blocks += _steward_blocks(view)
    if view.admin is not None:
        blocks += _admin_blocks(view.admin)
    # A long ladder could pass Slack's limit; the end (admin counts) matters least.
    # The page of entries shown, so a change made from it republishes the same page.
    offset = view.entries.offset if view.entries is not None else 0
    return View(
        type="home",
        blocks=blocks[:MAX_HOME_BLOCKS],
        private_metadata=json.dumps({"offset": offset}, separators=(",", ":")),
    ).to_dict()


def read_offset(view: dict[str, Any]) -> int:
    """The page of entries a published Home tab shows (0 if it doesn't say)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return 0
    offset = data.get("offset") if isinstance(data, dict) else None
    valid = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    return offset if valid else 0
