"""The audit trail of Slack workspaces joining and leaving the alliance."""

from __future__ import annotations

import logging
from typing import Any

from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class WorkspaceService:
    """Records installs, uninstalls and revoked tokens (ids only) in the audit log."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    def _record(self, actor: str, action: str, workspace: str | None, **details: Any) -> None:
        with self.uow() as uow:
            uow.audit.record(
                actor=actor, action=action, target=f"slack_workspace:{workspace}", **details
            )
            uow.commit()

    def installed(self, workspace: str | None, installer: str | None, enterprise: bool) -> None:
        """A workspace (or an Enterprise Grid organisation) installed LearnLoop."""
        log.info("installed in Slack workspace %s", workspace)
        self._record(
            f"slack:{installer}" if installer else "slack",
            "slack.installed",
            workspace,
            enterprise_install=enterprise,
        )

    def uninstalled(self, workspace: str | None) -> None:
        """A workspace removed LearnLoop; its tokens are gone."""
        log.info("uninstalled from Slack workspace %s", workspace)
        self._record("slack", "slack.uninstalled", workspace)

    def tokens_revoked(self, workspace: str | None, bot: bool, users: int) -> None:
        """Slack revoked some of a workspace's tokens."""
        log.info("tokens revoked in Slack workspace %s (bot: %s, users: %d)", workspace, bot, users)
        self._record("slack", "slack.tokens_revoked", workspace, bot=bot, users=users)
