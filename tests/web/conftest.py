"""The Learning Board's fixtures (a live app with people listed and a seeded week)."""

from board_fixtures import board_live  # noqa: F401 - re-exported fixture
