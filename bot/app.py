"""The composition root: the one place that knows every part and wires them together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

import handlers.slack as slack_handlers
from bot.alliance import AllianceConfig, load_alliance
from bot.logs import install_log_scrubbing, secrets_of
from bot.mail.signin import SignInSender
from bot.mail.smtp import SmtpMailer
from bot.metrics import Metrics
from bot.ports import Clock, Messenger, SignInMailer, system_clock
from bot.readiness import SlackReadiness, auth_test_call
from bot.services import Services, adopt, build_services
from bot.services.members import MemberService
from bot.services.teams import TeamsConversationService
from bot.services.workspaces import WorkspaceService
from bot.settings import ConfigError, Settings
from bot.shared_holds import SharedHolds
from bot.slack.app import PACED_METHODS, build_bolt_app, build_web_client
from bot.slack.messenger import SlackMessenger
from bot.slack.oauth import SlackInstalls, build_installs
from bot.slack.own_workspace import OwnWorkspace
from bot.slack.pacing import WorkspacePacers
from bot.slack.workspaces import WorkspaceDirectory, WorkspaceRouter
from storage.backoff import BackoffStore
from storage.db import (
    SchemaState,
    code_head,
    known_revisions,
    make_engine,
    migrate,
    schema_state,
)
from storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:  # The Teams SDK is imported only when Teams is configured
    from bot.teams.app import TeamsBot, TokenSource
    from bot.teams.messenger import TeamsMessenger

log = logging.getLogger("learnloop")


@dataclass
class LearnLoop:
    """Everything a running LearnLoop process holds."""

    settings: Settings
    alliance: AllianceConfig
    engine: Engine
    services: Services
    metrics: Metrics
    client: WebClient | None = None
    bolt: App | None = None
    teams: TeamsBot | None = None
    installs: SlackInstalls | None = None  # Multi-workspace (OAuth) mode
    # Single-workspace mode: requests naming another workspace or app are refused.
    own_workspace: OwnWorkspace | None = None
    # What /readyz compares the database's schema with: this code's head and known revisions.
    schema_head: str = ""
    schema_known: frozenset[str] = field(default_factory=frozenset)
    # Slack's answer for /readyz (single-workspace mode only), cached and bounded in time.
    slack_readiness: SlackReadiness | None = None
    # Sends Learning Board sign-in links by e-mail; None: links are only printed by
    # `learnloop board-link` for an admin to hand over.
    signin_mailer: SignInMailer | None = None
    # What a reload of the alliance file rebuilds the services around (bot.app.reload_alliance).
    messenger: Messenger | None = None
    clock: Clock = system_clock
    conversations: TeamsConversationService | None = None
    workspace_router: WorkspaceRouter | None = None
    # Run after each successful reload (the worker points its jobs at the new services).
    on_reload: list[Callable[[], None]] = field(default_factory=list)

    def schema(self) -> SchemaState:
        """Where the database's schema stands against this code's migrations (one query)."""
        return schema_state(self.engine, self.schema_head, self.schema_known)


def open_database(database_url: str, *, upgrade: bool = False) -> Engine:
    """The one way LearnLoop opens its database (the CLI's demo and `workspaces` too).

    `upgrade` creates or upgrades the schema first, for a command whose job that is.
    """
    engine = make_engine(database_url)
    if upgrade:
        migrate(engine)
    return engine


def prepare_database(engine: Engine, migrations: Path | None = None) -> SchemaState:
    """Create or upgrade an embedded SQLite schema; refuse a PostgreSQL one that is behind.

    A schema newer than this code (a release rolled back without a downgrade) is served, with
    a warning: migrations only add, so an older release keeps working on it.
    """
    head, known = code_head(migrations), known_revisions(migrations)
    state = schema_state(engine, head, known)
    if engine.dialect.name == "sqlite" and state.state in ("empty", "behind"):
        migrate(engine, migrations=migrations)
        return schema_state(engine, head, known)
    if not state.usable:
        raise ConfigError([f"DATABASE_URL: {state.problem()}"])
    if state.state == "newer":
        log.warning("%s; serving it anyway", state.problem())
    return state


def _workspace_of(router: WorkspaceRouter | None) -> Callable[[str], str | None] | None:
    """Which workspace a send to an address is made in (OAuth mode); None: the one there is."""
    if router is None:
        return None
    return lambda to: router.workspace_for({"channel": to})


def build(
    settings: Settings,
    alliance: AllianceConfig | None = None,
    clock: Clock = system_clock,
    messenger: Messenger | None = None,
    with_slack: bool = True,
    teams_token: TokenSource | None = None,
    set_up: bool = True,
    migrations: Path | None = None,
) -> LearnLoop:
    """Build a LearnLoop from settings; Slack parts only when `with_slack`.

    Teams parts are built when TEAMS_CLIENT_ID is set; `teams_token` replaces the secret or
    managed identity for outbound Teams calls (tests). `set_up=False` skips preparing the
    database and storing the alliance file (a web worker whose parent `serve` did both).
    `migrations` replaces the migrations this code ships (tests of a release that is ahead
    of its database).
    """
    # Before anything can log, so no token, payload or identifier reaches a log.
    install_log_scrubbing(secrets_of(settings))
    alliance = alliance or load_alliance(settings.learnloop_config)
    require_board_key(settings, alliance)
    engine = open_database(settings.database_url)
    if set_up:
        prepare_database(engine, migrations)
    uow = UnitOfWorkFactory(engine)
    metrics = Metrics()
    metrics.watch_database(engine, alliance.alliance.suppress_below)
    # One pacer per Slack workspace (made when it first sends) keeps fan-out DMs just under
    # that workspace's rate limit; a 429 in one workspace never slows another.
    pacers = WorkspacePacers()
    # A 429 any worker is told holds every worker back in that workspace or tenant.
    holds = SharedHolds(BackoffStore(engine))
    # In OAuth mode tokens come from each workspace's install (a missing key refuses).
    installs = (
        build_installs(settings, engine, WorkspaceService(uow))
        if with_slack and settings.slack_oauth_enabled
        else None
    )
    if installs is not None:
        installs.on_refused = lambda workspace: _count_uninstalled(metrics, workspace)
    router = (
        WorkspaceRouter(WorkspaceDirectory(alliance, uow), installs.tokens) if installs else None
    )
    client = (
        build_web_client(settings, metrics, paced_methods=PACED_METHODS, router=router)
        if with_slack
        else None
    )
    # One store of Teams conversations, shared by the messenger and the services.
    conversations = TeamsConversationService(uow, clock)
    teams = (
        _build_teams(settings, conversations, teams_token, holds)
        if settings.teams_enabled
        else None
    )
    if messenger is None:
        slack_messenger = (
            SlackMessenger(
                client,
                metrics,
                pacers=pacers,
                workspace_of=_workspace_of(router),
                holds=holds,
                digest_retry_budget=settings.learnloop_digest_retry_seconds,
            )
            if client is not None
            else None
        )
        if teams is not None:
            # One alliance on both platforms; each call goes where its address lives.
            from bot.messenger_router import MessengerRouter

            messenger = MessengerRouter(slack=slack_messenger, teams=teams[1])
        elif slack_messenger is None:
            raise ValueError("a messenger is needed when Slack is not configured")
        else:
            messenger = slack_messenger
    mailer = build_mailer(settings, metrics)
    if mailer is None and any(d.email for d in alliance.digests):
        log.warning("the alliance file has e-mail digests but SMTP_URL is not set: none is sent")
    services = build_services(
        uow,
        alliance,
        messenger,
        clock,
        teams=conversations,
        mailer=mailer,
        board_secret=(
            settings.board_secret_key.get_secret_value() if settings.board_secret_key else None
        ),
        board_url=settings.board_url,
    )
    if teams is not None:
        # The Teams SDK is imported only when Teams is configured.
        import handlers.teams as teams_handlers

        teams_handlers.register(teams[0].app, services, teams[1])
    if set_up:
        services.members.sync_config()
    bolt = build_bolt_app(settings, services, client, installs) if client is not None else None
    if bolt is not None:
        slack_handlers.register(bolt)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    readiness = (
        SlackReadiness(auth_test_call(token, settings.slack_api_url))
        if client is not None and installs is None and token
        else None
    )
    return LearnLoop(
        settings=settings,
        alliance=alliance,
        engine=engine,
        # The board's sign-in e-mails go through the same SMTP mailer as the digests.
        signin_mailer=SignInSender(mailer, alliance.alliance.name) if mailer else None,
        services=services,
        metrics=metrics,
        client=client,
        bolt=bolt,
        teams=teams[0] if teams is not None else None,
        installs=installs,
        own_workspace=OwnWorkspace(client) if client is not None and installs is None else None,
        schema_head=code_head(migrations),
        schema_known=known_revisions(migrations),
        slack_readiness=readiness,
        messenger=messenger,
        clock=clock,
        conversations=conversations,
        workspace_router=router,
    )


def build_mailer(settings: Settings, metrics: Metrics | None = None) -> SmtpMailer | None:
    """The SMTP mailer when SMTP_URL is set (e-mail digests, notices, sign-in links)."""
    if settings.smtp_url is None:
        return None
    on_result = (lambda result: metrics.emails.labels(result=result).inc()) if metrics else None
    return SmtpMailer(
        settings.smtp_url.get_secret_value(),
        settings.mail_sender,
        on_result=on_result,
        ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
    )


def require_board_key(settings: Settings, alliance: AllianceConfig) -> None:
    """Fail at start-up when people or contributors are listed but nothing can sign links."""
    key = settings.board_secret_key.get_secret_value() if settings.board_secret_key else ""
    if (alliance.people or alliance.contributors) and len(key) < 16:
        raise ConfigError(
            [
                "BOARD_SECRET_KEY is not set (or shorter than 16 characters): the alliance "
                "file lists people or contributors, whose links and board sessions it signs"
            ]
        )


def reload_alliance(loop: LearnLoop, alliance: AllianceConfig | None = None) -> bool:
    """Read the alliance file again and serve it; on any problem keep the old one.

    Validated first, in full: a file with problems changes nothing and is named in ONE log
    line with every problem. A valid file replaces the services (whose caches are keyed by
    the file's version), the workspace directory, and its agencies,
    cohorts, themes and listed members are stored. True if the new file is now served.
    """
    path = loop.settings.learnloop_config
    if alliance is None:
        try:
            alliance = load_alliance(path)
        except ConfigError as exc:
            log.error(
                "alliance file %s not reloaded, still serving version %s: %d problem%s: %s",
                path,
                loop.alliance.version,
                len(exc.problems),
                "" if len(exc.problems) == 1 else "s",
                "; ".join(exc.problems),
            )
            return False
    if alliance.version == loop.alliance.version:
        log.info("alliance file %s unchanged (version %s)", path, alliance.version)
        return False
    assert loop.messenger is not None, "built by bot.app.build"
    uow = loop.services.uow
    fresh = build_services(
        uow,
        alliance,
        loop.messenger,
        loop.clock,
        teams=loop.conversations,
        # The same mailer and board settings as at start-up (they come from the environment).
        mailer=loop.services.digests.mailer,
        board_secret=(
            loop.settings.board_secret_key.get_secret_value()
            if loop.settings.board_secret_key
            else None
        ),
        board_url=loop.settings.board_url,
    )
    try:
        fresh.members.sync_config()
    except IntegrityError:
        # Another process stored the same new agency or member a moment before: it is there.
        log.info("the alliance file's agencies were stored by another process")
    adopt(loop.services, fresh)
    old_version, loop.alliance = loop.alliance.version, alliance
    if loop.workspace_router is not None:
        loop.workspace_router.directory = WorkspaceDirectory(alliance, uow)
    for callback in loop.on_reload:
        callback()
    log.info(
        "alliance file %s reloaded: version %s replaces %s (%d agencies)",
        path,
        alliance.version,
        old_version,
        len(alliance.agencies),
    )
    return True


def _count_uninstalled(metrics: Metrics, workspace: str | None) -> None:
    """OAuth mode: a signed request from a workspace with no installation was refused."""
    metrics.slack_refused.labels(reason="not_installed", kind="any").inc()
    log.warning("refused a Slack request from a workspace with no installation (%s)", workspace)


def _build_teams(
    settings: Settings,
    conversations: TeamsConversationService,
    token: TokenSource | None,
    holds: SharedHolds | None = None,
) -> tuple[TeamsBot, TeamsMessenger]:
    """The Teams App (initialized for proactive sends) and its messenger."""
    from bot.teams.app import build_teams_bot
    from bot.teams.messenger import TeamsMessenger

    bot = build_teams_bot(settings, token)
    return bot, TeamsMessenger(bot, conversations, graph_url=settings.teams_graph_url, holds=holds)


def set_up(settings: Settings) -> AllianceConfig:
    """Once before several web workers start: validate, prepare the database, store the file.

    Done by `serve`'s parent so that its workers don't migrate or write the same rows at once.
    """
    install_log_scrubbing(secrets_of(settings))
    alliance = load_alliance(settings.learnloop_config)
    require_board_key(settings, alliance)
    engine = open_database(settings.database_url)
    try:
        prepare_database(engine)
        MemberService(UnitOfWorkFactory(engine), alliance, system_clock).sync_config()
    finally:
        engine.dispose()
    return alliance


def share_teams_limits(loop: LearnLoop, workers: Callable[[], int]) -> None:
    """Each worker keeps to its share of a Teams tenant's published limit (the rate ÷ `workers`
    running); Slack's limits are learnt by each worker from what Slack takes of its own sends."""
    if loop.teams is None:
        return
    from bot.messenger_router import MessengerRouter
    from bot.teams.messenger import TeamsMessenger

    router = loop.messenger
    teams = router.messengers.get("teams") if isinstance(router, MessengerRouter) else router
    if isinstance(teams, TeamsMessenger):
        teams.pacer.workers = workers
