"""Installing and packaging: pinned versions, the licence, `--version`, public URLs, Teams pages.

The CLI is run as a real subprocess, as an operator would run it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import TEST_ALLIANCE, Live, alliance_config
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BOT_ID = "00000000-0000-4000-8000-00000000b07a"


def learnloop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `learnloop ARGS` in a clean environment (no .env, no developer settings)."""
    script = Path(sys.executable).with_name("learnloop")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr containing every word."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------------- constraints


def pinned() -> dict[str, str]:
    """constraints.txt as {canonical name: exact version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = version
    return pins


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(r) for r in declared]


def test_constraints_pin_every_dependency_within_the_declared_ranges() -> None:
    pins = pinned()
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pins[name]}, outside {requirement}"
        )


def test_constraints_cover_what_the_dependencies_pull_in() -> None:
    # Walk the installed dependency tree from learnloop[dev]: every package it brings in must be
    # pinned, or a fresh install could resolve a version nobody tested.
    pins = pinned()
    seen: set[tuple[str, str]] = set()  # (package, extra): sqlalchemy and sqlalchemy[asyncio]
    todo = [r for r in project_requirements() if r.marker is None or r.marker.evaluate()]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} (pulled in by a dependency) is not pinned"
        for extra in requirement.extras | {""}:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for text in importlib.metadata.requires(requirement.name) or []:
                inner = Requirement(text)
                if inner.marker is None or inner.marker.evaluate({"extra": extra}):
                    todo.append(inner)
    assert {"slack-sdk", "starlette", "greenlet"} <= {name for name, _ in seen}


def test_ci_the_dockerfile_and_the_readme_install_with_the_constraints() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r'pip install -q -c constraints\.txt -e "\.\[dev\]"', ci), ci
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml README.md LICENSE constraints.txt ./" in dockerfile
    assert re.search(r"pip install -c constraints\.txt \.", dockerfile)
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -c constraints.txt -e ".[dev]"' in readme
    assert "pip install -e" not in readme.replace('pip install -c constraints.txt -e ".[dev]"', "")
    assert (ROOT / ".ci" / "update-constraints").stat().st_mode & 0o111


# ------------------------------------------------------------------------- licence


def test_mit_licence_file_and_spdx_metadata() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    metadata = importlib.metadata.metadata("learnloop")
    assert metadata["License-Expression"] == "MIT"
    assert "LICENSE" in (metadata.get_all("License-File") or [])


def test_version_flag_prints_the_installed_version(tmp_path: Path) -> None:
    result = learnloop("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"learnloop {importlib.metadata.version('learnloop')}\n"


# ------------------------------------------------------------------------- public URLs


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("notaurl", "is not a URL"),
        ("http://learnloop.example.org", "must start with https://"),
        ("https://localhost", "public host name"),
        ("https://learnloop.example.org/?x=1", "without ?query"),
        ("https://learnloop.example.org:99999", "is not a URL"),
    ],
)
def test_manifest_refuses_an_address_slack_cannot_call(tmp_path: Path, url: str, why: str) -> None:
    assert_one_line_error(learnloop("manifest", "--url", url, cwd=tmp_path), "--url", why)


def test_manifest_takes_an_https_base_address(tmp_path: Path) -> None:
    result = learnloop("manifest", "--url", "https://learnloop.example.org/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "request_url: https://learnloop.example.org/slack/events\n" in result.stdout


def test_teams_package_refuses_bad_addresses_in_one_line(tmp_path: Path) -> None:
    base = ("teams-package", "--bot-id", BOT_ID, "--out", str(tmp_path / "p.zip"))
    assert_one_line_error(learnloop(*base, "--url", "notaurl", cwd=tmp_path), "is not a URL")
    assert_one_line_error(
        learnloop(*base, "--url", "http://learnloop.example.org", cwd=tmp_path), "https://"
    )
    assert_one_line_error(
        learnloop(
            *base,
            "--url",
            "https://learnloop.example.org",
            "--privacy-url",
            "http://council.example.org/privacy",
            cwd=tmp_path,
        ),
        "--privacy-url",
        "https://",
    )
    # Without an address there is no privacy or terms page for Teams to show.
    assert_one_line_error(learnloop(*base, cwd=tmp_path), "--url", "--privacy-url")
    assert not (tmp_path / "p.zip").exists()


def package_manifest(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "learnloop-teams.zip"
    result = learnloop("teams-package", "--bot-id", BOT_ID, "--out", str(out), *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(zipfile.ZipFile(out).read("manifest.json"))


def test_teams_package_version_can_be_bumped(tmp_path: Path) -> None:
    url = ("--url", "https://learnloop.example.org")
    first = package_manifest(tmp_path, *url)
    assert first["version"] == importlib.metadata.version("learnloop")
    bumped = package_manifest(tmp_path, *url, "--package-version", "0.1.7")
    assert bumped["version"] == "0.1.7"
    for bad in ("1.0", "1.0.3-beta", "01.0.0"):
        out = ("--out", str(tmp_path / "bad.zip"))
        result = learnloop(
            "teams-package", "--bot-id", BOT_ID, *out, *url, "--package-version", bad, cwd=tmp_path
        )
        assert_one_line_error(result, "--package-version", "MAJOR.MINOR.PATCH")


def test_teams_privacy_and_terms_pages_are_served_by_learnloop(
    tmp_path: Path, make_live: Callable[..., Live]
) -> None:
    manifest = package_manifest(tmp_path, "--url", "https://learnloop.example.org/")
    developer = manifest["developer"]
    assert isinstance(developer, dict)
    assert developer["privacyUrl"] == "https://learnloop.example.org/privacy"
    assert developer["termsOfUseUrl"] == "https://learnloop.example.org/terms"

    # The paths the package names answer on the running app, with what this deployment keeps.
    about = {**TEST_ALLIANCE["alliance"], "name": "Somerset <Learning> Alliance"}
    live = make_live(alliance_config(alliance={**about, "retention_months": 18}))
    privacy = live.http.get(live.server.url + urlsplit(developer["privacyUrl"]).path)
    assert privacy.status_code == 200
    assert privacy.headers["content-type"].startswith("text/html")
    assert "Somerset &lt;Learning&gt; Alliance" in privacy.text  # escaped, not markup
    assert "<Learning>" not in privacy.text
    assert "deleted after 18 months" in privacy.text
    assert "NHS numbers" in privacy.text and "fewer than 3" in privacy.text
    terms = live.http.get(live.server.url + urlsplit(developer["termsOfUseUrl"]).path)
    assert terms.status_code == 200 and "Terms of use" in terms.text


def test_an_organisation_can_point_teams_at_its_own_pages(tmp_path: Path) -> None:
    manifest = package_manifest(
        tmp_path,
        "--url",
        "https://learnloop.example.org",
        "--privacy-url",
        "https://council.example.org/privacy-notice",
        "--terms-url",
        "https://council.example.org/terms",
    )
    developer = manifest["developer"]
    assert isinstance(developer, dict)
    assert developer["privacyUrl"] == "https://council.example.org/privacy-notice"
    assert developer["termsOfUseUrl"] == "https://council.example.org/terms"
