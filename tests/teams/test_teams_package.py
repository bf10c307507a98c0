"""`learnloop teams-package`: a zip Teams accepts — manifest.json and two icons at its root."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app as cli
from bot.teams.ids import Command, ExtensionCommand

BOT_ID = "00000000-0000-4000-8000-00000000b07a"


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and raw RGBA rows of a non-interlaced 8-bit RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat = 8, b""
    width = height = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    rows = [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    return width, height, rows


def build(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, Path]:
    out = tmp_path / "learnloop-teams.zip"
    result = CliRunner().invoke(
        cli, ["teams-package", "--out", str(out), *args], env=env or {}, catch_exceptions=False
    )
    return result.exit_code, result.output, out


def test_the_package_has_the_manifest_and_icons_teams_needs(tmp_path: Path) -> None:
    code, output, out = build(
        tmp_path, "--url", "https://learnloop.example.org", env={"TEAMS_CLIENT_ID": BOT_ID}
    )
    assert code == 0, output
    archive = zipfile.ZipFile(out)
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))

    assert manifest["manifestVersion"] == "1.17" and manifest["id"] == BOT_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID and set(bot["scopes"]) == {"personal", "team"}
    personal = {c["title"] for c in bot["commandLists"][0]["commands"]}
    # Every typed command is in the menu but the admins' (Teams allows 10 per menu).
    assert personal == {c.value for c in Command if c is not Command.ADMIN}
    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128
    extension_ids = {c["id"] for c in manifest["composeExtensions"][0]["commands"]}
    assert extension_ids == {c.value for c in ExtensionCommand}
    assert all(c["fetchTask"] for c in manifest["composeExtensions"][0]["commands"])
    assert manifest["validDomains"] == ["learnloop.example.org"]
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["name"]["short"]) <= 30

    width, height, _ = read_png(archive.read("color.png"))
    assert (width, height) == (192, 192)
    width, height, rows = read_png(archive.read("outline.png"))
    assert (width, height) == (32, 32)
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    # Outline icons are white on transparent: nothing else.
    assert {p for p in pixels} <= {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}
    assert pixels[0] == b"\x00\x00\x00\x00"
    assert b"\xff\xff\xff\xff" in pixels


def test_without_a_bot_id_it_says_what_is_missing(tmp_path: Path) -> None:
    code, output, out = build(tmp_path, env={"TEAMS_CLIENT_ID": ""})
    assert code == 2
    assert "TEAMS_CLIENT_ID" in output
    assert not out.exists()


def test_a_bad_bot_id_or_url_is_refused(tmp_path: Path) -> None:
    code, output, _ = build(tmp_path, "--bot-id", "learnloop-bot")
    assert code == 2 and "must be a GUID" in output
    code, output, _ = build(tmp_path, "--bot-id", BOT_ID, "--url", "http://insecure.example.org")
    assert code == 2 and "https://" in output
