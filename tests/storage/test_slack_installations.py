"""The encrypted installation store on both backends, and its tables in the migration."""

from __future__ import annotations

import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, text

from storage.slack_installations import (
    INSTALLATIONS_TABLE,
    EncryptedInstallationStore,
    SealError,
    TokenCipher,
    oauth_state_store,
)

CLIENT_ID = "1111.2222"
SLACK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def key() -> str:
    return Fernet.generate_key().decode()


def installation(team: str = "T0AAAA", **changes: object) -> Installation:
    values: dict[str, object] = {
        "app_id": "A0001",
        "team_id": team,
        "team_name": "Housing",
        "bot_token": "xoxb-1-secret-bot",
        "bot_id": "BBOT",
        "bot_user_id": "UBOT",
        "bot_scopes": "chat:write",
        "user_id": "U0ADMIN",
        "user_token": "xoxp-1-secret-user",
        "user_scopes": "search:read",
        "installed_at": time.time(),
    }
    values.update(changes)
    return Installation(**values)  # type: ignore[arg-type]


def raw(engine: Engine, table: str) -> str:
    with engine.connect() as conn:
        return repr(list(conn.execute(text(f"SELECT * FROM {table}"))))


def test_migrated_tables_match_the_stores_own_definitions(engine: Engine) -> None:
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([key()]))
    metadatas = [store.metadata, oauth_state_store(engine).metadata]
    assert {t for m in metadatas for t in m.tables} == SLACK_TABLES
    for metadata in metadatas:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent, m=metadata: (
                        kind != "table" or name in m.tables
                    ),
                },
            )
            diff = compare_metadata(context, metadata)
        assert diff == [], diff


def test_tokens_are_sealed_at_rest_and_opened_on_read(engine: Engine) -> None:
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([key()]))
    store.save(installation())
    for table in ("slack_installations", "slack_bots"):
        stored = raw(engine, table)
        assert "xoxb-" not in stored and "xoxp-" not in stored and "fernet:" in stored
    found = store.find_installation(enterprise_id=None, team_id="T0AAAA")
    assert found is not None
    assert (found.bot_token, found.user_token) == ("xoxb-1-secret-bot", "xoxp-1-secret-user")
    bot = store.find_bot(enterprise_id=None, team_id="T0AAAA")
    assert bot is not None and bot.bot_token == "xoxb-1-secret-bot"
    assert store.installed_teams() == ["T0AAAA"]


def test_a_new_key_reads_what_the_old_one_sealed(engine: Engine) -> None:
    old, new = key(), key()
    EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([old])).save(installation())
    rotated = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([new, old]))
    bot = rotated.find_workspace_bot("T0AAAA")
    assert bot is not None and bot.bot_token == "xoxb-1-secret-bot"
    with pytest.raises(SealError):
        EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([new])).find_workspace_bot(
            "T0AAAA"
        )


def test_rotated_bot_token_replaces_the_old_one(engine: Engine) -> None:
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([key()]))
    before = int(time.time())
    store.save(
        installation(bot_refresh_token="xoxe-1-refresh", bot_token_expires_in=60, user_token=None)
    )
    bot = store.find_workspace_bot("T0AAAA")
    after = int(time.time())
    assert bot is not None and bot.bot_token_expires_at is not None
    # Times round-trip as UTC whatever the machine's zone (slack_sdk reads naive as local): the
    # expiry is 60 s after the moment the install was made, however slow the machine is.
    assert before + 60 <= bot.bot_token_expires_at <= after + 60
    store.save_bot(
        Bot(**{**bot.to_dict_for_copying(), "bot_token": "xoxb-2-new", "bot_token_expires_in": 1})
    )
    again = store.find_workspace_bot("T0AAAA")
    assert again is not None and again.bot_token == "xoxb-2-new"
    assert "xoxb-2-new" not in raw(engine, "slack_bots")


def test_org_wide_install_is_found_by_its_organisation_id(engine: Engine) -> None:
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([key()]))
    store.save(installation(team=None, enterprise_id="E0GRID", is_enterprise_install=True))
    bot = store.find_workspace_bot("E0GRID")
    assert bot is not None and bot.bot_token == "xoxb-1-secret-bot"
    assert store.find_workspace_bot("T0AAAA") is None
    assert store.installed_teams() == ["E0GRID"]


def test_secret_columns_have_room_for_sealed_rotating_tokens(engine: Engine) -> None:
    long_token = "xoxe.xoxb-1-" + "x" * 180  # rotating tokens run to ~200 characters
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher([key()]))
    store.save(installation(bot_token=long_token, bot_refresh_token="xoxe-1-" + "r" * 150))
    bot = store.find_workspace_bot("T0AAAA")
    assert bot is not None and bot.bot_token == long_token
    assert long_token not in raw(engine, INSTALLATIONS_TABLE)
