"""An inquiry's whole life through the live app — start, ask, tag, list, close, summary."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from conftest import ALICE, BOB, CAROL, DAN, STEWARD, Clock_, Live, alliance_config
from slack_requests import block_actions, message_im, slash_command, view_submission
from slack_ui import button, fill, input_blocks, wait_until

from bot.render.digest import render_html
from bot.scheduler import Worker, due_jobs
from bot.slack.ids import View

Q = "How is hospital discharge working for people with no home?"
STEWARDS = "C0STEWARDS"
THURSDAY = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)


class Leader:
    """A leader lock this worker always holds (one worker in these tests)."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def command(live: Live, text: str, user: str = STEWARD, name: str = "1") -> None:
    resp = live.post(
        slash_command("/learnloop", text, user_id=user, response_url=live.slack.response_url(name))
    )
    assert resp.status_code == 200


def replies(live: Live, count: int = 1) -> list[Any]:
    """What respond() sent back to the person who typed the command."""
    return [c.params for c in live.slack.wait_for("webhook", count=count)]


def ephemerals(live: Live, count: int = 1) -> list[str]:
    return [c.params["text"] for c in live.slack.wait_for("chat.postEphemeral", count=count)]


def prompt_of(live: Live, user: str) -> list[dict[str, Any]]:
    for call in live.slack.calls("chat.postMessage"):
        blocks = call.json_field("blocks") or []
        if call.params["channel"] == user and "Share a learning" in json.dumps(blocks):
            return blocks
    raise AssertionError(f"no prompt for {user}")


def open_form(live: Live, request: Any, count: int) -> dict[str, Any]:
    live.post(request)
    return live.slack.wait_for("views.open", count=count)[-1].json_field("view")


def save(live: Live, user: str, view: dict[str, Any], answers: dict[str, Any]) -> Any:
    return live.post(
        view_submission(
            View.CHECKIN,
            fill(view, answers),
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=f"V{user}{len(live.slack.calls('views.open'))}",
        )
    )


def tagged(live: Live) -> dict[int, int | None]:
    return dict(live.rows("SELECT id, inquiry_id FROM checkins ORDER BY id"))


def test_an_inquiry_from_start_to_summary(make_live: Any) -> None:
    clock = Clock_(THURSDAY)
    live = make_live(alliance_config(), clock=clock)

    # Only stewards may start one, and a mistake gets the usage, not a stack trace.
    command(live, f'inquiry start "{Q}" --weeks 4', user=ALICE)
    assert "Only system stewards or LearnLoop admins can run an inquiry" in ephemerals(live)[0]
    command(live, f'inquiry start "{Q} --weeks 4')
    typo = ephemerals(live, 2)[1]
    assert "A quotation mark is missing its partner." in typo
    assert "--cohort weekly --weeks 4" in typo
    assert live.scalar("SELECT count(*) FROM inquiries") == 0

    # Curly quotes, as a phone types them.
    command(live, f"inquiry start “{Q}” --cohort weekly --weeks 4", name="start")
    started = replies(live)[0]["text"]
    assert "Inquiry 1 started for the *weekly* cohort until 31 Dec 2026" in started
    assert f"<#{STEWARDS}>" in started

    # The cohort's prompt names the extra question, and the form asks it (optionally).
    live.loop.services.prompts.send("weekly", now=True)
    assert Q in json.dumps(prompt_of(live, ALICE))
    share = button(prompt_of(live, ALICE), "Share a learning")
    view = open_form(live, block_actions(share["action_id"], share["value"], user_id=ALICE), 1)
    inquiry_input = input_blocks(view)[Q]
    assert inquiry_input["optional"] is True
    assert "until 31 December" in inquiry_input["hint"]["text"]
    shared = "People with no fixed address wait on the ward because housing can't assess them"
    save(
        live,
        ALICE,
        view,
        {
            "What happened that you learned from?": "We rang housing before discharge",
            Q: shared + " before a discharge date.",
            "What got in the way?": "No assessment without a date",
            "Themes": ["Hospital discharge"],
            "Who can see this?": "The alliance, with my name",
        },
    )
    clock.advance(days=1)
    view = open_form(live, slash_command("/checkin", user_id=CAROL), 2)
    save(
        live,
        CAROL,
        view,
        {
            "What happened that you learned from?": "A patient stayed nine extra days",
            Q: shared + " on the ward, every week.",
            "Themes": ["Hospital discharge"],
            "Who can see this?": "The alliance, with my name",
        },
    )
    view = open_form(live, slash_command("/checkin", user_id=DAN), 3)
    save(
        live,
        DAN,
        view,
        {
            "What happened that you learned from?": "Transport home is the gap nobody owns",
            Q: "Transport home is the gap nobody owns",
            "Who can see this?": "The alliance, anonymously",
        },
    )
    # A plain reply is tagged too (its author's cohort is being asked), but is team-only.
    live.post(message_im("Team-only secret about Ward 9", user_id=BOB, event_id="Ev0INQ1"))
    wait_until(lambda: len(tagged(live)) == 4)
    assert set(tagged(live).values()) == {1}

    # Raise a barrier from Alice's check-in: the summary lists it.
    alice_checkin = min(tagged(live))
    live.loop.services.escalations.raise_barrier(
        "slack",
        ALICE,
        title="Housing assessment needs a discharge date",
        description="No assessment without a date",
        who_is_affected=None,
        agencies=["housing", "hospital"],
        level="agency",
        anonymous=False,
        checkin_ids=[alice_checkin],
    )

    command(live, "inquiry list", name="list")
    listed = replies(live, 2)[1]["text"]
    assert f"*1* “{Q}” — cohort weekly, 3 Dec 2026 – 31 Dec 2026" in listed
    assert "open, 4 learnings" in listed

    clock.advance(days=6)
    command(live, "inquiry close 1", name="close")
    closed = replies(live, 3)[2]
    assert closed["text"] == f"Closed inquiry 1 and posted its summary in <#{STEWARDS}>."
    [post] = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == STEWARDS]
    summary = json.dumps(post.json_field("blocks"), ensure_ascii=False)
    assert "Inquiry closed:" in summary and Q in summary
    assert "*4* learnings were shared while it ran; *3* answered its question." in summary
    # Counts per agency, in name order, small ones suppressed: never per person.
    assert "Council Housing: fewer than 3 learnings, fewer than 3 answers" in summary
    assert "Hospital Discharge: fewer than 3 learnings, fewer than 3 answers" in summary
    assert "*Council Housing and Hospital Discharge* said something similar:" in summary
    assert shared in summary
    # How many agencies is a count too: two is under the threshold of 3.
    assert "*Hospital discharge*: fewer than 3 learnings from fewer than 3 agencies" in summary
    assert "Housing assessment needs a discharge date — Open, with Agency leadership" in summary
    assert "Team-only secret" not in summary and "U0" not in summary
    # Answers are read, not only counted: the two alike together, the anonymous one quoted
    # without its agency; the sizes of small groups suppressed.
    assert "*In their words*" in summary
    assert "said in fewer than 3 answers" in summary
    assert "Transport home is the gap nobody owns" in summary
    in_words = summary[summary.index("In their words") : summary.index("Shared patterns")]
    assert "Anonymous" in in_words and "Hospital Discharge" in in_words
    assert in_words.count("Transport home") == 1

    # Closed: the form no longer asks, new check-ins aren't tagged, closing again is explained.
    view = open_form(live, slash_command("/checkin", user_id=ALICE), 4)
    assert Q not in input_blocks(view)
    save(live, ALICE, view, {"What happened that you learned from?": "After the inquiry"})
    wait_until(lambda: len(tagged(live)) == 5)
    assert tagged(live)[max(tagged(live))] is None
    command(live, "inquiry close 1", name="again")
    assert "Inquiry 1 is already closed." in ephemerals(live, 3)[2]
    assert live.scalar("SELECT summary_channel_id FROM inquiries WHERE id = 1") == STEWARDS

    # The week's digest and the review pack carry the findings too.
    digests = live.loop.services.digests
    week = digests.build(digests.destination("alliance"), "2026-W50")
    assert [s.question for s in week.inquiry_summaries] == [Q]
    report, _ = digests.report(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    page = re.sub(r"<[^>]+>", "", render_html(report))  # the page's text, without its tags
    assert "Inquiry closed: “How is hospital discharge" in page
    assert "Team-only secret" not in render_html(report)


def test_the_form_starts_one_and_the_worker_closes_it_when_its_weeks_are_over(
    make_live: Any,
) -> None:
    clock = Clock_(THURSDAY)
    live = make_live(alliance_config(), clock=clock)
    view = open_form(live, slash_command("/learnloop", "inquiry start", user_id=STEWARD), 1)
    assert view["title"]["text"] == "Start an inquiry"
    assert view["submit"]["text"] == "Start inquiry"
    values = fill(
        view,
        {
            "Question for the cohort": "What makes a good handover?",
            "Cohort to ask": "weekly",
            "How many weeks": "2 weeks",
        },
    )
    resp = live.post(view_submission(View.INQUIRY_START, values, user_id=STEWARD))
    assert resp.content in (b"", b"null")
    dm = live.slack.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == STEWARD and "Inquiry 1 started" in dm.params["text"]
    # One inquiry per cohort at a time: the form stays open and says why.
    resp = live.post(view_submission(View.INQUIRY_START, values, user_id=STEWARD))
    assert resp.json()["errors"] == {
        "inquiry_cohort": "Inquiry 1 is still open for this cohort: close it first "
        "(/learnloop inquiry close 1)."
    }

    # The worker's own job (as `learnloop worker` runs it each minute).
    jobs = [job for job in due_jobs(live.loop.services) if job.name.startswith("inquiries.")]
    assert [job.name for job in jobs] == ["inquiries.close_due"]
    worker = Worker(jobs, Leader(), clock=clock)
    clock.advance(days=13)
    assert worker.tick()
    assert live.scalar("SELECT status FROM inquiries") == "open"
    clock.advance(days=1)
    assert worker.tick()
    assert live.scalar("SELECT status FROM inquiries") == "closed"
    assert worker.tick()  # posted once, however often it runs
    [post] = [c for c in live.slack.calls("chat.postMessage") if c.params["channel"] == STEWARDS]
    assert "What makes a good handover?" in post.params["text"]
    assert live.scalar("SELECT closed_by FROM inquiries") == "learnloop:schedule"
