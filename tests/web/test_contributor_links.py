"""Contributor links over real HTTP: the form, CSRF, forged and withdrawn links, redaction,
the rate limit, the group counted as its own agency in the digest, and the contributor's
receipt (the private link to change or delete what they shared)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import ALICE, BOB, TEST_ALLIANCE, Clock_, alliance_config
from conftest import test_settings as settings_for
from live_server import LiveServer
from slack_api import FakeSlackAPI
from sqlalchemy import text
from typer.testing import CliRunner

import bot.services.contributors as contributors
from bot.app import LearnLoop, build
from bot.cli import app as cli
from bot.web.routes import create_web_app

GROUP = "lived-experience"
SECRET = "test-board-secret-key-0123456789abcdef"
NOW = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)


def group_alliance() -> Any:
    return alliance_config(contributors=[{"id": GROUP, "name": "Lived experience panel"}])


class Site:
    def __init__(self, loop: LearnLoop, server: LiveServer) -> None:
        self.loop, self.server = loop, server
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def link(self) -> str:
        url = self.loop.services.contributors.link(GROUP, actor="test")
        path = "/" + url.split("/", 3)[3]
        return path

    def checkins(self) -> list[Any]:
        with self.loop.engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT agency_id, answers, visibility, source FROM checkins ORDER BY id")
                )
            )


@pytest.fixture
def site(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[Site]:
    from board_fixtures import free_port

    port = free_port()  # BOARD_URL names it: receipts link back to this server
    settings = settings_for(database_url, fake_slack.url).model_copy(
        update={"board_secret_key": _secret(SECRET), "board_url": f"http://127.0.0.1:{port}"}
    )
    loop = build(settings, alliance=group_alliance(), clock=Clock_(NOW))
    server = LiveServer(create_web_app(loop), port=port).start()
    s = Site(loop, server)
    yield s
    s.http.close()
    server.stop()
    loop.engine.dispose()


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the form carries its CSRF value"
    return match.group(1)


def answers(csrf: str | None, **extra: str) -> dict[str, str]:
    data = {
        "q_learned": "Ringing me on 07700 900123 before the visit made me feel respected.",
        "q_helped": "A worker who listened.",
        "visibility": "alliance",
    }
    if csrf is not None:
        data["csrf"] = csrf
    data.update(extra)
    return data


def test_the_form_is_labelled_and_a_contribution_is_stored_redacted_as_the_group(
    site: Site,
) -> None:
    path = site.link()
    assert path.startswith("/contribute/")
    page = site.http.get(path)
    assert page.status_code == 200
    html = page.text
    # The check-in's questions, each with a label tied to its input; visibility as radios.
    for label in ["What happened that you learned from?", "Who can read this?"]:
        assert label in html, label
    for field in re.findall(r'<textarea id="([^"]+)"', html):
        assert f'<label for="{field}">' in html
    assert 'type="radio" id="visibility-0" name="visibility" value="alliance"' in html
    assert '<label for="visibility-0">The alliance, as the Lived experience panel</label>' in html
    assert '<label for="visibility-1">The alliance, anonymously</label>' in html
    assert "<script" not in html
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")

    sent = site.http.post(path, data=answers(csrf_of(html)))
    assert sent.status_code == 200, sent.text
    assert "Thank you" in sent.text
    ((agency, stored, visibility, source),) = site.checkins()
    assert (agency, visibility, source) == (GROUP, "alliance", "web_form")
    stored_text = str(stored)
    assert "07700" not in stored_text and "900123" not in stored_text
    assert "made me feel respected" in stored_text

    # The group is its own agency in the digest, beside the services.
    digests = site.loop.services.digests
    view = digests.build(digests.destination("alliance"), "2026-W47")
    assert "Lived experience panel" in [p.agency for p in view.participation]


@pytest.mark.parametrize("what", ["no cookie", "no field", "wrong field", "not ascii"])
def test_a_form_without_its_csrf_value_writes_nothing(site: Site, what: str) -> None:
    path = site.link()
    page = site.http.get(path)
    csrf = csrf_of(page.text)
    if what == "no cookie":
        site.http.cookies.clear()
        data = answers(csrf)
    elif what == "no field":
        data = answers(None)
    elif what == "wrong field":
        data = answers(csrf[::-1])
    else:
        data = answers("é" + csrf)
    refused = site.http.post(path, data=data)
    assert refused.status_code == 403
    assert "Open the link again" in refused.text
    assert site.checkins() == []


def test_forged_and_withdrawn_links_open_a_clear_page_and_write_nothing(site: Site) -> None:
    path = site.link()
    group, nonce, signature = path.removeprefix("/contribute/").split(".")
    forged = f"/contribute/{group}.{nonce}.{'A' * len(signature)}"
    for bad in [
        forged,
        "/contribute/nonsense",
        f"/contribute/{group}.{nonce[::-1]}.{signature}",
        f"/contribute/{group}.{nonce}.é{signature}",  # not ASCII: still a 403, never a 500
    ]:
        response = site.http.get(bad)
        assert response.status_code == 403, bad
        assert "This link cannot be used" in response.text
        assert site.http.post(bad, data=answers("x")).status_code == 403

    page = site.http.get(path)
    csrf = csrf_of(page.text)
    assert site.loop.services.contributors.revoke(GROUP, actor="test") == 1
    withdrawn = site.http.get(path)
    assert withdrawn.status_code == 404
    assert "withdrawn" in withdrawn.text
    assert site.http.post(path, data=answers(csrf)).status_code == 404
    assert site.checkins() == []
    # A new link works; the old one stays withdrawn.
    fresh = site.link()
    assert fresh != path and site.http.get(fresh).status_code == 200


def test_mistakes_show_the_form_again_with_what_to_fix(site: Site) -> None:
    path = site.link()
    csrf = csrf_of(site.http.get(path).text)
    again = site.http.post(path, data=answers(csrf, visibility="", q_learned="   "))
    assert again.status_code == 400
    assert "Some answers need another look" in again.text
    assert "Choose who can read this." in again.text
    assert "this one is needed" in again.text
    assert "A worker who listened." in again.text  # what was typed is kept
    assert site.checkins() == []
    # A malformed body is a 400 page, never a 500.
    broken = site.http.post(
        path,
        content=b"\xff\xfe=\xff",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert broken.status_code in (400, 403)
    assert site.checkins() == []


def test_submissions_are_rate_limited_per_link(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contributors, "RATE_LIMIT", 2)
    path = site.link()
    csrf = csrf_of(site.http.get(path).text)
    assert [site.http.post(path, data=answers(csrf)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert len(site.checkins()) == 2


def test_the_cli_prints_the_same_link_revokes_it_and_refuses_an_unknown_group(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil

    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    data = copy.deepcopy(TEST_ALLIANCE)
    data["contributors"] = [{"id": GROUP, "name": "Lived experience panel"}]
    config = tmp_path / "alliance.yml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {
        "LEARNLOOP_CONFIG": str(config),
        "DATABASE_URL": f"sqlite:///{db}",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "BOARD_SECRET_KEY": SECRET,
        "BOARD_URL": "https://learn.example.org/",
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["contributor-link", "--group", GROUP], env=env)
    assert first.exit_code == 0, first.output
    url = first.output.strip()
    assert url.startswith("https://learn.example.org/contribute/lived-experience.")
    second = runner.invoke(cli, ["contributor-link", "--group", GROUP], env=env)
    assert second.output.strip() == url
    revoked = runner.invoke(cli, ["contributor-link", "--group", GROUP, "--revoke"], env=env)
    assert revoked.exit_code == 0 and "Revoked 1 link" in revoked.output
    third = runner.invoke(cli, ["contributor-link", "--group", GROUP], env=env)
    assert third.output.strip() != url
    unknown = runner.invoke(cli, ["contributor-link", "--group", "nobody"], env=env)
    assert unknown.exit_code == 2
    assert "There is no contributor group 'nobody'" in unknown.output
    no_key = runner.invoke(
        cli, ["contributor-link", "--group", GROUP], env={**env, "BOARD_SECRET_KEY": ""}
    )
    assert no_key.exit_code == 2 and "BOARD_SECRET_KEY" in no_key.output


_ = (ALICE, BOB)


def test_the_form_and_its_pages_pass_an_accessibility_check_in_a_browser(site: Site) -> None:
    """axe-core in Debian's Chromium on the form, its mistakes page, thanks and a bad link.

    Serious or critical violations fail, as on the board's pages (tests/web/test_board_browser.py).
    """
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, sync_playwright

    axe = Axe()

    def check(page: Page, name: str) -> None:
        results = axe.run(page)
        serious = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert not serious, f"{name}: " + results.generate_report()

    path = site.link()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(site.server.url + path)
            check(page, "the form")
            # A mistake: only spaces typed, no choice made; the form comes back saying what to fix.
            page.get_by_label("What happened that you learned from?").fill("   ")
            page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()
            page.get_by_text("Some answers need another look").wait_for()
            check(page, "the form with mistakes")
            page.get_by_label("What happened that you learned from?").fill(
                "Being rung before the visit made me feel respected."
            )
            page.get_by_label("The alliance, anonymously").check()
            page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()
            page.get_by_text("Thank you").first.wait_for()
            check(page, "the thank-you page")
            page.goto(site.server.url + "/contribute/nonsense")
            check(page, "a link that cannot be used")
        finally:
            browser.close()
    assert len(site.checkins()) == 1


# ------------------------------------------------------------------------------ receipts
# After a contribution the thank-you page gives a signed link; it opens the entry with "Change
# what I shared" (validated and redacted again, audited) and "Delete what I shared" (the chat
# author's delete: the text, its themes and links go, and the one-off member row with them). A
# withdrawn group link still lets the author delete. Forged, tampered, expired and deleted
# receipts, and forms without their CSRF value, are clear pages with their status and write
# nothing.

RECEIPT = re.compile(r'href="(http://127\.0\.0\.1:\d+)(/contribute/entry/[^"]+)"')


def contribute(site: Site, **extra: str) -> str:
    """Send one contribution through the group's link; the receipt's path."""
    path = site.link()
    sent = site.http.post(path, data=answers(csrf_of(site.http.get(path).text), **extra))
    assert sent.status_code == 200, sent.text
    assert "Keep this link to change or delete what you shared" in sent.text
    found = RECEIPT.search(sent.text)
    assert found, "the thank-you page links to the receipt"
    assert found.group(1) == site.server.url  # BOARD_URL's base
    return found.group(2)


def scalar(site: Site, sql: str, **params: Any) -> Any:
    with site.loop.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def audit(site: Site, action: str) -> int:
    return int(scalar(site, "SELECT count(*) FROM audit_events WHERE action = :a", a=action))


def stored(site: Site) -> str:
    return str([row[1] for row in site.checkins()])


def test_a_receipt_opens_the_entry_changes_it_and_deletes_it(site: Site) -> None:
    receipt = contribute(site, themes="Housing")
    assert scalar(site, "SELECT count(*) FROM checkin_themes") == 1
    page = site.http.get(receipt)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Change what I shared" in page.text and "Delete what I shared" in page.text
    assert "made me feel respected" in page.text  # the form is filled in with what was shared
    assert "Lived experience panel" in page.text
    assert "<script" not in page.text

    changed = site.http.post(
        receipt + "/change",
        data=answers(
            csrf_of(page.text),
            q_learned="Being rung first helped; write to me at sam@example.org next time.",
            visibility="anonymous",
            themes="Housing",
        ),
    )
    assert changed.status_code == 200, changed.text
    assert "Your change is saved" in changed.text
    ((agency, answers_now, visibility, _),) = site.checkins()
    assert agency == GROUP and visibility == "anonymous"
    assert "Being rung first helped" in str(answers_now)
    assert "sam@example.org" not in str(answers_now)  # redacted again before storing
    assert audit(site, "checkin.edited") == 1 and audit(site, "checkin.visibility_changed") == 1

    page = site.http.get(receipt)
    assert "Being rung first helped" in page.text
    deleted = site.http.post(receipt + "/delete", data={"csrf": csrf_of(page.text)})
    assert deleted.status_code == 200 and "What you shared is deleted" in deleted.text
    assert site.checkins() == []
    assert scalar(site, "SELECT count(*) FROM checkin_themes") == 0
    # The contribution's one-off member row goes with it: nothing of it is left to count.
    assert scalar(site, "SELECT count(*) FROM members WHERE platform = 'web'") == 0
    assert audit(site, "checkin.deleted") == 1

    gone = site.http.get(receipt)
    assert gone.status_code == 404 and "it was deleted" in gone.text
    again = site.http.post(receipt + "/delete", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 404
    assert audit(site, "checkin.deleted") == 1


def test_forged_tampered_and_expired_receipts_are_clear_pages_that_write_nothing(
    site: Site,
) -> None:
    receipt = contribute(site)
    csrf = csrf_of(site.http.get(receipt).text)
    checkin_id, stamp, nonce, signature = receipt.removeprefix("/contribute/entry/").split(".")
    before = stored(site)
    for bad in [
        f"{checkin_id}.{stamp}.{nonce}.{'A' * len(signature)}",  # forged signature
        f"{int(checkin_id) + 1}.{stamp}.{nonce}.{signature}",  # another entry's id
        f"{checkin_id}.{int(stamp) + 86400}.{nonce}.{signature}",  # a later issue date
        f"{checkin_id}.{stamp}.{nonce}",  # cut short
        f"{checkin_id}.{stamp}.{nonce}.é{signature}",  # not ASCII: a 403, never a 500
        "nonsense",
    ]:
        path = "/contribute/entry/" + bad
        page = site.http.get(path)
        assert page.status_code == 403, bad
        assert "This link cannot be used" in page.text and "Nothing was changed" in page.text
        assert site.http.post(path + "/delete", data={"csrf": csrf}).status_code == 403
        assert site.http.post(path + "/change", data=answers(csrf)).status_code == 403
    assert stored(site) == before and audit(site, "checkin.deleted") == 0

    # Past the alliance's retention (24 months), the receipt has expired: 410, nothing done.
    site.loop.services.contributors.clock.now = site.loop.services.contributors.clock() + (
        dt.timedelta(days=31 * 24 + 1)
    )
    expired = site.http.get(receipt)
    assert expired.status_code == 410 and "expired" in expired.text
    assert site.http.post(receipt + "/delete", data={"csrf": csrf}).status_code == 410
    assert stored(site) == before and audit(site, "checkin.deleted") == 0


@pytest.mark.parametrize("what", ["no field", "wrong field", "no cookie"])
def test_change_and_delete_need_the_forms_csrf_value(site: Site, what: str) -> None:
    receipt = contribute(site)
    csrf = csrf_of(site.http.get(receipt).text)
    if what == "no cookie":
        site.http.cookies.clear()
        sent: dict[str, str] = {"csrf": csrf}
    elif what == "no field":
        sent = {}
    else:
        sent = {"csrf": csrf[::-1]}
    before = stored(site)
    change = site.http.post(receipt + "/change", data={**answers(None, q_learned="Other"), **sent})
    delete = site.http.post(receipt + "/delete", data=sent)
    assert change.status_code == delete.status_code == 403
    assert "Open the link again" in delete.text
    assert stored(site) == before
    assert audit(site, "checkin.edited") == audit(site, "checkin.deleted") == 0


def test_a_mistake_in_a_change_shows_the_form_again_and_changes_nothing(site: Site) -> None:
    receipt = contribute(site)
    csrf = csrf_of(site.http.get(receipt).text)
    before = stored(site)
    again = site.http.post(
        receipt + "/change", data=answers(csrf, q_learned="  ", visibility="team")
    )
    assert again.status_code == 400
    assert "Some answers need another look" in again.text
    assert "Choose who can read this." in again.text  # "team" is not a contributor's choice
    assert "A worker who listened." in again.text
    assert stored(site) == before and audit(site, "checkin.edited") == 0


def test_a_withdrawn_group_link_still_lets_the_author_delete(site: Site) -> None:
    receipt = contribute(site)
    csrf = csrf_of(site.http.get(receipt).text)
    assert site.loop.services.contributors.revoke(GROUP, actor="test") == 1
    page = site.http.get(receipt)
    assert page.status_code == 200
    assert "Delete what I shared" in page.text
    assert 'action="' + receipt + '/change"' not in page.text
    assert "withdrawn" in page.text and "made me feel respected" in page.text
    before = stored(site)
    refused = site.http.post(receipt + "/change", data=answers(csrf, q_learned="New words"))
    assert refused.status_code == 403 and "withdrawn" in refused.text
    assert stored(site) == before
    deleted = site.http.post(receipt + "/delete", data={"csrf": csrf})
    assert deleted.status_code == 200 and site.checkins() == []


def test_after_the_edit_window_the_words_stay_but_can_be_deleted(site: Site) -> None:
    receipt = contribute(site)
    csrf = csrf_of(site.http.get(receipt).text)
    clock = site.loop.services.contributors.clock
    clock.now = clock() + dt.timedelta(days=8)  # type: ignore[attr-defined]
    page = site.http.get(receipt)
    assert page.status_code == 200
    assert 'action="' + receipt + '/change"' not in page.text
    assert "could be changed until" in page.text and "made me feel respected" in page.text
    before = stored(site)
    refused = site.http.post(receipt + "/change", data=answers(csrf, q_learned="Late"))
    assert refused.status_code == 403 and stored(site) == before
    assert site.http.post(receipt + "/delete", data={"csrf": csrf}).status_code == 200
    assert site.checkins() == []


def test_a_contributor_changes_and_deletes_what_they_shared_in_a_browser(site: Site) -> None:
    """In Debian's Chromium (the pages carry no script): the thank-you page's link, the receipt, a
    change and a delete, each page checked with axe-core (serious or critical fail)."""
    import shutil
    from pathlib import Path

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, sync_playwright

    axe = Axe()
    screenshots = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)

    def check(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name.replace(' ', '-')}.png"), full_page=True)
        results = axe.run(page)
        serious = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert not serious, f"{name}: " + results.generate_report()

    learned = "What happened that you learned from?"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(
                bypass_csp=True
            )  # axe is injected; the pages have no script
            page = context.new_page()
            page.goto(site.server.url + site.link())
            page.get_by_label(learned).fill("Being rung before the visit made me feel respected.")
            page.get_by_label("The alliance, anonymously").check()
            page.get_by_role("button", name="Send my learning").click()
            page.get_by_text("Keep this link to change or delete what you shared").wait_for()
            check(page, "contribute thanks with receipt")
            receipt = page.get_by_role("link", name=re.compile(r"contribute.entry"))
            receipt_url = receipt.get_attribute("href")
            assert receipt_url and receipt_url.startswith(site.server.url)
            receipt.click()

            page.get_by_role("heading", name="What you shared", exact=True).wait_for()
            check(page, "contribute receipt")
            assert "made me feel respected" in page.get_by_label(learned).input_value()
            page.get_by_label(learned).fill("Being rung first helped; call 07700 900123.")
            page.get_by_role("button", name="Change what I shared").click()
            page.get_by_role("heading", name="Your change is saved").wait_for()
            check(page, "the change saved")
            assert "Being rung first helped" in stored(site) and "900123" not in stored(site)

            page.goto(receipt_url)
            page.get_by_role("button", name="Delete what I shared").click()
            page.get_by_role("heading", name="What you shared is deleted").wait_for()
            check(page, "the entry deleted")
            assert site.checkins() == []

            answer = page.goto(receipt_url)
            assert answer is not None and answer.status == 404
            check(page, "a receipt whose entry is gone")
            context.close()
        finally:
            browser.close()
