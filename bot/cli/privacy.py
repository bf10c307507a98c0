"""`learnloop export`, `learnloop purge`, `learnloop audit` (admin commands).

Shell access to the deployment is the admin gate for these commands, as it is for the
database itself: whoever can run them could read the database directly. Each run is
recorded in the append-only audit log with its actor (the OS user, or `--actor`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bot.cli.common import (
    EXIT_CONFIG,
    fail,
    fail_config,
    literal_console,
    offline_loop,
    os_actor,
    table,
)
from bot.domain.errors import DataDeleted, LearnLoopError, NotAMember
from bot.services.privacy import to_json
from bot.settings import ConfigError

console = literal_console()
err = literal_console(stderr=True)


ActorOption = Annotated[
    str | None,
    typer.Option(
        help="Who is running this, for the audit log (default: cli:<your OS user name>). "
        "Put a request reference here, e.g. 'jane.smith SAR-2026-014'."
    ),
]


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    fail(message, code)


def _not_a_member(member: str, platform: str) -> NoReturn:
    # Said to the operator (a DPO), not to the person: the service's words ask *them* to
    # contact an admin.
    _fail(
        f"{member} is not set up as a member on {platform}: LearnLoop holds nothing about "
        "them. Check the id (a Teams member needs --platform teams)"
    )


def _loop() -> Any:
    """The services, without Slack: these commands only read and write the database."""
    try:
        return offline_loop()
    except ConfigError as exc:
        fail_config(exc)


def _write_private(path: Path, data: bytes) -> None:
    """Write personal data readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def export(
    member: Annotated[
        str | None, typer.Option(help="Platform user id of the person (e.g. a Slack member id).")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency id from the alliance file.")] = None,
    platform: Annotated[str, typer.Option(help="Platform of --member.")] = "slack",
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON here (mode 600) instead of to stdout.")
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Subject access: everything held about one person (--member) or one agency (--agency)."""
    if (member is None) == (agency is None):
        _fail("give exactly one of --member SLACK_ID or --agency ID")
    loop = _loop()
    who = os_actor(actor)
    try:
        # A spinner on stderr while the export is gathered (stdout stays pure JSON).
        with err.status("Gathering the export…"):
            if member is not None:
                document = loop.services.privacy.export_member(platform, member, actor=who)
                what = f"member {member}"
            else:
                document = loop.services.privacy.export_agency(agency, actor=who)
                what = f"agency {agency}"
    except DataDeleted:
        _fail(f"{member} deleted their data: LearnLoop holds nothing about them but a tombstone.")
    except NotAMember:
        _not_a_member(str(member), platform)
    except LearnLoopError as exc:
        _fail(exc.message)
    data = to_json(document)
    if out is None:
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()
    else:
        _write_private(out, data)
        err.print(
            f"Exported {what}: {len(document['checkins'])} check-in(s) to {out}. "
            "It holds personal data: send it securely and delete your copy."
        )


def erase(
    member: Annotated[str, typer.Option(help="Platform user id of the person to erase.")],
    platform: Annotated[str, typer.Option(help="Platform of --member.")] = "slack",
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask for confirmation.")] = False,
    actor: ActorOption = None,
) -> None:
    """Erasure on someone's behalf (e.g. a request to the DPO): as their own "Delete my data"."""
    loop = _loop()
    try:
        view = loop.services.privacy.confirm_delete(platform, member)
    except NotAMember:
        _not_a_member(member, platform)
    except DataDeleted:
        # Erasing twice is harmless: say what is already true, as to an operator.
        gone = loop.services.privacy.delete_member(platform, member, actor=os_actor(actor))
        when = f" on {gone.deleted_on:%Y-%m-%d}" if gone.deleted_on else ""
        console.print(
            f"{member} is already erased{when}: LearnLoop holds nothing about them but a "
            "tombstone. Nothing more to delete."
        )
        return
    except LearnLoopError as exc:
        _fail(exc.message)
    if not yes:
        typer.confirm(
            f"Permanently delete {member}'s {view.checkins} check-in(s), profile and prompt "
            f"history ({view.barriers_raised} barrier(s) they raised stay, unattributed)?",
            abort=True,
        )
    done = loop.services.privacy.delete_member(platform, member, actor=os_actor(actor))
    console.print(
        f"Erased {member}: {done.checkins} check-in(s), {done.prompts} prompt record(s); "
        f"{done.barriers_raised} barrier(s) kept without their name. A tombstone stops them "
        "being re-created until they themselves choose to take part again (Start again, in "
        "LearnLoop's privacy panel)."
    )


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Retention: delete check-ins and prompt history older than `retention_months`."""
    loop = _loop()
    with err.status("Finding check-ins past retention…"):
        report = loop.services.privacy.purge(dry_run=dry_run, actor=os_actor(actor))
    verb = "Would delete" if report.dry_run else "Deleted"
    console.print(
        f"Retention {report.retention_months} months: cutoff {report.cutoff:%Y-%m-%d %H:%M} UTC. "
        f"{verb} {report.checkins} check-in(s) and {report.prompts} prompt record(s)."
    )


def _since(value: str | None, zone: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--since {value!r}: write a date like 2026-11-01 (or 2026-11-01T09:00)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def audit(
    since: Annotated[
        str | None, typer.Option(help="Only events from this date (alliance time zone).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    actor: ActorOption = None,
) -> None:
    """Print the audit log: exports, deletions, retention runs, admin actions."""
    loop = _loop()
    entries = loop.services.privacy.audit_log(
        actor=os_actor(actor), since=_since(since, loop.alliance.alliance.zone)
    )
    if as_json:
        for e in entries:
            line = {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
            }
            typer.echo(json.dumps(line, ensure_ascii=False))
        return
    grid = table(
        "at (UTC)",
        "actor",
        "action",
        "target",
        "details",
        whole=("action", "target"),
        narrow={"at (UTC)": 10, "actor": 14},
    )
    for e in entries:
        details = " ".join(f"{k}={v}" for k, v in e.details.items() if v is not None)
        grid.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target or "", details)
    console.print(grid)
    if not entries:
        console.print("No audit events in that period.")


def register(app: typer.Typer) -> None:
    """Add the privacy commands to the `learnloop` CLI."""
    app.command("export")(export)
    app.command("erase")(erase)
    app.command("purge")(purge)
    app.command("audit")(audit)
