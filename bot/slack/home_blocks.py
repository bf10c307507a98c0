"""The App Home tab: the home view's blocks, laid out by the Block Kit renderer.

Every word comes from `bot/views/home.py`; this module only puts the person's own entries
between the two halves of the page and carries the entries page in private_metadata.
"""

from __future__ import annotations

import json
from typing import Any

from bot.slack import render
from bot.slack.entries_blocks import entries_blocks
from bot.views.home import HomeView, home_page

# Slack's limit for a Home tab.
MAX_HOME_BLOCKS = render.MODAL_BLOCKS


def home_view(view: HomeView) -> dict[str, Any]:
    """The `home` view for views.publish."""
    page = home_page(view)
    blocks = render.blocks(page.before_entries, MAX_HOME_BLOCKS)
    if view.is_member and view.entries is not None:
        blocks += [block.to_dict() for block in entries_blocks(view.entries)]
    blocks += render.blocks(page.after_entries, MAX_HOME_BLOCKS)
    # The page of entries shown, so a change made from it republishes the same page.
    offset = view.entries.offset if view.entries is not None else 0
    return {
        "type": "home",
        # A long ladder could pass Slack's limit; the end (admin counts) matters least.
        "blocks": blocks[:MAX_HOME_BLOCKS],
        "private_metadata": json.dumps({"offset": offset}, separators=(",", ":")),
    }


def read_offset(view: dict[str, Any]) -> int:
    """The page of entries a published Home tab shows (0 if it doesn't say)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return 0
    offset = data.get("offset") if isinstance(data, dict) else None
    valid = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    return offset if valid else 0
