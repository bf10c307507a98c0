"""Pytest fixtures for the fake Slack Web API; import them from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_api import FakeSlackAPI


@pytest.fixture(name="fake_slack")
def fake_slack() -> Iterator[FakeSlackAPI]:
    """Yield a started FakeSlackAPI and stop it after the test."""
    fake = FakeSlackAPI().start()
    try:
        yield fake
    finally:
        fake.stop()
