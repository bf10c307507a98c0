"""What e-mailing a digest costs next to laying it out for Slack, and one SMTP send.

Run from the repository root::

    python bench/email_digest.py --rounds 30

It makes the demo alliance's database (`learnloop demo`, 4 weeks), builds the alliance digest
view of those four weeks (so its charts are drawn) and its charts once, then times, alternating
in one run: the Slack layout (`digest_thread` → Block Kit, as posted), the e-mail layout
(`digest_message` → text + Jinja2 HTML + inline PNGs, serialised to bytes as sent), and a whole
e-mail send (layout + SMTP) to a real SMTP server (aiosmtpd) on 127.0.0.1. Prints medians,
p95 and the e-mail/Slack ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from rich.console import Console  # noqa: E402

from bot.cli.demo import run_demo  # noqa: E402
from bot.mail.render import email_message  # noqa: E402
from bot.mail.smtp import SmtpMailer  # noqa: E402
from bot.ports import InlineImage  # noqa: E402
from bot.slack.render import thread  # noqa: E402
from bot.views.digest import digest_message, digest_thread  # noqa: E402


class Sink:
    """Accepts every message."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def timed(fn: object, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        services = run_demo(f"sqlite:///{folder}/demo.db", 4, Console(file=io.StringIO()))
        digests = services.digests
        # The four demo weeks as one digest view (the review pack's range), so the counts
        # clear the threshold and the charts are drawn, as in a busy alliance's week.
        today = services.digests.clock().date()
        view, charts = digests.report(today - dt.timedelta(days=27), today)
        images = tuple(InlineImage(c.title, c.png, c.alt) for c in charts)
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=8025 + (id(sink) % 1000))
        controller.start()
        try:
            mailer = SmtpMailer(
                f"smtp://127.0.0.1:{controller.port}", "learnloop@bench.example", waits=()
            )

            def slack() -> None:
                thread(digest_thread(view))

            def mail() -> None:
                email_message(
                    digest_message(view),
                    sender="learnloop@bench.example",
                    to="chair@board.example",
                    images=images,
                ).as_bytes()

            def send() -> None:
                mailer.send("chair@board.example", digest_message(view), images, key="bench")

            results: dict[str, list[float]] = {"slack": [], "email": [], "smtp": []}
            for _ in range(args.rounds):  # alternate so drift hits all three alike
                results["slack"] += timed(slack, 1)
                results["email"] += timed(mail, 1)
                results["smtp"] += timed(send, 1)
        finally:
            controller.stop()
    size = len(
        email_message(
            digest_message(view), sender="a@b.example", to="c@d.example", images=images
        ).as_bytes()
    )
    print(
        f"alliance digest: {len(charts)} chart(s), e-mail {size / 1024:.0f} KiB, "
        f"{args.rounds} rounds, {sink.count} e-mails received"
    )
    print(f"{'step':<34}{'median ms':>10}{'p95 ms':>10}")
    labels = {
        "slack": "Slack layout (Block Kit)",
        "email": "e-mail layout (text+HTML+PNGs)",
        "smtp": "e-mail layout + SMTP send",
    }
    for key, label in labels.items():
        print(f"{label:<34}{statistics.median(results[key]):>10.2f}{p95(results[key]):>10.2f}")
    ratio = statistics.median(results["email"]) / statistics.median(results["slack"])
    print(f"{'ratio e-mail / Slack layout':<34}{ratio:>10.2f}×")


if __name__ == "__main__":
    main()
