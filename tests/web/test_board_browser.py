"""The Learning Board in a real browser: Debian's headless Chromium, driven by Playwright.

A board member signs in through the e-mail link, reads the register, filters it, and reads
every page; a manager signs in and sees their agency's barriers only. Each page is checked
with axe-core (serious or critical violations fail the test) and screenshotted into
test-artifacts/screenshots/ for a reviewer. Playwright never downloads a browser here: it
drives /usr/bin/chromium (`apt-get install chromium`, as .ci/run does).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from board_fixtures import (
    ANONYMOUS_TEXT,
    CHAIR,
    HOSPITAL_ANSWER,
    HOUSING_MANAGER,
    HOUSING_TEAM_ANSWER,
    TEAM_ONLY_TEXT,
    BoardLive,
    run_inquiry,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

AXE = Axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def check(page: Page, name: str, request: pytest.FixtureRequest, own_team: bool = False) -> str:
    """Screenshot the page, fail on serious or critical accessibility violations, return HTML.

    `own_team`: the reader is a manager of the team-only entry's agency, who may read it.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backend = request.node.callspec.params.get("database_url", "db")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{backend}.png"), full_page=True)
    results = AXE.run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
    ]
    assert not serious, f"{name}: " + results.generate_report()
    html = page.content()
    # Nobody outside the author's own agency reads a team-only entry; no raiser is named.
    if not own_team:
        assert TEAM_ONLY_TEXT not in html
    assert "U0ALICE" not in html and "User U0ALICE" not in html
    return html


def sign_in(board: BoardLive, page: Page, email: str) -> None:
    page.goto(board.url + "/board/signin")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    page.goto(board.mailer.link_for(email))
    page.get_by_role("button", name="Sign in to the Learning Board").click()
    page.get_by_role("navigation", name="Board pages").wait_for()


def test_a_board_member_reads_and_filters_the_register(
    board_live: BoardLive, browser: Browser, request: pytest.FixtureRequest
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(board_live.url + "/board/signin")
    check(page, "signin", request)
    sign_in(board_live, page, CHAIR)

    week = check(page, "this-week-board", request)
    assert "Test Alliance" in week and "Pat Chair" in week
    # The anonymous learning is quoted for the alliance, attributed to nobody.
    assert ANONYMOUS_TEXT in week
    assert "Anonymous" in week

    page.get_by_role("link", name="Barrier register").click()
    register = check(page, "register-board", request)
    for title in (
        "No emergency beds after 5pm",
        "Discharge letters arrive late",
        "Benefit forms need a printer",
    ):
        assert title in register
    assert "3 barriers match" in register
    # "You said, we did": the closed barrier and what changed.
    said = page.locator("#you-said-we-did ~ ul")
    assert "The library prints the forms free" in said.inner_text()

    page.get_by_label("Agency").select_option(label="Hospital Discharge")
    page.get_by_role("button", name="Show matching barriers").click()
    filtered = check(page, "register-filtered-board", request)
    assert "agency=hospital" in page.url
    assert "2 barriers match" in filtered
    table = page.get_by_role("table").inner_text()
    assert "Discharge letters arrive late" in table and "No emergency beds" not in table

    page.get_by_label("Status").select_option(label="Resolved")
    page.get_by_role("button", name="Show matching barriers").click()
    history = page.get_by_text("Ladder history (3)")
    history.click()  # <details> opens from the keyboard and the mouse alike
    assert "Resolved by" in page.get_by_role("table").inner_text()

    page.get_by_role("link", name="Themes over time").click()
    themes = check(page, "themes-board", request)
    assert "Housing" in themes and "fewer than 3" in themes

    page.get_by_role("link", name="Inquiries").click()
    check(page, "inquiries-board", request)

    page.get_by_role("link", name="Review pack").click()
    check(page, "report-form-board", request)
    page.get_by_role("button", name="Open the review pack").click()
    page.wait_for_load_state()
    assert "Learning review" in page.content() or "Test Alliance" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "report-pack.png"), full_page=True)

    refused = page.goto(board_live.url + "/board/agency/housing")
    assert refused is not None and refused.status == 403
    check(page, "refused-board", request)
    context.close()


def test_a_manager_sees_only_their_agency(
    board_live: BoardLive, browser: Browser, request: pytest.FixtureRequest
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(board_live, page, HOUSING_MANAGER)
    week = check(page, "this-week-manager", request, own_team=True)
    # Their own agency's team-only learning is theirs to read, as in their chat digest.
    assert TEAM_ONLY_TEXT in week
    page.get_by_role("link", name="Barrier register").click()
    register = check(page, "register-manager", request, own_team=True)
    assert "No emergency beds after 5pm" in register
    assert "Benefit forms need a printer" in register
    assert "Discharge letters arrive late" not in register
    assert page.get_by_label("Agency").locator("option").all_inner_texts() == [
        "Any",
        "Council Housing",
    ]
    own = page.goto(board_live.url + "/board/agency/housing")
    assert own is not None and own.status == 200
    other = page.goto(board_live.url + "/board/agency/hospital")
    assert other is not None and other.status == 403
    page.goto(board_live.url + "/board/themes")
    themes = check(page, "themes-manager", request, own_team=True)
    assert "Hospital Discharge</h2>" not in themes
    context.close()


def test_a_manager_reads_their_agencys_inquiry_summary(
    board_live: BoardLive, browser: Browser, request: pytest.FixtureRequest
) -> None:
    run_inquiry(board_live)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(board_live, page, HOUSING_MANAGER)
    page.get_by_role("link", name="Inquiries").click()
    page.get_by_role("heading", name="What slows a move home?").wait_for()
    html = check(page, "inquiries-manager", request, own_team=True)
    summary = page.get_by_role("region", name="What slows a move home?").inner_text()
    assert "Inquiry so far" in summary and HOUSING_TEAM_ANSWER in summary
    assert HOSPITAL_ANSWER not in html and "Hospital Discharge" not in html
    context.close()


def test_a_board_member_goes_back_to_a_finished_week(
    board_live: BoardLive, browser: Browser, request: pytest.FixtureRequest
) -> None:
    """A week on: this week is empty and says so; "Previous week" opens the seeded week."""
    board_live.clock.advance(days=7)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(board_live, page, CHAIR)
    empty = check(page, "week-empty-board", request)
    assert "Nothing has been shared this week yet" in empty
    weeks = page.get_by_role("navigation", name="Other weeks")
    weeks.get_by_role("link", name="Previous week: 16 to 22 November 2026").click()
    assert page.url.endswith("/board/?week=2026-11-16")
    finished = check(page, "week-finished-board", request)
    assert ANONYMOUS_TEXT in finished and "Temporary accommodation was full" in finished
    assert page.title().startswith("The week of 16 to 22 November 2026")
    page.get_by_role("link", name="Next week: 23 to 29 November 2026").click()
    page.get_by_text("Nothing has been shared this week yet").wait_for()
    answer = page.goto(board_live.url + "/board/?week=22-11-2026")
    assert answer is not None and answer.status == 400
    check(page, "week-bad-date-board", request)
    assert "That week could not be read" in page.content()
    context.close()


def test_bad_links_and_cookies_in_the_browser(
    board_live: BoardLive, browser: Browser, request: pytest.FixtureRequest
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(board_live, page, CHAIR)
    # The link that was just used, once more.
    page.goto(board_live.mailer.link_for(CHAIR))
    page.get_by_role("button", name="Sign in to the Learning Board").click()
    page.get_by_role("heading", name="That sign-in link was used already").wait_for()
    check(page, "link-used", request)
    # A tampered session cookie.
    cookie = next(c for c in context.cookies() if c["name"] == "learnloop_board")
    context.add_cookies([{**cookie, "value": cookie["value"][:-2] + "xx"}])
    answer = page.goto(board_live.url + "/board/barriers")
    assert answer is not None and answer.status == 401
    check(page, "cookie-tampered", request)
    context.close()
