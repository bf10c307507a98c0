"""The board's pages over HTTP: the review pack, odd query strings, and a board not set up."""

from __future__ import annotations

import httpx
from board_fixtures import (
    CHAIR,
    HOSPITAL_ANSWER,
    HOUSING_MANAGER,
    HOUSING_NAMED_ANSWER,
    HOUSING_TEAM_ANSWER,
    BoardLive,
    run_inquiry,
)
from conftest import Live

from bot.web.board.security import SESSION_COOKIE


def test_the_review_pack_opens_and_downloads(board_live: BoardLive) -> None:
    with board_live.client() as http:
        board_live.sign_in(http, CHAIR)
        form = http.get("/board/report")
        assert form.status_code == 200 and 'type="date"' in form.text
        pack = http.get("/board/report", params={"from": "2026-11-01", "to": "2026-11-30"})
        assert pack.status_code == 200 and "Test Alliance" in pack.text
        assert "content-disposition" not in pack.headers
        saved = http.get(
            "/board/report", params={"from": "2026-11-01", "to": "2026-11-30", "download": "1"}
        )
        assert saved.headers["content-disposition"].startswith("attachment; filename=")
        for dates in (
            {"from": "yesterday", "to": "2026-11-30"},
            {"from": "2026-11-30", "to": "2026-11-01"},
            {"from": "2020-01-01", "to": "2026-11-30"},
        ):
            bad = http.get("/board/report", params=dates)
            assert bad.status_code == 400 and "could not be read" in bad.text


def test_odd_query_strings_are_pages_not_errors(board_live: BoardLive) -> None:
    with board_live.client() as http:
        board_live.sign_in(http, CHAIR)
        for path, params in (
            ("/board/barriers", {"page": "abc", "level": "nowhere", "theme": "x" * 500}),
            ("/board/barriers", {"page": "99999999999", "status": "' OR 1=1"}),
            ("/board/themes", {"weeks": "-3"}),
            ("/board/themes", {"weeks": "500"}),
        ):
            assert http.get(path, params=params).status_code == 200, (path, params)
        assert http.get("/board/inquiries").status_code == 200


def test_a_chosen_week_and_the_weeks_around_it(board_live: BoardLive) -> None:
    """?week=YYYY-MM-DD shows the week that day falls in; a bad date is a 400 page."""
    with board_live.client() as http:
        board_live.sign_in(http, CHAIR)
        this = http.get("/board/")
        assert this.status_code == 200
        assert '<a href="/board/?week=2026-11-09">Previous week: 9 to 15 November 2026</a>' in (
            this.text
        )
        assert "Next week" not in this.text  # never past this week
        # A finished week with nothing in it says so, with the weeks either side.
        before = http.get("/board/", params={"week": "2026-11-12"})
        assert before.status_code == 200
        assert "<title>The week of 9 to 15 November 2026" in before.text
        assert "Nothing was shared in the week of 9 to 15 November 2026" in before.text
        assert "Previous week: 2 to 8 November 2026" in before.text
        assert '<a href="/board/">Next week: 16 to 22 November 2026</a>' in before.text
        assert "Back to this week" in before.text
        # Any day of this week is this week.
        same = http.get("/board/", params={"week": "2026-11-22"})
        assert same.status_code == 200 and "Temporary accommodation was full" in same.text
        later = http.get("/board/", params={"week": "2026-12-01"})
        assert later.status_code == 200 and "has not happened yet" in later.text
        for bad in ("not-a-week", "2026-13-01", "2026-W47", "16/11/2026", "0001-01-01", "9" * 40):
            page = http.get("/board/", params={"week": bad})
            assert page.status_code == 400, bad
            assert "That week could not be read" in page.text
    with board_live.client() as manager:
        board_live.sign_in(manager, HOUSING_MANAGER)
        own = manager.get("/board/agency/housing", params={"week": "2026-11-09"})
        assert own.status_code == 200 and "Nothing was shared in the week of 9" in own.text
        assert '<a href="/board/agency/housing?week=2026-11-02">' in own.text
        assert manager.get("/board/agency/housing", params={"week": "x"}).status_code == 400


def test_a_manager_filters_only_within_their_agency(board_live: BoardLive) -> None:
    with board_live.client() as http:
        board_live.sign_in(http, HOUSING_MANAGER)
        page = http.get("/board/barriers", params={"agency": "hospital"})
        assert page.status_code == 200
        assert "Discharge letters arrive late" not in page.text


def test_without_a_key_the_board_says_it_is_not_set_up(live: Live) -> None:
    answer = httpx.get(live.server.url + "/board/barriers", cookies={SESSION_COOKIE: "x"})
    assert answer.status_code == 503 and "not set up" in answer.text


def test_the_register_filters_and_pages_in_the_database(board_live: BoardLive) -> None:
    """Filters combine; a page past the last shows the last; an unlinked theme matches none."""
    with board_live.client() as http:
        board_live.sign_in(http, CHAIR)
        housing = http.get("/board/barriers", params={"agency": "housing", "page": "7"})
        assert "2 barriers match" in housing.text
        assert "No emergency beds after 5pm" in housing.text
        assert "Discharge letters arrive late" not in housing.text
        resolved = http.get("/board/barriers", params={"agency": "hospital", "status": "resolved"})
        assert "1 barrier matches" in resolved.text
        assert resolved.text.count("Benefit forms need a printer") >= 1
        # No barrier has linked check-ins here, so no theme has any barrier under it.
        themed = http.get("/board/barriers", params={"theme": "Housing"})
        assert "No barriers match these filters." in themed.text
        # LIKE's wildcards in an agency id match nothing rather than everything.
        wild = http.get("/board/barriers", params={"agency": "%"})
        assert "3 barriers match" not in wild.text


def test_a_manager_reads_their_agencys_inquiry_summaries(board_live: BoardLive) -> None:
    """Managers see the inquiries their agency takes part in, each summarised from their
    agency's entries as its digest reads them; the board reads the cohort's summary."""
    inquiry = run_inquiry(board_live)
    with board_live.client() as manager:
        board_live.sign_in(manager, HOUSING_MANAGER)
        page = manager.get("/board/inquiries")
        assert page.status_code == 200
        assert "What slows a move home?" in page.text
        assert "Inquiry so far" in page.text  # the summary, not only the line
        assert f"Inquiry {inquiry} · cohort weekly" in page.text
        # Their own agency's answers, team-only ones too (as in their chat digest) ...
        assert HOUSING_TEAM_ANSWER in page.text and HOUSING_NAMED_ANSWER in page.text
        # ... and nothing of another agency's, nor its name in the counts.
        assert HOSPITAL_ANSWER not in page.text
        assert "Hospital Discharge" not in page.text
        assert "Council Housing: fewer than 3 learnings" in page.text
        assert "own learnings are counted and quoted" in page.text
    with board_live.client() as chair:
        board_live.sign_in(chair, CHAIR)
        page = chair.get("/board/inquiries")
        assert "Inquiry so far" in page.text
        # The cohort's summary: what was shared with the alliance, never a team-only answer.
        assert HOSPITAL_ANSWER in page.text and HOUSING_NAMED_ANSWER in page.text
        assert HOUSING_TEAM_ANSWER not in page.text
        assert "Only learnings shared with the alliance are quoted." in page.text


def test_a_manager_sees_no_inquiry_their_agency_is_not_in(board_live: BoardLive) -> None:
    from board_fixtures import PEOPLE
    from conftest import STEWARD, alliance_config

    from bot.app import reload_alliance

    # The alliance file now runs the weekly cohort in the hospital only (served at once).
    hospital_only = [
        {"id": "weekly", "agencies": ["hospital"], "schedule": {"days": ["thu"], "time": "15:00"}}
    ]
    assert reload_alliance(board_live.loop, alliance_config(people=PEOPLE, cohorts=hospital_only))
    board_live.loop.services.inquiries.start("slack", STEWARD, "Only the wards?", "weekly", 2)
    with board_live.client() as manager, board_live.client() as chair:
        board_live.sign_in(manager, HOUSING_MANAGER)
        page = manager.get("/board/inquiries")
        assert page.status_code == 200
        assert "Only the wards?" not in page.text
        assert "No inquiries are open or closed recently." in page.text
        board_live.sign_in(chair, CHAIR)
        assert "Only the wards?" in chair.get("/board/inquiries").text
