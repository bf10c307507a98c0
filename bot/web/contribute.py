"""`GET/POST /contribute/<token>`: a contributor group's form, server-rendered, no JavaScript.

Only HTTP and layout live here: the words are `bot/views/contribute.py`'s, the rules the
`ContributorService`'s. The form is protected by a double-submit CSRF value (a random cookie
for this path, and a hidden field that is its HMAC with the link); a forged link is a 403, a
withdrawn one a 404, a form without its CSRF value a 403, too many submissions a 429. None of
them writes anything.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from bot.domain.answers import answer_text
from bot.domain.entries import EditWindowClosed
from bot.domain.errors import LearnLoopError, ValidationFailed
from bot.render.pages import html_words
from bot.services.contributors import (
    ChangeClosed,
    ContributorService,
    EntryGone,
    LinkForged,
    LinkRevoked,
    OpenLink,
    OpenReceipt,
    ReceiptExpired,
    ReceiptForged,
    SecretNotSet,
    TooManySubmissions,
)
from bot.views import contribute as receipt_words
from bot.views.contribute import (
    EXPIRED_FORM,
    FORM_HAS_ERRORS,
    TOO_LARGE,
    Page,
    change_form,
    change_window_note,
    changed_page,
    contribute_form,
    deleted_page,
    link_problem_page,
    receipt_intro,
    receipt_problem_page,
    shared_as,
    shared_lines,
    thanks_page,
)
from bot.views.message import ChoiceField, Form, Paragraph, TextField
from bot.web.jinja import templates

log = logging.getLogger(__name__)

COOKIE = "learnloop_contribute"
CSRF_FIELD = "csrf"
MAX_BODY = 64 * 1024
# The token is in the URL: no page may send it on as a Referer, be framed or be cached.
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _fields(form: Form) -> list[dict[str, Any]]:
    """The form's items as the template lays them out (words spelled, escaped)."""
    out: list[dict[str, Any]] = []
    for item in form.items:
        if isinstance(item, Paragraph):
            out.append(
                {"kind": "paragraph", "html": Markup(html_words(item.text)), "subtle": item.subtle}
            )
        elif isinstance(item, TextField):
            out.append(
                {
                    "kind": "text",
                    "id": item.id,
                    "label": item.label,
                    "hint": Markup(html_words(item.hint)) if item.hint else None,
                    "multiline": item.multiline,
                    "optional": item.optional,
                    "value": item.initial,
                    "max_length": item.max_length,
                    "placeholder": item.placeholder,
                    "error": form.errors.get(item.id) or item.error,
                }
            )
        elif isinstance(item, ChoiceField):
            multiple = item.multiple
            out.append(
                {
                    "kind": "choice",
                    "id": item.id,
                    "label": item.label,
                    "hint": Markup(html_words(item.hint)) if item.hint else None,
                    # No JavaScript: a select becomes radio buttons, a multi-select checkboxes.
                    "type": "checkbox" if multiple else "radio",
                    "optional": item.optional,
                    "options": [
                        {
                            "value": option.value,
                            "label": option.label,
                            "checked": option.value in item.initial,
                            "dom_id": f"{item.id}-{index}",
                        }
                        for index, option in enumerate(item.options)
                    ],
                    "error": form.errors.get(item.id) or item.error,
                }
            )
    return out


def _page(page: Page, status: int) -> HTMLResponse:
    html = (
        templates()
        .get_template("contribute/page.html")
        .render(title=page.title, paragraphs=[Markup(html_words(p)) for p in page.paragraphs])
    )
    return HTMLResponse(html, status, headers=HEADERS)


def _problem(exc: LearnLoopError | str, status: int) -> HTMLResponse:
    message = exc if isinstance(exc, str) else exc.message
    return _page(link_problem_page(message), status)


def _status_of(exc: LearnLoopError) -> int:
    if isinstance(exc, LinkForged | ReceiptForged | ChangeClosed | EditWindowClosed):
        return 403
    if isinstance(exc, ReceiptExpired):
        return 410
    if isinstance(exc, EntryGone):
        return 404
    if isinstance(exc, LinkRevoked):
        return 404
    if isinstance(exc, TooManySubmissions):
        return 429
    if isinstance(exc, SecretNotSet):
        return 503
    return 400


def _values(body: bytes) -> dict[str, Any] | None:
    """A urlencoded body as field -> value (a list where a field came several times)."""
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v if len(v) > 1 or k == "themes" else v[0] for k, v in parsed.items()}


def contribute_router(current: Callable[[], ContributorService]) -> APIRouter:
    """The contributor form's routes. `current` gives the service the composition root built,
    asked on each request: a reloaded alliance file replaces it."""
    router = APIRouter()

    def form_response(
        request: Request,
        token: str,
        opened: OpenLink,
        errors: dict[str, str] | None = None,
        prefill: dict[str, Any] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        service = current()
        alliance_name = service.alliance.alliance.name
        browser = request.cookies.get(COOKIE) or secrets.token_urlsafe(18)
        form = contribute_form(alliance_name, opened.group.name, opened.form, errors, prefill)
        html = (
            templates()
            .get_template("contribute/form.html")
            .render(
                form=form,
                fields=_fields(form),
                action=f"/contribute/{token}",
                csrf_field=CSRF_FIELD,
                csrf=service.csrf_token(token, browser),
                errors=FORM_HAS_ERRORS if errors else "",
            )
        )
        response = HTMLResponse(html, status, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            browser,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" or (service.base_url or "").startswith("https://"),
            path="/contribute",
            max_age=60 * 60 * 24,
        )
        return response

    @router.get("/contribute/{token}", response_class=HTMLResponse)
    async def contribute_page(token: str, request: Request) -> HTMLResponse:
        """The form (or a clear page saying why the link does not work)."""
        service = current()
        try:
            opened = await run_in_threadpool(service.open, token)
        except LearnLoopError as exc:
            return _problem(exc, _status_of(exc))
        return form_response(request, token, opened)

    @router.post("/contribute/{token}", response_class=HTMLResponse)
    async def contribute_submit(token: str, request: Request) -> HTMLResponse:
        """Store a contribution; the form again with what to fix; or why it was refused."""
        service = current()
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problem(TOO_LARGE, 413)
        try:
            opened = await run_in_threadpool(service.open, token)
        except LearnLoopError as exc:
            return _problem(exc, _status_of(exc))
        values = _values(body)
        if values is None:
            return _problem(EXPIRED_FORM, 400)
        sent = values.pop(CSRF_FIELD, None)
        if not service.csrf_ok(
            token, request.cookies.get(COOKIE), sent if isinstance(sent, str) else None
        ):
            log.info("contribution refused: missing or wrong CSRF value")
            return _problem(EXPIRED_FORM, 403)
        try:
            saved = await run_in_threadpool(service.submit, token, values)
        except ValidationFailed as exc:
            prefill = service.typed(opened, values)
            return form_response(request, token, opened, exc.errors, prefill, status=400)
        except LearnLoopError as exc:
            return _problem(exc, _status_of(exc))
        return _page(
            thanks_page(service.alliance.alliance.name, saved.redaction_summary, saved.receipt_url),
            200,
        )

    # ------------------------------------------------------------------ the receipt

    def receipt_problem(exc: LearnLoopError) -> HTMLResponse:
        return _page(receipt_problem_page(exc.message), _status_of(exc))

    def receipt_response(
        request: Request,
        receipt: str,
        opened: OpenReceipt,
        errors: dict[str, str] | None = None,
        prefill: dict[str, Any] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        """The entry a receipt opens: its words (in the form, while it can change), and the
        buttons that change and delete it."""
        service = current()
        alliance_name = service.alliance.alliance.name
        browser = request.cookies.get(COOKIE) or secrets.token_urlsafe(18)
        current_values = prefill or opened.current
        form = None
        if opened.link_open and opened.editable:
            form = change_form(
                alliance_name, opened.group_name, opened.form, errors, current_values
            )
        if not opened.link_open:
            note = words_html(receipt_words.CHANGE_CLOSED)
        else:
            note = words_html(change_window_note(f"{opened.edit_until:%d %B %Y}", opened.editable))
        answers = {k: answer_text(v) for k, v in opened.current["answers"].items()}
        questions = [(q.id, q.label) for q in opened.form.qset.questions]
        html = (
            templates()
            .get_template("contribute/receipt.html")
            .render(
                title=receipt_words.RECEIPT_TITLE,
                errors=FORM_HAS_ERRORS if errors else "",
                intro=[
                    words_html(p)
                    for p in receipt_intro(
                        opened.group_name,
                        f"{opened.saved_on:%d %B %Y}",
                        shared_as(opened.group_name, opened.current["visibility"]),
                    )
                ],
                form=form,
                fields=_fields(form) if form is not None else [],
                shared=shared_lines(questions, answers, opened.current["themes"]),
                window_note=note,
                change_heading=receipt_words.CHANGE_HEADING,
                change_action=f"/contribute/entry/{receipt}/change",
                delete_heading=receipt_words.DELETE_HEADING,
                delete_goes=receipt_words.DELETE_GOES,
                delete_button=receipt_words.DELETE_BUTTON,
                delete_action=f"/contribute/entry/{receipt}/delete",
                csrf_field=CSRF_FIELD,
                csrf=service.csrf_token("receipt:" + receipt, browser),
            )
        )
        response = HTMLResponse(html, status, headers=HEADERS)
        set_browser_cookie(request, response, browser)
        return response

    def set_browser_cookie(request: Request, response: HTMLResponse, browser: str) -> None:
        service = current()
        response.set_cookie(
            COOKIE,
            browser,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" or (service.base_url or "").startswith("https://"),
            path="/contribute",
            max_age=60 * 60 * 24,
        )

    async def receipt_form(
        request: Request, receipt: str
    ) -> tuple[OpenReceipt, dict[str, Any]] | HTMLResponse:
        """The receipt and the posted form, or the page that says why neither can be used."""
        service = current()
        body = await request.body()
        if len(body) > MAX_BODY:
            return _page(receipt_problem_page(TOO_LARGE), 413)
        try:
            opened = await run_in_threadpool(service.receipt, receipt)
        except LearnLoopError as exc:
            return receipt_problem(exc)
        values = _values(body)
        if values is None:
            return _page(receipt_problem_page(EXPIRED_FORM), 400)
        sent = values.pop(CSRF_FIELD, None)
        if not service.csrf_ok(
            "receipt:" + receipt,
            request.cookies.get(COOKIE),
            sent if isinstance(sent, str) else None,
        ):
            log.info("receipt action refused: missing or wrong CSRF value")
            return _page(receipt_problem_page(EXPIRED_FORM), 403)
        return opened, values

    @router.get("/contribute/entry/{receipt}", response_class=HTMLResponse)
    async def receipt_page(receipt: str, request: Request) -> HTMLResponse:
        """What a contributor shared, with "Change what I shared" and "Delete what I shared"."""
        try:
            opened = await run_in_threadpool(current().receipt, receipt)
        except LearnLoopError as exc:
            return receipt_problem(exc)
        return receipt_response(request, receipt, opened)

    @router.post("/contribute/entry/{receipt}/change", response_class=HTMLResponse)
    async def receipt_change(receipt: str, request: Request) -> HTMLResponse:
        """Change the entry (validated and redacted again, audited), or say what to fix."""
        found = await receipt_form(request, receipt)
        if isinstance(found, HTMLResponse):
            return found
        opened, values = found
        service = current()
        try:
            summary = await run_in_threadpool(service.change, receipt, values)
        except ValidationFailed as exc:
            prefill = service.typed_receipt(opened, values)
            return receipt_response(request, receipt, opened, exc.errors, prefill, status=400)
        except LearnLoopError as exc:
            return receipt_problem(exc)
        return _page(
            changed_page(summary, f"{service.base_url or ''}/contribute/entry/{receipt}"), 200
        )

    @router.post("/contribute/entry/{receipt}/delete", response_class=HTMLResponse)
    async def receipt_delete(receipt: str, request: Request) -> HTMLResponse:
        """Delete the entry for good (even after the group's link was withdrawn)."""
        found = await receipt_form(request, receipt)
        if isinstance(found, HTMLResponse):
            return found
        try:
            await run_in_threadpool(current().delete, receipt)
        except LearnLoopError as exc:
            return receipt_problem(exc)
        return _page(deleted_page(), 200)

    return router


def words_html(text: Any) -> Markup:
    """Words (or a plain sentence) as escaped HTML."""
    return Markup(html_words(text))
