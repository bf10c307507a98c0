"""`learnloop encryption-key` and `learnloop workspaces` (multi-workspace installs)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from bot.cli.common import fail_config, literal_console, print_json, table


def encryption_key() -> None:
    """Print a new LEARNLOOP_ENCRYPTION_KEY (a Fernet key) for OAuth mode."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def workspaces(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the Slack workspaces LearnLoop is installed in (OAuth mode): ids and names only."""
    from bot.app import open_database
    from bot.settings import ConfigError, load_settings
    from storage.slack_installations import EncryptedInstallationStore, TokenCipher

    try:
        settings = load_settings()
        settings.require_oauth()
    except ConfigError as exc:
        fail_config(exc)
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
        print_json(rows)
        return
    grid = table("workspace", "name", "installed (UTC)", "token rotation", title="Installed in")
    for row in rows:
        when = dt.datetime.fromtimestamp(float(row["installed_at"]), dt.UTC)
        grid.add_row(
            str(row["workspace"]),
            str(row["name"] or ""),
            f"{when:%Y-%m-%d %H:%M}",
            "on" if row["token_rotation"] else "off",
        )
    literal_console().print(
        grid if rows else "Not installed in any workspace yet: open /slack/install."
    )


def register(app: typer.Typer) -> None:
    """Add the commands to the `learnloop` CLI."""
    app.command("encryption-key")(encryption_key)
    app.command("workspaces")(workspaces)
