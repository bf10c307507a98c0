"""The Learning Board's HTTP routes under /board/: sign-in, sessions and the pages.

Only mapping and checking happens here: who the visitor is (a signed session cookie), that a
POST carries its form's CSRF token, and which page their role opens. What a page shows is the
board service's; its words are `bot.views.board`'s; the templates lay them out.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from bot.app import LearnLoop
from bot.render.digest import digest_fragment, html_blocks, render_html
from bot.render.pages import html_words
from bot.services.board import BoardService, LinkRefused, TooManyRequests, Viewer
from bot.views import board as words
from bot.views.board import ROLE_NAMES, TEXT, Problem, RegisterFilters, inquiry_line_text
from bot.web.board.oidc import SlackOpenID, SlackSignInRefused
from bot.web.board.security import (
    CSRF_COOKIE,
    OIDC_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    BadToken,
    BoardSigner,
    Session,
    same,
)

log = logging.getLogger("learnloop.board")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_FORM_BYTES = 8192
LOCAL_HOSTS = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def board_templates() -> Environment:
    """The board's Jinja2 templates, autoescaped, with its words as `t`."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = TEXT
    env.filters["words"] = lambda value: Markup(html_words(value))
    env.filters["inquiry_line"] = inquiry_line_text
    return env


def slack_web_base(api_url: str) -> str:
    """Slack's web base (where its authorize page is) from the Web API's URL."""
    base = api_url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


def mount_board(api: FastAPI, loop: LearnLoop) -> None:
    """Add /board/ to the HTTP app (a "not set up" page when BOARD_SECRET_KEY is unset)."""
    settings = loop.settings
    key = settings.board_secret_key.get_secret_value() if settings.board_secret_key else ""
    env = board_templates()
    alliance_name = loop.alliance.alliance.name

    if not key:

        @api.get("/board/{rest:path}")
        def board_not_set_up(rest: str) -> HTMLResponse:
            """The board needs BOARD_SECRET_KEY."""
            page = env.get_template("board/problem.html").render(
                title="The Learning Board is not set up",
                problem=Problem(
                    503,
                    "The Learning Board is not set up",
                    "Ask your LearnLoop admin to set BOARD_SECRET_KEY.",
                ),
                alliance=alliance_name,
                viewer=None,
            )
            return HTMLResponse(page, 503)

        return

    signer = BoardSigner(key)
    # Looked up on every use: a reload of the alliance file replaces the services.
    board = cast(BoardService, _Current(loop))
    board_url = (settings.board_url or "").rstrip("/")
    secure = not board_url.startswith(LOCAL_HOSTS) if board_url else True
    slack_credentials = settings.board_slack_credentials
    slack_enabled = slack_credentials is not None

    # ------------------------------------------------------------------ helpers

    def base_url(request: Request) -> str:
        return board_url or str(request.base_url).rstrip("/")

    def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/board",
            httponly=True,
            secure=secure,
            samesite="lax",
        )

    def render(
        request: Request,
        template: str,
        status: int = 200,
        viewer: Viewer | None = None,
        session: Session | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page; a visitor without a session gets a CSRF cookie for its forms."""
        new_cookie = None
        if session is not None:
            csrf = session.csrf
        else:
            csrf, new_cookie = visitor_csrf(request)
        page = env.get_template(template).render(
            alliance=alliance_name,
            viewer=viewer,
            role=ROLE_NAMES.get(viewer.role, viewer.role) if viewer else "",
            csrf=csrf,
            path=request.url.path,
            slack_enabled=slack_enabled,
            **context,
        )
        response = HTMLResponse(page, status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        if new_cookie is not None:
            set_cookie(response, CSRF_COOKIE, new_cookie, None)
        return response

    def problem(
        request: Request, found: Problem, clear_session: bool = False, viewer: Viewer | None = None
    ) -> HTMLResponse:
        response = render(request, "board/problem.html", found.status, viewer=viewer, problem=found)
        if clear_session:
            response.delete_cookie(SESSION_COOKIE, path="/board")
        return response

    def visitor_csrf(request: Request) -> tuple[str, str | None]:
        """The CSRF token of a visitor with no session (and a new cookie if they had none)."""
        value = request.cookies.get(CSRF_COOKIE)
        if value:
            try:
                return signer.read_csrf(value), None
            except BadToken:
                pass
        return signer.new_csrf()

    def session_of(request: Request) -> Session | Problem | None:
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            session = signer.read_session(value)
        except BadToken:
            return words.bad_session()
        if board.clock() - session.started_at > SESSION_LIFETIME:
            return words.bad_session()
        return session

    def signed_in(request: Request) -> tuple[Viewer, Session] | HTMLResponse:
        found = session_of(request)
        if found is None:
            return problem(request, words.signed_out())
        if isinstance(found, Problem):
            return problem(request, found, clear_session=True)
        viewer = board.viewer(found.subject, found.name)
        if viewer is None:
            # Their role was taken out of the alliance file since they signed in.
            return problem(request, words.not_on_board(), clear_session=True)
        return viewer, found

    async def form_of(request: Request) -> dict[str, str] | None:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return None

    def csrf_ok(request: Request, form: dict[str, str], session: Session | None) -> bool:
        given = form.get("csrf", "")
        if not given:
            return False
        if session is not None:
            return same(given, session.csrf)
        value = request.cookies.get(CSRF_COOKIE)
        if not value:
            return False
        try:
            return same(given, signer.read_csrf(value))
        except BadToken:
            return False

    def start_session(viewer: Viewer) -> Response:
        session = signer.session_cookie(viewer.subject, viewer.name, board.clock())
        response = RedirectResponse("/board/", 303)
        set_cookie(
            response,
            SESSION_COOKIE,
            signer.dump_session(session),
            int(SESSION_LIFETIME.total_seconds()),
        )
        response.delete_cookie(CSRF_COOKIE, path="/board")
        response.delete_cookie(OIDC_COOKIE, path="/board")
        return response

    # ------------------------------------------------------------------ sign-in by e-mail

    @api.get("/board/signin")
    def signin_page(request: Request) -> HTMLResponse:
        """The form that asks for a one-time sign-in link."""
        return render(request, "board/signin.html", title=TEXT.signin_title)

    @api.post("/board/signin")
    async def signin_request(request: Request) -> Response:
        """Ask for a link: the same answer whether or not the address is listed."""
        form = await form_of(request)
        if form is None or not csrf_ok(request, form, None):
            return problem(request, words.bad_form())
        email = form.get("email", "").strip()[:254]
        ip = request.client.host if request.client else "unknown"
        try:
            issued = await run_in_threadpool(board.request_link, email, signer.ip_key(ip))
        except TooManyRequests:
            return problem(request, words.too_many_requests())
        if issued is not None:
            jti, viewer = issued
            address = viewer.subject.removeprefix("email:")
            url = link_url(base_url(request), jti, address)
            mailer = loop.signin_mailer
            if mailer is None:
                log.warning(
                    "board: no e-mail sender is configured; a sign-in link was asked for "
                    "(an admin can make one with `learnloop board-link`)"
                )
            else:
                await run_in_threadpool(mailer.send_signin_link, address, viewer.name, url)
        return render(request, "board/sent.html", title=TEXT.link_sent_title)

    def link_url(base: str, jti: str, email: str) -> str:
        return signin_url(signer, base, jti, email, board.clock())

    @api.get("/board/signin/link")
    def signin_link(request: Request, token: str = "") -> HTMLResponse:
        """A link from an e-mail: a button signs in (so a mail scanner's visit uses nothing)."""
        try:
            claims = signer.read_link(token)
        except BadToken:
            return problem(request, words.link_not_valid())
        if board.clock() - claims.issued_at > dt.timedelta(minutes=15):
            return problem(request, words.link_expired())
        return render(request, "board/confirm.html", title=TEXT.confirm_title, token=token)

    @api.post("/board/signin/link")
    async def signin_confirm(request: Request) -> Response:
        """Use the link: once, within 15 minutes, for someone still listed."""
        form = await form_of(request)
        if form is None or not csrf_ok(request, form, None):
            return problem(request, words.bad_form())
        try:
            claims = signer.read_link(form.get("token", ""))
        except BadToken:
            return problem(request, words.link_not_valid())
        try:
            viewer = await run_in_threadpool(
                board.consume_link, claims.jti, claims.email, claims.issued_at
            )
        except LinkRefused as refused:
            found = {
                "expired": words.link_expired(),
                "used": words.link_used(),
            }.get(refused.reason, words.link_not_valid())
            return problem(request, found)
        log.info("board: signed in by e-mail link (%s)", viewer.role)
        return start_session(viewer)

    @api.post("/board/signout")
    async def signout(request: Request) -> Response:
        """End the session."""
        form = await form_of(request)
        found = session_of(request)
        session = found if isinstance(found, Session) else None
        if form is None or not csrf_ok(request, form, session):
            return problem(request, words.bad_form())
        response = RedirectResponse("/board/signin", 303)
        response.delete_cookie(SESSION_COOKIE, path="/board")
        return response

    # ------------------------------------------------------------------ sign in with Slack

    if slack_credentials is not None:
        client_id, client_secret = slack_credentials
        web_base = slack_web_base(settings.slack_api_url)
        authorize_url = web_base + "/openid/connect/authorize"
        openid = SlackOpenID(
            settings.slack_api_url,
            web_base,
            client_id,
            client_secret,
            teams=lambda: served_workspaces(loop),
        )

        def redirect_uri(request: Request) -> str:
            return base_url(request) + "/board/signin/slack/callback"

        @api.get("/board/signin/slack")
        def slack_start(request: Request) -> Response:
            """Off to Slack's consent page, with a state and a nonce kept in a signed cookie."""
            state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            query = urlencode(
                {
                    "response_type": "code",
                    "scope": "openid profile email",
                    "client_id": client_id,
                    "state": state,
                    "nonce": nonce,
                    "redirect_uri": redirect_uri(request),
                }
            )
            response = RedirectResponse(f"{authorize_url}?{query}", 303)
            set_cookie(response, OIDC_COOKIE, signer.dump_oidc(state, nonce), 600)
            return response

        @api.get("/board/signin/slack/callback")
        async def slack_callback(request: Request, code: str = "", state: str = "") -> Response:
            """Slack sends the person back: check the state, swap the code, read who it is."""
            try:
                expected_state, nonce = signer.read_oidc(request.cookies.get(OIDC_COOKIE, ""))
            except BadToken:
                return problem(request, words.slack_failed())
            if not code or not state or not same(state, expected_state):
                return problem(request, words.slack_failed())
            try:
                person = await run_in_threadpool(openid.person, code, redirect_uri(request), nonce)
            except SlackSignInRefused as refused:
                log.info("board: Slack sign-in refused (%s)", refused.reason)
                await run_in_threadpool(
                    board.record_refusal,
                    f"slack:{refused.user_id}" if refused.user_id else "slack:unverified",
                    refused.reason,
                    refused.team_id,
                )
                if refused.reason == "team":
                    return problem(request, words.slack_other_workspace())
                return problem(request, words.slack_failed())
            user_id, name = person.user_id, person.name
            viewer = board.viewer_for_slack(user_id, name)
            if viewer is None:
                return problem(request, words.not_on_board())
            await run_in_threadpool(board.record_signin, viewer, "slack")
            log.info("board: signed in with Slack (%s)", viewer.role)
            return start_session(viewer)

    # ------------------------------------------------------------------ pages

    def week_page(
        request: Request, viewer: Viewer, session: Session, week: str | None
    ) -> HTMLResponse:
        """A week's digest for the viewer's audience, with its charts and the weeks around it."""
        day = None
        if week is not None:
            day = _day_of(week)
            if day is None:
                return problem(request, words.bad_week(), viewer=viewer)
        page = board.week_page(viewer, day)
        digest = (
            Markup("\n".join(digest_fragment(page.view, page.charts)))
            if page.view is not None
            else None
        )
        return render(
            request,
            "board/week.html",
            viewer=viewer,
            session=session,
            title=page.nav.heading,
            nav=page.nav,
            digest=digest,
        )

    @api.get("/board/")
    def this_week(request: Request, week: str | None = None) -> HTMLResponse:
        """This week (or the week of ?week=YYYY-MM-DD): the digest the viewer's audience gets."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        return week_page(request, viewer, session, week)

    @api.get("/board")
    def board_root() -> Response:
        return RedirectResponse("/board/", 307)

    @api.get("/board/agency/{agency_id}")
    def agency_page(request: Request, agency_id: str, week: str | None = None) -> HTMLResponse:
        """An agency's own week: for that agency's managers only."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        if viewer.agency_id != agency_id:
            return problem(request, words.agency_page_refused(), viewer=viewer)
        return week_page(request, viewer, session, week)

    @api.get("/board/barriers")
    def barriers(
        request: Request,
        level: str = "",
        status: str = "",
        agency: str = "",
        theme: str = "",
        page: str = "1",
    ) -> HTMLResponse:
        """The register, filtered by the GET form; "You said, we did" below it."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        number = int(page) if page.isdigit() and len(page) < 6 else 1
        filters = RegisterFilters(
            level=level[:64] or None,
            status=status[:16] or None,
            agency=agency[:64] or None,
            theme=theme[:100] or None,
            page=number,
        )
        view = board.register(viewer, filters)
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}

        def page_link(n: int) -> str:
            return "/board/barriers?" + urlencode({**query, "page": n})

        return render(
            request,
            "board/barriers.html",
            viewer=viewer,
            session=session,
            title=TEXT.register_title,
            view=view,
            page_link=page_link,
        )

    @api.get("/board/themes")
    def themes(request: Request, weeks: str = "8") -> HTMLResponse:
        """Themes week by week, with each week's shared patterns."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        count = int(weeks) if weeks.isdigit() and len(weeks) < 3 else 8
        view = board.themes(viewer, count)
        return render(
            request,
            "board/themes.html",
            viewer=viewer,
            session=session,
            title=TEXT.themes_title,
            view=view,
        )

    @api.get("/board/inquiries")
    def inquiries(request: Request) -> HTMLResponse:
        """Open and recently closed inquiries, with their summaries."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        view = board.inquiry_page(viewer)
        summaries = {
            entry.line.inquiry_id: Markup("\n".join(_blocks(entry.summary.blocks)))
            for entry in view.entries
            if entry.summary is not None
        }
        return render(
            request,
            "board/inquiries.html",
            viewer=viewer,
            session=session,
            title=TEXT.inquiries_title,
            view=view,
            summaries=summaries,
        )

    @api.get("/board/report")
    def review_pack(request: Request) -> Response:
        """A form for the dates; with them, the review pack (downloadable with download=1)."""
        who = signed_in(request)
        if isinstance(who, HTMLResponse):
            return who
        viewer, session = who
        first_text = request.query_params.get("from", "")
        last_text = request.query_params.get("to", "")
        if not first_text and not last_text:
            today = board.clock().astimezone(loop.alliance.alliance.zone).date()
            return render(
                request,
                "board/report.html",
                viewer=viewer,
                session=session,
                title=TEXT.report_title,
                first=(today - dt.timedelta(days=90)).isoformat(),
                last=today.isoformat(),
            )
        try:
            first = dt.date.fromisoformat(first_text[:10])
            last = dt.date.fromisoformat(last_text[:10])
            view, charts = board.report(viewer, first, last)
        except ValueError:
            return problem(request, words.bad_dates(), viewer=viewer)
        response = HTMLResponse(render_html(view, charts))
        response.headers["Cache-Control"] = "no-store"
        if request.query_params.get("download"):
            name = f"learnloop-review-{first.isoformat()}-{last.isoformat()}.html"
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class _Current:
    """The board service the loop serves now (after any reload of the alliance file)."""

    def __init__(self, loop: LearnLoop) -> None:
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop.services.board, name)


def signin_url(signer: BoardSigner, base: str, jti: str, email: str, now: dt.datetime) -> str:
    """The one-time sign-in URL for a link's jti (the web form and `learnloop board-link`)."""
    token = signer.link_token(jti, email, now)
    return f"{base.rstrip('/')}/board/signin/link?{urlencode({'token': token})}"


def _day_of(text: str) -> dt.date | None:
    """A YYYY-MM-DD date from a query string, or None when it is not one (or far off)."""
    if len(text) != 10:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _blocks(blocks: Any) -> list[str]:
    return html_blocks(blocks, heading="h3")


def served_workspaces(loop: LearnLoop) -> set[str]:
    """The Slack workspaces (and Enterprise Grid orgs) this deployment serves: the alliance
    file's, every installed one (OAuth mode), and the bot token's own (single workspace)."""
    alliance = loop.services.alliance
    teams = {t for t in [alliance.alliance.slack_team, *(a.team for a in alliance.agencies)] if t}
    if loop.installs is not None:
        teams.update(loop.installs.tokens.installed())
    if loop.own_workspace is not None:
        me = loop.own_workspace.identity()
        if me is not None:
            teams.update(t for t in (me.team_id, me.enterprise_id) if t)
    return teams
