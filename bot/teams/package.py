"""The Teams app package: manifest.json and two icons, zipped for upload to Teams.

The icons are drawn here at build time (a loop on LearnLoop's colour), so no binary files live
in the repository: a colour icon of 192×192 pixels and a white-on-transparent outline icon of
32×32, as Teams requires. The PNG writer is the standard library's zlib and struct.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import math
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.domain.platforms import is_entra_object_id
from bot.teams.ids import CHANNEL_COMMANDS, Command, ExtensionCommand
from bot.urls import PublicUrlError, public_base_url

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
)
ACCENT = (0x1F, 0x6F, 0x78)  # LearnLoop teal
COLOR_ICON_SIZE = 192
OUTLINE_ICON_SIZE = 32
# Teams takes only MAJOR.MINOR.PATCH (no pre-release or build part) and refuses an update whose
# version is not higher than the one already uploaded.
TEAMS_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
DEFAULT_WEBSITE = "https://github.com/learnloop/learnloop"
# LearnLoop serves these pages itself (bot/views/legal.py), under the deployment's URL.
PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"

COMMAND_HELP: dict[Command, str] = {
    Command.CHECKIN: "Share a learning: what happened, what helped, what got in the way",
    Command.ESCALATE: "Raise a barrier your team can't remove, for the system stewards",
    Command.BARRIERS: "The barrier register: open, mine, stale or all",
    Command.PAUSE: "Pause the weekly prompt: 2w, 10d or until 2026-12-31 (4 weeks if blank)",
    Command.RESUME: "Start the weekly prompt again",
    Command.PRIVACY: "See, export or delete what LearnLoop holds about you",
    Command.ENTRIES: "Your learnings: edit one (7 days), change who can see it, or delete it",
    Command.DIGEST: "The weekly note of what the alliance learned: digest on or digest off",
    Command.FIND: "Search past learnings: find WORDS --theme THEME --agency AGENCY",
    Command.HELP: "What LearnLoop can do",
    Command.ADMIN: "For admins: add @person agency, remove @person, or list",
}


ADMIN_ONLY_COMMANDS = frozenset({Command.ADMIN})


class PackageError(ValueError):
    """The package can't be built as asked; the message says what to change."""


# ----------------------------------------------------------------------------- icons


def png(width: int, height: int, pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """An 8-bit RGBA PNG of the given pixel rows."""
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _loop_icon(size: int, background: tuple[int, int, int, int] | None) -> bytes:
    """A ring with a gap and an arrowhead — a loop — in white, on `background` or clear."""
    white = (255, 255, 255, 255)
    clear = (0, 0, 0, 0)
    centre = (size - 1) / 2
    outer, inner = size * 0.36, size * 0.24
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            dx, dy = x - centre, y - centre
            distance = math.hypot(dx, dy)
            angle = math.degrees(math.atan2(-dy, dx)) % 360
            on_ring = inner <= distance <= outer and not 60 <= angle <= 100
            # The arrowhead at the gap's end points round the loop.
            tip_x, tip_y = centre + (outer + inner) / 2 * 0.5, centre - (outer + inner) / 2 * 0.866
            on_tip = abs(x - tip_x) + abs(y - tip_y) <= size * 0.09
            if on_ring or on_tip:
                row.append(white)
            else:
                row.append(background or clear)
        rows.append(row)
    return png(size, size, rows)


def color_icon() -> bytes:
    """The 192×192 full-colour icon."""
    return _loop_icon(COLOR_ICON_SIZE, (*ACCENT, 255))


def outline_icon() -> bytes:
    """The 32×32 outline icon: white on transparent, as Teams requires."""
    return _loop_icon(OUTLINE_ICON_SIZE, None)


# --------------------------------------------------------------------------- manifest


def _commands(names: tuple[Command, ...] | list[Command]) -> list[dict[str, str]]:
    return [{"title": c.value, "description": COMMAND_HELP[c]} for c in names]


def package_version(requested: str | None = None) -> str:
    """The Teams app version: `requested`, else LearnLoop's own (PackageError if unusable)."""
    version = requested or importlib.metadata.version("learnloop")
    if TEAMS_VERSION.fullmatch(version):
        return version
    if requested:
        raise PackageError(
            f"--package-version {requested!r}: Teams takes MAJOR.MINOR.PATCH, such as 1.0.3."
        )
    raise PackageError(
        f"LearnLoop's version {version!r} is not MAJOR.MINOR.PATCH, which Teams needs: "
        "pass --package-version, such as 1.0.3."
    )


def _https(value: str, option: str) -> str:
    try:
        return public_base_url(value, option)
    except PublicUrlError as exc:
        raise PackageError(str(exc)) from None


def manifest(
    bot_id: str,
    app_id: str | None = None,
    url: str | None = None,
    name: str = "LearnLoop",
    developer: str = "LearnLoop",
    version: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """The Teams app manifest for a bot (its Azure Bot's Microsoft App ID).

    The privacy and terms pages default to the ones LearnLoop serves under `url`; an
    organisation with its own pages passes them instead.
    """
    for label, value in (("bot id", bot_id), ("app id", app_id or bot_id)):
        if not is_entra_object_id(value):
            raise PackageError(
                f"The {label} must be a GUID (the Azure Bot's Microsoft App ID); got {value!r}."
            )
    base = _https(url, "--url") if url is not None else None
    privacy = _https(privacy_url, "--privacy-url") if privacy_url else None
    terms = _https(terms_url, "--terms-url") if terms_url else None
    privacy = privacy or (base + PRIVACY_PATH if base else None)
    terms = terms or (base + TERMS_PATH if base else None)
    if privacy is None or terms is None:
        raise PackageError(
            "Teams needs a privacy page and a terms-of-use page: give --url (LearnLoop serves "
            f"{PRIVACY_PATH} and {TERMS_PATH} there), or --privacy-url and --terms-url."
        )
    website = base or DEFAULT_WEBSITE
    parts = urlsplit(website)
    version = package_version(version)
    # Teams menus hold at most 10 commands (the manifest schema's maxItems): admin commands are
    # typed by the few who need them, and listed in their help, not in everyone's menu.
    all_commands = [c for c in COMMAND_HELP if c not in ADMIN_ONLY_COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id or bot_id,
        "developer": {
            "name": developer,
            "websiteUrl": website,
            "privacyUrl": privacy,
            "termsOfUseUrl": terms,
        },
        "name": {"short": name[:30], "full": f"{name} — what did we learn this week?"[:100]},
        "description": {
            "short": "A weekly 'what did we learn?' check-in for public service alliances.",
            "full": (
                "LearnLoop asks frontline practitioners each week what they learned, keeps it "
                "safely (identifiers of the people services support are removed before anything "
                "is stored), and turns it into a cross-agency learning digest and a register of "
                "systemic barriers that system stewards take up. Participation is counted per "
                "agency only, never per person."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal", "team"],
                "supportsFiles": True,  # the privacy export is offered as a file
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": _commands(all_commands)},
                    {"scopes": ["team"], "commands": _commands(CHANNEL_COMMANDS)},
                ],
            }
        ],
        "composeExtensions": [
            {
                "botId": bot_id,
                "commands": [
                    {
                        "id": ExtensionCommand.CHECKIN.value,
                        "type": "action",
                        "title": "Share a learning",
                        "description": "What happened that you learned from",
                        "context": ["compose", "commandBox"],
                        "fetchTask": True,
                    },
                    {
                        "id": ExtensionCommand.ESCALATE.value,
                        "type": "action",
                        "title": "Raise a barrier",
                        "description": "Something your team can't remove, for the stewards",
                        "context": ["compose", "commandBox"],
                        "fetchTask": True,
                    },
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [parts.hostname] if base else [],
    }


def build_package(
    out: Path,
    bot_id: str,
    app_id: str | None = None,
    url: str | None = None,
    name: str = "LearnLoop",
    version: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """Write the zip (manifest.json, color.png, outline.png) at `out`; the manifest."""
    document = manifest(
        bot_id,
        app_id=app_id,
        url=url,
        name=name,
        version=version,
        privacy_url=privacy_url,
        terms_url=terms_url,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # Teams expects the three files at the root of the zip, not in a folder.
        archive.writestr("manifest.json", json.dumps(document, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return document
