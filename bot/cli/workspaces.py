"""Issue 8: `learnloop encryption-key` and `learnloop workspaces` (multi-workspace installs)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.common import EXIT_CONFIG


def encryption_key() -> None:
    """Print a new LEARNLOOP_ENCRYPTION_KEY (a Fernet key) for OAuth mode."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def workspaces(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the Slack workspaces LearnLoop is installed in (OAuth mode): ids and names only."""
    from bot.app import open_database
    from bot.config import ConfigError, load_settings
    from storage.slack_installations import EncryptedInstallationStore, TokenCipher

    err = Console(stderr=True)
    try:
        settings = load_settings()
        settings.require_oauth()
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None
    assert settings.slack_client_id and settings.learnloop_encryption_key
    engine = open_database(settings.database_url)
    keys = settings.learnloop_encryption_key.get_secret_value().split(",")
    store = EncryptedInstallationStore(settings.slack_client_id, engine, TokenCipher(keys))
    rows = []
    for workspace in store.installed_teams():
        bot = store.find_workspace_bot(workspace)
        if bot is None:
            continue
        rows.append(
            {
                "workspace": workspace,
                "name": bot.team_name,
                "installed_at": bot.installed_at,
                "token_rotation": bot.bot_refresh_token is not None,
            }
        )
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("workspace", "name", "installed (UTC)", "token rotation", title="Installed in")
    for row in rows:
        when = dt.datetime.fromtimestamp(float(row["installed_at"]), dt.UTC)
        table.add_row(
            str(row["workspace"]),
            str(row["name"] or ""),
            f"{when:%Y-%m-%d %H:%M}",
            "on" if row["token_rotation"] else "off",
        )
    Console().print(table if rows else "Not installed in any workspace yet: open /slack/install.")


def register(app: typer.Typer) -> None:
    """Add the commands to the `learnloop` CLI."""
    app.command("encryption-key")(encryption_key)
    app.command("workspaces")(workspaces)
