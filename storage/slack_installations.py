"""Where multi-workspace Slack installs are kept — slack_sdk's SQLAlchemy stores, sealed.

slack_sdk's `SQLAlchemyInstallationStore` keeps bot and user tokens in clear text. LearnLoop
subclasses it so every secret (bot and user tokens, their refresh tokens, an incoming-webhook
URL) is encrypted with Fernet before it is written and decrypted when it is read; the rest of
slack_sdk and Bolt (the OAuth flow, token rotation, revocation) use the store unchanged.

The tables are slack_sdk's own, declared through the stores' builders (see
`declare_oauth_tables`) so the Alembic migration, the schema test and the stores agree column
for column. Only the secret columns are widened: a sealed token is about twice as long as the
token, and rotating tokens are already longer than slack_sdk's 200 characters.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, Text, and_, desc, func, select

log = logging.getLogger(__name__)

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"

# Marks a sealed value, so reading never mistakes a token for ciphertext or the other way round
# (slack_sdk copies a found bot's tokens into the installation it returns).
SEALED_PREFIX = "fernet:"
INSTALLATION_SECRETS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
BOT_SECRETS = ("bot_token", "bot_refresh_token")


class SealError(Exception):
    """A stored token could not be decrypted (wrong LEARNLOOP_ENCRYPTION_KEY)."""


class TokenCipher:
    """Fernet encryption with key rotation: the first key seals, every key opens."""

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(key.strip().encode()) for key in keys if key.strip()]
        if not fernets:
            raise ValueError("at least one Fernet key is needed")
        self._fernet = MultiFernet(fernets)

    def seal(self, value: str | None) -> str | None:
        """The value encrypted (None and already sealed values pass through)."""
        if value is None or value.startswith(SEALED_PREFIX):
            return value
        return SEALED_PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The value decrypted (None and values that were never sealed pass through)."""
        if value is None or not value.startswith(SEALED_PREFIX):
            return value
        try:
            return self._fernet.decrypt(value[len(SEALED_PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError(
                "a stored Slack token cannot be decrypted: LEARNLOOP_ENCRYPTION_KEY is not the "
                "key it was sealed with (keep the old key after the new one while rotating)"
            ) from None


def _widen_secrets(table: Table, names: Iterable[str]) -> Table:
    for name in names:
        table.c[name].type = Text()
    return table


def _aware(row: Mapping[str, Any]) -> dict[str, Any]:
    # The tables' DateTime columns are naive UTC; slack_sdk would read them as local time.
    return {
        key: value.replace(tzinfo=dt.UTC)
        if isinstance(value, dt.datetime) and value.tzinfo is None
        else value
        for key, value in row.items()
    }


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store with every token encrypted at rest."""

    def __init__(self, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
            logger=log,
        )
        self.cipher = cipher
        # Bumped by every write here, so a token kept in this process is dropped at once.
        self.saves = 0

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's installations table, with room for sealed secrets."""
        table = super().build_installations_table(metadata, table_name)
        return _widen_secrets(table, INSTALLATION_SECRETS)

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's bots table, with room for sealed secrets."""
        return _widen_secrets(super().build_bots_table(metadata, table_name), BOT_SECRETS)

    @classmethod
    def build_installation_entity(cls, row: Any) -> Installation:
        """An Installation from a row, its times read as UTC."""
        return super().build_installation_entity(_aware(row))

    @classmethod
    def build_bot_entity(cls, row: Any) -> Bot:
        """A Bot from a row, its times read as UTC."""
        return super().build_bot_entity(_aware(row))

    # -- sealing on the way in, opening on the way out

    def _sealed_installation(self, installation: Installation) -> Installation:
        copy = Installation(**installation.to_dict_for_copying())
        for name in INSTALLATION_SECRETS:
            setattr(copy, name, self.cipher.seal(getattr(installation, name)))
        return copy

    def _sealed_bot(self, bot: Bot) -> Bot:
        copy = Bot(**bot.to_dict_for_copying())
        for name in BOT_SECRETS:
            setattr(copy, name, self.cipher.seal(getattr(bot, name)))
        return copy

    def save(self, installation: Installation) -> None:
        """Store an installation (and its bot) with every secret sealed."""
        super().save(self._sealed_installation(installation))
        self.saves += 1

    def save_bot(self, bot: Bot) -> None:
        """Store a bot with its tokens sealed."""
        super().save_bot(self._sealed_bot(bot))
        self.saves += 1

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot (the app was uninstalled, its tokens revoked)."""
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.saves += 1

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's (or one installer's) installation."""
        super().delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        self.saves += 1

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The workspace's latest bot, tokens decrypted."""
        bot = super().find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is not None:
            for name in BOT_SECRETS:
                setattr(bot, name, self.cipher.open(getattr(bot, name)))
        return bot

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's (or installer's) latest installation, secrets decrypted."""
        installation = super().find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is not None:
            for name in INSTALLATION_SECRETS:
                setattr(installation, name, self.cipher.open(getattr(installation, name)))
        return installation

    # -- what LearnLoop itself asks

    def find_workspace_bot(self, workspace_id: str) -> Bot | None:
        """The latest bot for a workspace (T…), in or out of an Enterprise Grid, or for an org (E…).

        slack_sdk's find_bot needs the enterprise id as well; a workspace id alone is what the
        alliance file names.
        """
        c = self.bots.c
        where = (
            and_(c.enterprise_id == workspace_id, c.is_enterprise_install.is_(True))
            if workspace_id.startswith("E")
            else c.team_id == workspace_id
        )
        query = (
            self.bots.select()
            .where(c.client_id == self.client_id, where, c.bot_token.is_not(None))
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        bot = self.build_bot_entity(row)
        for name in BOT_SECRETS:
            setattr(bot, name, self.cipher.open(getattr(bot, name)))
        return bot

    def installed_teams(self) -> list[str]:
        """Workspace ids (or org ids of org-wide installs) with a bot, oldest install first."""
        c = self.bots.c
        workspace = func.coalesce(c.team_id, c.enterprise_id)
        query = (
            select(workspace)
            .where(c.client_id == self.client_id, c.bot_token.is_not(None), workspace.is_not(None))
            .group_by(workspace)
            .order_by(func.min(c.installed_at))
        )
        with self.engine.connect() as conn:
            return [str(team) for team in conn.execute(query).scalars()]


def oauth_state_store(engine: Engine, expiration_seconds: int = 600) -> SQLAlchemyOAuthStateStore:
    """slack_sdk's store of one-use install `state` values, on LearnLoop's table."""
    return SQLAlchemyOAuthStateStore(
        expiration_seconds=expiration_seconds, engine=engine, logger=log, table_name=STATES_TABLE
    )


def declare_oauth_tables(metadata: MetaData) -> list[Table]:
    """Add the OAuth tables to `metadata`, exactly as the stores above define them."""
    return [
        EncryptedInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE),
        EncryptedInstallationStore.build_bots_table(metadata, BOTS_TABLE),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE),
    ]
