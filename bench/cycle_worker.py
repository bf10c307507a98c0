"""`learnloop worker`, with a stand-in for the Teams bot's Microsoft sign-in.

A benchmark may not reach login.microsoftonline.com, so the Teams SDK is handed a fixed token
(`build(teams_token=...)`, the hook the tests use) and the fake Bot Connector accepts it.
Everything else is the real CLI, configured by the same environment variables:

    python bench/cycle_worker.py worker --tick-seconds 1
"""

from __future__ import annotations

import os
import time
from typing import Any

import jwt

import bot.app
from bot.cli.main import main

_build = bot.app.build
# Shaped like the token Microsoft hands out (the SDK reads its claims); signed with nothing real.
_TOKEN = jwt.encode(
    {"appid": os.environ.get("TEAMS_CLIENT_ID", ""), "exp": int(time.time()) + 86_400},
    "not-a-real-key-only-a-benchmark-stand-in",
    algorithm="HS256",
)


def _token(scope: str | list[str], tenant_id: str | None) -> str:
    return _TOKEN


def _build_with_token(*args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("teams_token", _token)
    return _build(*args, **kwargs)


bot.app.build = _build_with_token  # the worker command imports build from bot.app when it runs

if __name__ == "__main__":
    main()
