"""The check-in form on Slack, rendered once per question set and config version.

The check-in form's words and fields live in `bot.views.checkin`; this module only renders
that form with `bot.slack.render` and keeps the rendered blank modal per question set and
config version, so a burst of "Share a learning" clicks renders it once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.alliance import QuestionSet
from bot.slack import render
from bot.slack.ids import View as ViewId
from bot.views.checkin import CheckinForm, checkin_form


def _state(metadata: Mapping[str, Any]) -> str:
    return json.dumps(dict(metadata), separators=(",", ":"))


def checkin_modal(
    qset: QuestionSet,
    themes: Sequence[str],
    metadata: Mapping[str, Any],
    prefill: Mapping[str, Any] | None = None,
    *,
    callback_id: ViewId = ViewId.CHECKIN,
    title: str = "Share a learning",
    submit: str = "Save learning",
) -> dict[str, Any]:
    """The "Share a learning" modal for a question set, optionally pre-filled.

    The author's "Edit" opens the same form under its own callback_id and title, so an edit
    meets exactly the questions and validation the entry was written with.
    """
    form = CheckinForm.build(
        qset, themes, prefill, form_id=callback_id.value, title=title, submit=submit
    )
    return render.modal(form.form(state=_state(metadata)))


class CheckinForms:
    """The check-in modal, rendered once per question set and config version.

    Only the private metadata differs between two people's blank forms; a pre-filled form
    (typed text, "Add detail") is rendered afresh.
    """

    MAX_FORMS = 256  # sets x (running inquiry, purpose question): a handful in practice

    def __init__(self, version: str, themes: Sequence[str]) -> None:
        self.version = version
        self.themes = tuple(themes)
        self._blank: dict[int, tuple[CheckinForm, dict[str, Any]]] = {}

    def modal(
        self,
        qset: QuestionSet,
        metadata: Mapping[str, Any],
        prefill: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The modal for `qset` (same content as `checkin_modal`)."""
        if prefill:
            return checkin_modal(qset, self.themes, metadata, prefill)
        form = checkin_form(self.version, qset, self.themes)
        cached = self._blank.get(id(form))
        if cached is None or cached[0] is not form:
            if len(self._blank) >= self.MAX_FORMS:
                self._blank.clear()
            cached = (form, render.modal(form.form()))
            self._blank[id(form)] = cached
        # The blocks are shared between requests and never changed once rendered.
        return {**cached[1], "private_metadata": _state(metadata)}
