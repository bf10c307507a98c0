"""The public address an operator gives LearnLoop (manifest, Teams package): checked once."""

from __future__ import annotations

from urllib.parse import urlsplit


class PublicUrlError(ValueError):
    """The address cannot be where Slack or Teams reaches LearnLoop; the message says why."""


def public_base_url(value: str, option: str = "--url") -> str:
    """`value` as an https base URL with no trailing slash; PublicUrlError says what to fix."""
    example = "https://learnloop.example.org"
    text = value.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # a malformed port only raises when it is read
    except ValueError:
        raise PublicUrlError(f"{option} {value!r} is not a URL: write it like {example}") from None
    if not parts.scheme or not parts.netloc:
        raise PublicUrlError(f"{option} {value!r} is not a URL: write it like {example}")
    if parts.scheme != "https":
        # Slack and Teams only call https endpoints, and a plain http one would carry tokens
        # and check-ins in clear.
        raise PublicUrlError(
            f"{option} {value!r} must start with https:// (Slack and Teams only call https "
            f"addresses): write it like {example}"
        )
    host = parts.hostname or ""
    if "." not in host or " " in text or parts.username or parts.password:
        # Slack and Teams call it from the internet: a bare name such as localhost can't work.
        raise PublicUrlError(
            f"{option} {value!r} needs a public host name: write it like {example}"
        )
    if parts.query or parts.fragment:
        raise PublicUrlError(
            f"{option} {value!r} must be a base address without ?query or #fragment: "
            f"write it like {example}"
        )
    return text.rstrip("/")
