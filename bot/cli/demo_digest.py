"""The digest part of `learnloop demo`: the week's digest, its chart and a review pack on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from sqlalchemy.engine import make_url

from bot.render.digest import render_html, render_text
from bot.services import Services

CHART_FILE = "learnloop-demo-themes.png"
REPORT_FILE = "learnloop-demo-report.html"


def demo_output_dir(database_url: str) -> Path:
    """The folder of a SQLite demo database (the current folder for any other database)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent
    return Path.cwd()


def show_digest(services: Services, database_url: str, weeks: int, console: Console) -> Path:
    """Print this week's alliance digest and write its chart and a review pack beside the DB."""
    digests = services.digests
    destination = next(
        (d for d in digests.destinations() if d.scope == "alliance"), digests.destinations()[0]
    )
    view = digests.build(destination)
    console.print(Rule(f"The digest for #{destination.id} ({destination.channel})"))
    console.print(render_text(view), markup=False, highlight=False)

    folder = demo_output_dir(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    chart_path = folder / CHART_FILE
    charts = digests.charts(view)
    if charts:
        chart_path.write_bytes(charts[0].png)
    threshold = services.alliance.alliance.suppress_below
    # Suppressed counts get no bar, so a small week has no chart to write.
    no_chart = f"(no theme count reaches {threshold} this week, so there are no bars to draw)"
    today = services.checkins.clock().astimezone(services.alliance.alliance.zone).date()
    report, report_charts = digests.report(today - dt.timedelta(weeks=weeks), today)
    report_path = folder / REPORT_FILE
    report_path.write_text(render_html(report, report_charts), encoding="utf-8")
    console.print(
        f"\nChart: {chart_path if charts else no_chart}\nLearning review pack: {report_path}"
    )
    return report_path
