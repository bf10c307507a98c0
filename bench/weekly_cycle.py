"""A whole weekly cycle for an alliance over many Slack workspaces and Teams tenants, N workers.

Run from the repository root::

    python bench/weekly_cycle.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/DB
    python bench/weekly_cycle.py --practitioners 1000 --workers 1 2 4 --rounds 3 --postgres ...
    python bench/weekly_cycle.py --sqlite --workers 1   # SQLite: one worker (no lease race)

The alliance: --agencies agencies (default 70) dealt round-robin over --workspaces Slack
workspaces (default 10, joined by OAuth installs) and --tenants Teams tenants (default 2),
--practitioners members (default 10,000) shared evenly among the agencies, one weekly cohort
with a reminder, one digest per agency in its own channel, and the alliance digest. One fake
Slack Web API on 127.0.0.1 tells the workspaces apart by their bot tokens and limits
chat.postMessage per workspace (--rate per second, a token bucket, 429 + Retry-After beyond it;
--slow-rate throttles the last workspace harder). Each tenant has its own fake Bot Connector
limiting sends per conversation (--teams-per-conversation) and for the bot across the tenant
(--teams-rate), also with 429 + Retry-After. Teams members' 1:1 chats and the Teams agencies'
channels are seeded as the app's install would have stored them.

One round, for each worker count W:

1. **prompts**: W worker processes (the real `learnloop worker`, configured only by environment
   variables; with Teams through bench/cycle_worker.py, which only swaps the Microsoft sign-in
   for a stand-in token) start on a freshly migrated database with the members' profiles
   already looked up; the cohort is due. When half the prompts are out, the worker that leads
   (today the one sending) is SIGKILLed and a replacement started, so W stay alive. The phase
   ends when everyone is prompted; the workers are stopped (SIGTERM).
2. **check-ins**: --checkins Slack practitioners (default half of all) answer with a plain DM
   reply, each a signed `message.im` event POSTed to `/slack/events` of the real web app (in
   this process, --clients at once). Database time per check-in is the web app's SQLAlchemy
   cursor time (before/after_cursor_execute) over the phase, divided by the check-ins stored.
3. **reminders and digests**: the ledger's `sent_at` is moved back past `remind_after_hours`
   (the only thing the bench writes into the app's tables besides the seeding), and W workers
   start again with the digests due: everyone who did not answer gets one reminder, and the
   agency digests and the alliance digest are posted.

Reported per W, medians over --rounds: the sending wall time of phases 1 and 3 (first accepted
message to last) against the ideal the limits allow (per workspace or tenant, the messages it
accepted divided by its limit; the largest of those, since they run side by side); duplicates
and misses counted from what the fakes accepted (Slack: prompts and reminders per prompt id,
digests per destination and part; Teams: sends per 1:1 chat, and digest cards and charts per
channel against what the digest's row records); the peak RSS of each worker (VmHWM from /proc)
and of this process (the web app and the fakes); the database time per check-in.

Members' time zone is chosen at start so that it is working hours there now (reminders wait
for working hours).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests", ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from live_server import LiveServer  # noqa: E402
from multi_workspace_slack import MultiWorkspaceSlack, Post  # noqa: E402
from rate_limited_connector import RateLimitedConnector, Sent  # noqa: E402
from slack_requests import message_im  # noqa: E402
from slack_sdk.oauth.installation_store.models.installation import Installation  # noqa: E402
from sqlalchemy import Engine, event, func, insert, select, text, update  # noqa: E402
from worker_process import WorkerProcess, due_now, wait_for, worker_env, write_config  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.app import LearnLoop, build  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.routes import create_web_app  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import (  # noqa: E402
    AgencyRow,
    CheckinRow,
    DigestRow,
    MemberRow,
    PromptRow,
    TeamsConversationRow,
)

SECRET = "weekly-cycle-signing-secret"
TEAMS_APP_ID = "00000000-0000-4000-8000-0000000ca11e"
PROMPT, REMINDER, DIGEST = "learnloop_prompt", "learnloop_reminder", "learnloop_digest"
ZONES = (
    "Europe/London",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Europe/Moscow",
)


def working_zone() -> str:
    """The zone where it is nearest 11:00 now: working hours for the whole run, same date.

    The cohort is scheduled on today's weekday there, so weekends count as working days.
    """

    def distance(name: str) -> float:
        local = dt.datetime.now(ZoneInfo(name))
        return abs(local.hour + local.minute / 60 - 11)

    return min(ZONES, key=distance)


@dataclass(frozen=True)
class Shape:
    """The alliance's size and the platforms' limits.

    Agencies are dealt round-robin over the places: the Slack workspaces first, then the Teams
    tenants (so 70 agencies over 10 workspaces and 2 tenants put 12 agencies on Teams).
    """

    practitioners: int
    agencies: int
    workspaces: int
    checkins: int
    rate: float
    slow_rate: float | None = None
    tenants: int = 0
    teams_rate: float = 50.0  # sends a second per tenant (the bot across its conversations)
    teams_per_conversation: float = 7.0  # sends a second into one conversation

    def team(self, w: int) -> str:
        return f"T0W{w:03d}"

    def token(self, w: int) -> str:
        return f"xoxb-{w}-" + base64.b32encode(w.to_bytes(20, "big")).decode()

    def tenant(self, t: int) -> str:
        return f"{t + 1:08x}-0000-4000-8000-00000000beef"

    def place_of(self, a: int) -> int:
        return a % (self.workspaces + self.tenants)

    def on_teams(self, a: int) -> bool:
        return self.place_of(a) >= self.workspaces

    def tenant_of(self, a: int) -> int:
        return self.place_of(a) - self.workspaces

    def workspace_of_agency(self, a: int) -> int:
        return self.place_of(a)

    def members_of(self, a: int) -> list[str]:
        share = range(a, self.practitioners, self.agencies)
        if self.on_teams(a):
            return [f"{a:08x}-0000-4000-8000-{n:012x}" for n in share]
        return [f"U{a:03d}M{n:06d}" for n in share]

    def slack_agencies(self) -> list[int]:
        return [a for a in range(self.agencies) if not self.on_teams(a)]

    def teams_agencies(self) -> list[int]:
        return [a for a in range(self.agencies) if self.on_teams(a)]

    def digest_channel(self, a: int) -> str:
        return f"19:ag{a:03d}@thread.tacv2" if self.on_teams(a) else f"C0AG{a:03d}"

    def rates(self) -> dict[str, float]:
        """Each place's send limit: Slack workspaces by team id, Teams tenants by tenant id."""
        rates = {self.team(w): self.rate for w in range(self.workspaces)}
        if self.slow_rate is not None:
            rates[self.team(self.workspaces - 1)] = self.slow_rate
        rates.update({self.tenant(t): self.teams_rate for t in range(self.tenants)})
        return rates

    def alliance(self, zone: str, digests_due: bool) -> dict[str, Any]:
        """The alliance file: the cohort due now; the digests due now only if asked."""
        today = dt.datetime.now(ZoneInfo(zone))
        # Until phase 3, a slot later today (the run is near 11:00 there): a day after today
        # could be next week's Monday, whose slot this week has already passed (on a Saturday).
        not_yet = {"days": [today.strftime("%a").lower()], "time": "23:00"}
        digest_slot = due_now(zone) if digests_due else not_yet
        agencies: list[dict[str, Any]] = []
        for a in range(self.agencies):
            agency: dict[str, Any] = {"id": f"agency{a:03d}", "name": f"Agency {a}"}
            if self.on_teams(a):
                agency["platform"] = "teams"
            else:
                agency["team"] = self.team(self.workspace_of_agency(a))
            agency["members"] = self.members_of(a)
            agencies.append(agency)
        digests = [
            {
                "id": f"agency{a:03d}-digest",
                "channel": self.digest_channel(a),
                "scope": f"agency:agency{a:03d}",
                "schedule": digest_slot,
            }
            for a in range(self.agencies)
        ]
        digests.append(
            {
                "id": "alliance",
                "channel": "C0STEWARDS",
                "scope": "alliance",
                "schedule": digest_slot,
            }
        )
        return {
            "alliance": {
                "name": "Weekly Cycle Alliance",
                "timezone": zone,
                "slack_team": self.team(0),
            },
            "agencies": agencies,
            "cohorts": [{"id": "weekly", "schedule": due_now(zone), "remind_after_hours": 1}],
            "digests": digests,
        }


@dataclass
class Outcome:
    """One round's figures for one worker count."""

    workers: int
    prompt_seconds: float
    prompt_ideal: float
    later_seconds: float
    later_ideal: float
    duplicates: int
    misses: int
    checkins: int
    db_ms_per_checkin: float
    statements_per_checkin: float = 0.0
    refused: int = 0  # 429s the fakes answered, both phases
    reply_ms: float = 0.0
    worker_rss_mb: list[float] = field(default_factory=list)
    web_rss_mb: float = 0.0
    killed: bool = False
    killed_worker: str = ""  # which worker the bench SIGKILLed mid-send
    sent_by: dict[str, int] = field(default_factory=dict)  # prompts sent, by worker id
    dup_by: dict[str, int] = field(default_factory=dict)  # duplicates by platform and kind
    miss_by: dict[str, int] = field(default_factory=dict)  # misses by platform and kind
    # Messages accepted in each second of phases 1 and 3 (from the first), and when (seconds
    # into phase 1) the worker was killed: where the time goes.
    prompt_timeline: list[int] = field(default_factory=list)
    later_timeline: list[int] = field(default_factory=list)
    killed_at: float | None = None

    @property
    def seconds(self) -> float:
        return self.prompt_seconds + self.later_seconds

    @property
    def ideal(self) -> float:
        return self.prompt_ideal + self.later_ideal


def fresh_database(
    url: str, shape: Shape, zone: str, service_urls: list[str], wipe: bool = True
) -> None:
    """Empty the database (if `wipe`), migrate it, and seed members as already looked up.

    Teams members and the Teams agencies' digest channels get the conversation the app's
    install would have stored, on their tenant's connector (`service_urls`, one per tenant).
    """
    engine = make_engine(url)
    if wipe and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    platform = {a: "teams" if shape.on_teams(a) else "slack" for a in range(shape.agencies)}
    with engine.begin() as conn:
        conn.execute(
            insert(AgencyRow),
            [
                {"id": f"agency{a:03d}", "name": f"Agency {a}", "platform": platform[a]}
                for a in range(shape.agencies)
            ],
        )
        rows = [
            {
                "platform": platform[a],
                "platform_user_id": user,
                "agency_id": f"agency{a:03d}",
                "timezone": zone,
                "timezone_checked_at": now,
                "active": True,
                "created_at": now,
            }
            for a in range(shape.agencies)
            for user in shape.members_of(a)
        ]
        if rows:
            conn.execute(insert(MemberRow), rows)
        ids = dict(
            conn.execute(
                select(MemberRow.platform_user_id, MemberRow.id).where(
                    MemberRow.platform == "teams"
                )
            ).all()
        )
        conversations: list[dict[str, Any]] = []
        for a in shape.teams_agencies():
            t = shape.tenant_of(a)
            place = {"service_url": service_urls[t], "tenant_id": shape.tenant(t)}
            conversations.append(
                {
                    "conversation_id": shape.digest_channel(a),
                    "kind": "channel",
                    # One executemany: every row names the same columns.
                    "aad_object_id": None,
                    "member_id": None,
                    "teams_user_id": None,
                    **place,
                }
            )
            conversations.extend(
                {
                    "conversation_id": personal_conversation(aad),
                    "kind": "personal",
                    "aad_object_id": aad,
                    "member_id": ids[aad],
                    "teams_user_id": f"29:{aad}",
                    **place,
                }
                for aad in shape.members_of(a)
            )
        if conversations:
            conn.execute(insert(TeamsConversationRow), conversations)
    engine.dispose()


def personal_conversation(aad: str) -> str:
    """The 1:1 chat's conversation id this bench gives a Teams member."""
    return f"a:personal-{aad}"


def web_app(url: str, shape: Shape, fake: MultiWorkspaceSlack, zone: str, key: str) -> LearnLoop:
    """The real app in OAuth mode, with one install per workspace."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        database_url=url,
        slack_client_id="1.2",
        slack_client_secret="bench-client-secret",
        learnloop_encryption_key=key,
        log_level="ERROR",
    )
    loop = build(settings, alliance=parse_alliance(shape.alliance(zone, digests_due=False)))
    assert loop.installs is not None
    for w in range(shape.workspaces):
        loop.installs.store.save(
            Installation(
                app_id="A0001",
                team_id=shape.team(w),
                bot_token=shape.token(w),
                bot_id="BBOT",
                bot_user_id="UBOT",
                user_id="UADMIN",
                installed_at=time.time(),
            )
        )
    return loop


def oauth_env(
    url: str, fake: MultiWorkspaceSlack, config: Path, key: str, teams: bool
) -> dict[str, str]:
    """A deployed worker's environment in OAuth mode (no single bot token), Teams if asked."""
    env = worker_env(url, fake.url, config)
    env.pop("SLACK_BOT_TOKEN", None)
    env = {k: v for k, v in env.items() if not k.startswith("TEAMS_")}
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="bench-client-secret",
        LEARNLOOP_ENCRYPTION_KEY=key,
        LOG_LEVEL="INFO",  # the worker logs say which one leads and what each sent
    )
    if teams:
        env["TEAMS_CLIENT_ID"] = TEAMS_APP_ID
    return env


def ideal_seconds(places: list[str], rates: dict[str, float]) -> float:
    """The least time the limits allow: per workspace or tenant, its messages ÷ its limit; the
    largest of those, since the places send side by side."""
    per_place = Counter(places)
    return max((n / rates[place] for place, n in per_place.items()), default=0.0)


def span(times: list[float]) -> float:
    """First accepted message to the last."""
    return max(times) - min(times) if len(times) > 1 else 0.0


def per_second(times: list[float]) -> list[int]:
    """How many messages were accepted in each second from the first."""
    if not times:
        return []
    first = min(times)
    counts = Counter(int(t - first) for t in times)
    return [counts.get(second, 0) for second in range(max(counts) + 1)]


def counted(posts: list[Post], tag: str) -> Counter[str]:
    """How often each prompt id (or digest part) was accepted."""
    return Counter(p.key for p in posts if p.tag == tag)


class TeamsWorkerProcess(WorkerProcess):
    """`learnloop worker` through bench/cycle_worker.py (a stand-in Teams sign-in)."""

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        command = ["worker", "--tick-seconds", str(self.tick_seconds)]
        if self.worker_id:
            command += ["--id", self.worker_id]
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "cycle_worker.py"), *command],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self


class Workers:
    """W worker processes sharing one environment; replaced when one is killed."""

    def __init__(
        self, folder: Path, env: dict[str, str], count: int, phase: str, teams: bool
    ) -> None:
        self.folder, self.env, self.phase = folder, env, phase
        self.kind = TeamsWorkerProcess if teams else WorkerProcess
        self.all: list[WorkerProcess] = []
        self.alive: list[WorkerProcess] = []
        for _ in range(count):
            self.add()

    def add(self) -> WorkerProcess:
        name = f"{self.phase}-{len(self.all) + 1}"
        # Its own id in the ledger's leases, so the bench can tell which one is sending.
        worker = self.kind(self.folder, self.env, name, worker_id=name).start()
        self.all.append(worker)
        self.alive.append(worker)
        return worker

    def sample(self) -> None:
        for worker in self.alive:
            worker.sample_rss()

    def kill_sender(self, engine: Engine) -> str:
        """SIGKILL a worker that is sending, and start another; returns the one killed.

        Every worker sends on PostgreSQL, so "sending" is read from the ledger: the worker
        holding the most prompt leases not yet settled. Failing that (no lease held right
        now), the leader by its log line, else the first.
        """
        with engine.connect() as conn:
            held = dict(
                conn.execute(
                    select(PromptRow.leased_by, func.count())
                    .where(PromptRow.status == "pending", PromptRow.leased_by.is_not(None))
                    .group_by(PromptRow.leased_by)
                ).all()
            )
        sending = [w for w in self.alive if held.get(w.worker_id, 0) > 0]
        if sending:
            victim = max(sending, key=lambda w: held[w.worker_id or ""])
        else:
            leading = (w for w in self.alive if "this worker is now the leader" in w.log())
            victim = next(leading, self.alive[0])
        victim.kill()
        self.alive.remove(victim)
        self.add()
        return victim.name

    def stop(self) -> None:
        for worker in self.alive:
            try:
                worker.terminate(timeout=60)
            except Exception:  # noqa: BLE001 - a worker that will not stop is killed below
                pass
        for worker in self.all:
            worker.stop_quietly()


def vm_hwm_mb() -> float:
    """This process's peak RSS."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def count_rows(loop: LearnLoop, statement: Any) -> int:
    with loop.engine.connect() as conn:
        return int(conn.execute(statement).scalar() or 0)


def post_checkins(
    loop: LearnLoop, server: LiveServer, shape: Shape, clients: int = 8
) -> tuple[set[str], float, float, float]:
    """--checkins signed DM replies from Slack members, `clients` at once.

    Returns who answered, the web app's database seconds and statements per check-in, and the
    median HTTP round trip of a reply (acknowledged after the check-in is stored).
    """
    everyone = [(a, u) for a in shape.slack_agencies() for u in shape.members_of(a)]
    chosen = everyone[:: max(1, len(everyone) // max(1, shape.checkins))][: shape.checkins]
    db_seconds = [0.0]
    statements = [0]
    lock = threading.Lock()
    starts: dict[int, float] = {}

    def before(conn: Any, cursor: Any, *_: Any) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, *_: Any) -> None:
        began = starts.pop(id(cursor), None)
        if began is not None:
            with lock:
                db_seconds[0] += time.perf_counter() - began
                statements[0] += 1

    event.listen(loop.engine, "before_cursor_execute", before)
    event.listen(loop.engine, "after_cursor_execute", after)
    stored_before = count_rows(loop, select(func.count()).select_from(CheckinRow))
    failures: list[str] = []
    latencies: list[float] = []

    def reply(item: tuple[int, str], http: httpx.Client) -> None:
        a, user = item
        request = message_im(
            "Calling ahead before a home visit helped the family feel ready",
            user_id=user,
            team_id=shape.team(shape.workspace_of_agency(a)),
            signing_secret=SECRET,
        )
        began = time.perf_counter()
        answer = http.post(
            server.url + "/slack/events", content=request.body, headers=request.headers
        )
        with lock:
            latencies.append(time.perf_counter() - began)
        if answer.status_code != 200:
            failures.append(f"{user}: HTTP {answer.status_code}")

    try:
        with httpx.Client(timeout=60) as http, ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda item: reply(item, http), chosen))
        stored = count_rows(loop, select(func.count()).select_from(CheckinRow)) - stored_before
    finally:
        event.remove(loop.engine, "before_cursor_execute", before)
        event.remove(loop.engine, "after_cursor_execute", after)
    if failures:
        raise AssertionError(f"{len(failures)} check-ins refused, e.g. {failures[:3]}")
    if stored != len(chosen):
        raise AssertionError(f"{stored} check-ins stored for {len(chosen)} replies")
    per = max(1, stored)
    latency = statistics.median(latencies) if latencies else 0.0
    return {u for _, u in chosen}, db_seconds[0] / per, statements[0] / per, latency


class Teams:
    """One rate-limited fake Bot Connector per tenant."""

    def __init__(self, shape: Shape) -> None:
        self.connectors = [
            RateLimitedConnector(shape.tenant(t), shape.teams_per_conversation, shape.teams_rate)
            for t in range(shape.tenants)
        ]

    def __enter__(self) -> Teams:
        for connector in self.connectors:
            connector.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        for connector in self.connectors:
            connector.stop()

    def sent(self) -> list[Sent]:
        return [s for c in self.connectors for s in c.sent()]

    def personal(self) -> Counter[str]:
        """Prompts or reminders per 1:1 chat (the alliance note, also sent there, is not one)."""
        return Counter(
            s.conversation_id
            for s in self.sent()
            if s.conversation_id.startswith("a:") and s.checkin
        )

    def refused(self) -> int:
        return sum(c.refused for c in self.connectors)

    def forget(self) -> None:
        for connector in self.connectors:
            connector.forget_sent()


def one_round(
    shape: Shape,
    workers: int,
    database: str | None,
    folder: Path,
    kill: bool = True,
    wipe: bool = True,
    clients: int = 8,
) -> Outcome:
    """One weekly cycle with `workers` worker processes (`wipe`: drop PostgreSQL's schema)."""
    zone = working_zone()
    url = database or f"sqlite:///{folder / 'cycle.db'}"
    key = Fernet.generate_key().decode()
    tokens = {shape.token(w): shape.team(w) for w in range(shape.workspaces)}
    rates = shape.rates()
    slack_people = {u for a in shape.slack_agencies() for u in shape.members_of(a)}
    teams_people = {u for a in shape.teams_agencies() for u in shape.members_of(a)}
    everyone = len(slack_people) + len(teams_people)
    timeout = shape.practitioners / min(rates.values()) * 3 + 180
    on_teams = shape.tenants > 0
    with MultiWorkspaceSlack(tokens, rates) as fake, Teams(shape) as teams:
        fresh_database(url, shape, zone, [c.url for c in teams.connectors], wipe)
        loop = web_app(url, shape, fake, zone, key)
        server = LiveServer(create_web_app(loop)).start()
        try:
            # 1. prompts
            config = write_config(folder, shape.alliance(zone, digests_due=False))
            env = oauth_env(url, fake, config, key, on_teams)
            crew = Workers(folder, env, workers, "prompts", on_teams)
            killed_worker = ""
            killed_clock: float | None = None
            try:

                def prompted() -> int:
                    crew.sample()
                    return len(counted(fake.posts(), PROMPT)) + len(teams.personal())

                if kill:
                    wait_for(lambda: prompted() >= everyone // 2, timeout, "half prompted", 0.2)
                    killed_worker = crew.kill_sender(loop.engine)
                    killed_clock = time.time()
                wait_for(lambda: prompted() >= everyone, timeout, "everyone prompted", 0.5)
                time.sleep(1.0)  # a send still in flight would show up as a duplicate
            finally:
                crew.stop()
            prompt_posts = [p for p in fake.posts() if p.tag == PROMPT]
            with loop.engine.connect() as conn:
                sent_by = {
                    str(who): n
                    for who, n in conn.execute(
                        select(PromptRow.leased_by, func.count())
                        .where(PromptRow.status == "sent")
                        .group_by(PromptRow.leased_by)
                        .order_by(PromptRow.leased_by)
                    ).all()
                }
            prompts = counted(prompt_posts, PROMPT)
            refused = sum(fake.refused().values()) + teams.refused()
            teams_prompts = teams.personal()
            teams_prompt_sends = teams.sent()

            # 2. check-ins through the real HTTP endpoint
            answered, db_per_checkin, statements, latency = post_checkins(
                loop, server, shape, clients
            )

            # 3. reminders and digests
            with loop.engine.begin() as conn:
                conn.execute(
                    update(PromptRow)
                    .where(PromptRow.sent_at.is_not(None))
                    .values(sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
                )
            fake.forget_posts()
            teams.forget()
            config = write_config(folder, shape.alliance(zone, digests_due=True))
            env = oauth_env(url, fake, config, key, on_teams)
            crew2 = Workers(folder, env, workers, "later", on_teams)
            expected_reminders = len(slack_people - answered) + len(teams_people)
            destinations = shape.agencies + 1

            def later_done() -> bool:
                crew2.sample()
                reminded = len(counted(fake.posts(), REMINDER)) + len(teams.personal())
                posted = count_rows(
                    loop,
                    select(func.count())
                    .select_from(DigestRow)
                    .where(DigestRow.status.in_(("posted", "failed"))),
                )
                return reminded >= expected_reminders and posted >= destinations

            try:
                wait_for(later_done, timeout, "reminders and digests", 0.5)
                time.sleep(1.0)
            finally:
                crew2.stop()
            later_posts = [p for p in fake.posts() if p.tag in (REMINDER, DIGEST)]
            # The weekly alliance note also goes to each 1:1 chat once the alliance digest is
            # out; it is not measured here (nor on Slack, where it carries no tag we count).
            later_sends = [
                s for s in teams.sent() if s.checkin or not s.conversation_id.startswith("a:")
            ]
            refused += sum(fake.refused().values()) + teams.refused()
            with loop.engine.connect() as conn:
                digest_rows = {
                    row.destination_id: len(row.parts or []) + (row.charts_posted or 0)
                    for row in conn.execute(select(DigestRow)).all()
                }
        finally:
            server.stop()
            loop.engine.dispose()
        reminders = counted(later_posts, REMINDER)
        digest_parts = counted(later_posts, DIGEST)
        digest_channels = {p.channel for p in later_posts if p.tag == DIGEST}
        teams_reminders = Counter(
            s.conversation_id
            for s in later_sends
            if s.conversation_id.startswith("a:") and s.checkin
        )
        teams_digest_sends = Counter(
            s.conversation_id for s in later_sends if not s.conversation_id.startswith("a:")
        )
        # A bot cannot read back Teams messages, so a digest's cards and charts are counted
        # against the parts and charts its row records as accepted.
        teams_digest_extra = sum(
            max(
                0,
                teams_digest_sends[shape.digest_channel(a)]
                - digest_rows.get(f"agency{a:03d}-digest", 0),
            )
            for a in shape.teams_agencies()
        )
        dup_by = {
            "slack prompts": sum(n - 1 for n in prompts.values()),
            "slack reminders": sum(n - 1 for n in reminders.values()),
            "slack digests": sum(n - 1 for n in digest_parts.values()),
            "teams prompts": sum(n - 1 for n in teams_prompts.values()),
            "teams reminders": sum(n - 1 for n in teams_reminders.values()),
            "teams digests": teams_digest_extra,
        }
        duplicates = sum(dup_by.values())
        miss_by = {
            "slack prompts": len(slack_people) - len(prompts),
            "teams prompts": len(teams_people) - len(teams_prompts),
            "reminders": max(0, expected_reminders - len(reminders) - len(teams_reminders)),
            "digests": destinations - len(digest_channels) - len(teams_digest_sends),
        }
        misses = sum(miss_by.values())
        assert fake.unknown_tokens == 0, "a call carried no workspace's token"
        first_places = [p.team for p in prompt_posts] + [s.tenant for s in teams_prompt_sends]
        later_places = [p.team for p in later_posts] + [s.tenant for s in later_sends]
        first_times = [p.at for p in prompt_posts] + [s.at for s in teams_prompt_sends]
        later_times = [p.at for p in later_posts] + [s.at for s in later_sends]
        return Outcome(
            workers=workers,
            prompt_seconds=span(first_times),
            prompt_ideal=ideal_seconds(first_places, rates),
            later_seconds=span(later_times),
            later_ideal=ideal_seconds(later_places, rates),
            duplicates=duplicates,
            misses=misses,
            checkins=len(answered),
            db_ms_per_checkin=db_per_checkin * 1000,
            statements_per_checkin=statements,
            reply_ms=latency * 1000,
            refused=refused,
            worker_rss_mb=[w.peak_rss_kb / 1024 for w in crew.all + crew2.all],
            web_rss_mb=vm_hwm_mb(),
            killed=kill,
            killed_worker=killed_worker,
            sent_by=sent_by,
            dup_by={k: n for k, n in dup_by.items() if n},
            miss_by={k: n for k, n in miss_by.items() if n},
            prompt_timeline=per_second(first_times),
            later_timeline=per_second(later_times),
            killed_at=killed_clock - min(first_times) if killed_clock and first_times else None,
        )


def main() -> None:
    """Run the rounds and print medians per worker count side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practitioners", type=int, default=10_000)
    parser.add_argument("--agencies", type=int, default=70)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--checkins", type=int, default=None, help="default: half of them")
    parser.add_argument("--rate", type=float, default=20.0, help="chat.postMessage/s per workspace")
    parser.add_argument("--slow-rate", type=float, default=None, help="the last workspace's limit")
    parser.add_argument("--tenants", type=int, default=2, help="Teams tenants (0: Slack only)")
    parser.add_argument(
        "--teams-rate", type=float, default=50.0, help="Teams sends/s per tenant (the bot)"
    )
    parser.add_argument(
        "--teams-per-conversation", type=float, default=7.0, help="Teams sends/s per conversation"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true", help="no worker SIGKILLed mid-send")
    parser.add_argument("--clients", type=int, default=8, help="check-ins posted at once")
    parser.add_argument("--logs", type=Path, default=None, help="keep each round's logs here")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres", help="PostgreSQL URL (its public schema is wiped)")
    where.add_argument("--sqlite", action="store_true", help="a SQLite file (one worker only)")
    args = parser.parse_args()
    if args.sqlite and args.workers != [1]:
        parser.error("SQLite runs one worker: pass --workers 1")
    shape = Shape(
        practitioners=args.practitioners,
        agencies=args.agencies,
        workspaces=args.workspaces,
        checkins=args.checkins if args.checkins is not None else args.practitioners // 2,
        rate=args.rate,
        slow_rate=args.slow_rate,
        tenants=args.tenants,
        teams_rate=args.teams_rate,
        teams_per_conversation=args.teams_per_conversation,
    )
    results: dict[int, list[Outcome]] = {w: [] for w in args.workers}
    for run in range(args.rounds):
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                if args.logs is not None:
                    folder = args.logs / f"round{run + 1}-w{workers}"
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "cycle.db").unlink(missing_ok=True)
                o = one_round(
                    shape, workers, args.postgres, folder, not args.no_kill, clients=args.clients
                )
            results[workers].append(o)
            print(
                f"round {run + 1} W={workers}: {o.seconds:.1f} s (ideal {o.ideal:.1f} s, "
                f"prompts {o.prompt_seconds:.1f}/{o.prompt_ideal:.1f}, reminders+digests "
                f"{o.later_seconds:.1f}/{o.later_ideal:.1f})  429s {o.refused}  "
                f"dup {o.duplicates} {o.dup_by or ''}  "
                f"miss {o.misses} {o.miss_by or ''}  worker RSS max {max(o.worker_rss_mb):.0f} MB  "
                f"web {o.web_rss_mb:.0f} MB  DB {o.db_ms_per_checkin:.2f} ms/check-in "
                f"({o.statements_per_checkin:.1f} statements, reply {o.reply_ms:.0f} ms)  "
                f"killed {o.killed_worker or '-'}, prompts sent by {o.sent_by}",
                flush=True,
            )
            killed = f", killed at {o.killed_at:.1f} s" if o.killed_at is not None else ""
            print(f"  prompts accepted per second{killed}: {o.prompt_timeline}")
            print(f"  reminders+digests accepted per second: {o.later_timeline}", flush=True)
    limits = f"{args.rate:g}/s per workspace" + (
        f", last one {args.slow_rate:g}/s" if args.slow_rate is not None else ""
    )
    print(
        f"\n{shape.practitioners} practitioners, {shape.agencies} agencies, "
        f"{shape.workspaces} workspaces ({limits}), {shape.tenants} Teams tenants "
        f"({shape.teams_rate:g}/s per tenant, {shape.teams_per_conversation:g}/s per "
        f"conversation), {shape.checkins} check-ins, "
        f"{'a worker SIGKILLed mid-send, ' if not args.no_kill else ''}"
        f"{'PostgreSQL' if args.postgres else 'SQLite'}, median of {args.rounds} round(s)"
    )
    print(
        f"{'workers':>7}{'wall':>9}{'ideal':>8}{'ratio':>7}{'prompts':>9}{'ideal':>7}"
        f"{'rem+dig':>9}{'ideal':>7}{'dup':>5}{'miss':>6}{'worker RSS':>12}{'web RSS':>9}"
        f"{'DB/check-in':>13}{'stmts':>7}{'reply':>8}{'429s':>7}"
    )
    for workers, outcomes in results.items():
        med = statistics.median
        print(
            f"{workers:>7}"
            f"{med(o.seconds for o in outcomes):>8.1f}s"
            f"{med(o.ideal for o in outcomes):>7.1f}s"
            f"{med(o.seconds / o.ideal for o in outcomes if o.ideal):>7.2f}"
            f"{med(o.prompt_seconds for o in outcomes):>8.1f}s"
            f"{med(o.prompt_ideal for o in outcomes):>6.1f}s"
            f"{med(o.later_seconds for o in outcomes):>8.1f}s"
            f"{med(o.later_ideal for o in outcomes):>6.1f}s"
            f"{max(o.duplicates for o in outcomes):>5}"
            f"{max(o.misses for o in outcomes):>6}"
            f"{max(max(o.worker_rss_mb) for o in outcomes):>9.0f} MB"
            f"{med(o.web_rss_mb for o in outcomes):>6.0f} MB"
            f"{med(o.db_ms_per_checkin for o in outcomes):>10.2f} ms"
            f"{med(o.statements_per_checkin for o in outcomes):>7.1f}"
            f"{med(o.reply_ms for o in outcomes):>5.0f} ms"
            f"{med(o.refused for o in outcomes):>7.0f}"
        )
    print(
        "(wall: first accepted post to last, prompts + reminders/digests; ideal: per workspace "
        "accepted posts ÷ its limit, max over workspaces; dup/miss: worst round; worker RSS: "
        "the largest worker's VmHWM; web RSS: this process, web app + fakes; DB/check-in: "
        "the web app's cursor time per stored check-in, stmts: its statements, reply: median "
        "round trip of a signed DM reply, --clients at once; 429s: answered by the fakes; "
        "goal: ratio <= 1.1 with 2 workers, RSS < 250 MB)"
    )


if __name__ == "__main__":
    main()
