"""The `l2c` command: dev (everything, embedded), api, worker, migrate, users."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from pathlib import Path

from config import Settings, get_settings
from domain.users import Role


class CliError(Exception):
    """A refusal the user can act on: one line on stderr and an exit status, no traceback."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def need_database(settings: Settings) -> str:
    if settings.database_url is None:
        raise CliError("DATABASE_URL is not set (run `l2c dev` in this folder, or set it)")
    return settings.database_url


def dev(settings: Settings) -> int:
    try:
        from stack import run_dev
    except FileNotFoundError as err:  # installed without the dev extra (as in the image)
        raise CliError(str(err)) from None
    return run_dev(settings)


def need_secret(settings: Settings) -> None:
    try:
        settings.check_secret()
    except ValueError as err:
        raise CliError(str(err)) from None


def api(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    need_secret(settings)
    need_database(settings)
    # JSON logs: uvicorn's loggers (the access log) go to the root's handler, not to its own.
    log_config = None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=log_config,
    )
    return 0


def worker(settings: Settings) -> int:
    from worker import run_worker

    need_secret(settings)
    need_database(settings)
    asyncio.run(run_worker(settings))  # stops on SIGINT or SIGTERM, gracefully
    return 0


def migrate(settings: Settings) -> int:
    from adapters.storage.db import migrate as apply

    database_url = need_database(settings)
    unsigned = apply(database_url, settings.audit_secret)
    for deal_id in unsigned:
        print(f"deal {deal_id}: its audit chain was already broken; head left unsigned")
    return 0


def manage_users(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.storage.db import make_engine
    from adapters.storage.users import UserDirectory

    if args.users_command == "add":
        return add_user(settings, args)
    database_url = need_database(settings)
    engine = make_engine(database_url, pool_size=1, audit_key=settings.audit_secret)
    directory = UserDirectory(engine)
    if args.users_command == "disable":
        done = directory.set_active(args.username, False, by="cli")
    elif args.users_command == "set-team":
        done = directory.set_team(args.username, args.team or None, by="cli")
    else:
        done = directory.set_role(args.username, Role(args.role), by="cli")
    engine.dispose()
    print(f"user {args.username} {'updated' if done else 'not found'}")
    return 0 if done else 1


def add_user(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.storage.db import make_engine
    from adapters.storage.users import UserDirectory

    database_url = need_database(settings)
    password = args.password or os.environ.get("L2C_NEW_USER_PASSWORD")
    if not password:
        raise CliError("give --password or L2C_NEW_USER_PASSWORD")
    engine = make_engine(database_url, pool_size=1, audit_key=settings.audit_secret)
    directory = UserDirectory(engine)
    directory.add(args.username, Role(args.role), args.email, password, replace=True, by="cli")
    engine.dispose()
    print(f"user {args.username} ({args.role}) saved")
    return 0


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check the hash chain of every deal (or one); name each first broken link."""
    from adapters.storage.db import make_engine
    from adapters.storage.views.deals import DealViews
    from domain.audit import check_chain

    database_url = need_database(settings)
    engine = make_engine(database_url, pool_size=1)
    deals = DealViews(engine)
    deal_ids = [args.deal] if args.deal else deals.ids()
    broken = 0
    for deal_id in deal_ids:
        verdict = check_chain(*deals.chain(deal_id), settings.audit_secret)
        if verdict.first_broken_seq is not None:
            broken += 1
            print(f"BROKEN deal {deal_id}: event {verdict.first_broken_seq}: {verdict.reason}")
    engine.dispose()
    print(f"{len(deal_ids)} deal(s) checked, {broken} broken")
    return 1 if broken else 0


def ledger_export(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.finance.beancount import export_beancount
    from adapters.storage.db import make_engine

    database_url = need_database(settings)
    engine = make_engine(database_url, pool_size=1)
    with open(args.beancount, "w", encoding="utf-8") as out:
        for line in export_beancount(engine):
            out.write(line + "\n")
    engine.dispose()
    print(f"ledger written to {args.beancount}")
    return 0


def show_kpis(settings: Settings, args: argparse.Namespace) -> int:
    """The KPIs of a period as a table in the terminal."""
    from adapters.storage.db import make_engine
    from adapters.storage.kpis import kpis
    from api.commands.reports import period

    database_url = need_database(settings)
    start, end = period(_date("--from", args.start), _date("--to", args.end))
    engine = make_engine(database_url, pool_size=1)
    report = kpis(engine, start, end)
    engine.dispose()
    rows: list[tuple[str, str]] = [
        ("period", f"{start} .. {end}"),
        ("leads created", str(report.leads_created)),
        ("lead conversion rate", _pct(report.lead_conversion_rate)),
        ("win rate", _pct(report.win_rate)),
        (
            "sales cycle, mean / median (days)",
            f"{report.avg_sales_cycle_days} / {report.median_sales_cycle_days}",
        ),
        ("on-time delivery rate", _pct(report.on_time_delivery_rate)),
        ("approval turnaround (hours)", str(report.approval_turnaround_hours)),
    ]
    rows += [
        (f"customer lifetime value ({c})", str(v))
        for c, v in report.customer_lifetime_value.items()
    ]
    rows += [(f"DSO ({c}, days)", str(v)) for c, v in report.dso_days.items()]
    for currency, buckets in report.ar_aging.items():
        rows.append((f"AR aging ({currency})", "  ".join(f"{b}: {v}" for b, v in buckets.items())))
    for stage, load in report.pipeline_by_stage.items():
        amounts = ", ".join(f"{v} {c}" for c, v in load.amount.items())
        rows.append((f"pipeline {stage}", f"{load.count} deals  {amounts}"))
    rows += [(f"weighted pipeline ({c})", str(v)) for c, v in report.weighted_pipeline.items()]
    rows += [
        (f"funnel {s.stage}", f"{s.reached}  ({_pct(s.conversion_from_previous)})")
        for s in report.funnel
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _pct(value: object) -> str:
    return "-" if value is None else f"{float(str(value)) * 100:.1f} %"


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Play a few months of business against a running l2c (e.g. `l2c dev`)."""
    from demo import run_demo

    url = args.url or settings.base_url
    print(f"l2c demo against {url}, a policy day lasting {args.day_seconds}s ...", flush=True)
    mail = settings.maildir or Path(settings.data_dir) / "mail"  # the customers' inbox
    run_demo(url, settings.dev_password, args.day_seconds, mail)
    print("done: see /ui, GET /kpis, and the Temporal UI", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="l2c", description="Lead-to-Cash on Temporal")
    root.add_argument("--version", action="version", version=f"l2c {version('l2c')}")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "dev",
        help="run everything here: Postgres, Temporal, SMTP sink, "
        "worker, API (each replaced by a configured server)",
    )
    commands.add_parser("api", help="run the HTTP API against configured servers")
    commands.add_parser("worker", help="run a Temporal worker against configured servers")
    commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="create or replace a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--email", required=True)
    add.add_argument("--password", help="or set L2C_NEW_USER_PASSWORD")
    disable = users.add_parser("disable", help="stop a user (their tokens stop working)")
    disable.add_argument("username")
    set_role = users.add_parser("set-role", help="give a user another role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=[r.value for r in Role])
    set_team = users.add_parser("set-team", help="put a user in a sales team (forecast)")
    set_team.add_argument("username")
    set_team.add_argument("team", help='the team; "" takes the user out of their team')
    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser("verify", help="check every deal's hash chain (exit 1 if broken)")
    verify.add_argument("--deal", help="only this deal id")
    ledger = commands.add_parser("ledger", help="the general ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    play = commands.add_parser("demo", help="create a few months of business via the API")
    play.add_argument("--url", help="the API (default: this machine's l2c dev)")
    play.add_argument(
        "--day-seconds",
        type=float,
        default=1.0,
        help="how long a policy day lasts for the demo deals",
    )
    kpi = commands.add_parser("kpis", help="print the KPIs of a period (default: 30 days)")
    kpi.add_argument("--from", dest="start", metavar="YYYY-MM-DD")
    kpi.add_argument("--to", dest="end", metavar="YYYY-MM-DD")
    export = ledger.add_parser("export", help="write the ledger as a Beancount file")
    export.add_argument("--beancount", required=True, metavar="FILE")
    return root


# Commands that use a running l2c: they find the `l2c dev` of this folder by themselves.
CLIENTS = {"demo", "kpis", "users", "audit", "ledger", "migrate"}


def with_running_dev(settings: Settings) -> Settings:
    """Fill in what is not configured from the `l2c dev` running in this folder."""
    from adapters.embedded.running import RunningDev

    running = RunningDev.read(Path(settings.data_dir).resolve())
    if running is None:
        return settings
    update: dict[str, object] = {}
    if settings.database_url is None:
        update["database_url"] = running.database_url
    if not settings.public_url:
        update["public_url"] = running.api_url
    if "dev_password" not in settings.model_fields_set:
        update["dev_password"] = running.dev_password
    return settings.model_copy(update=update)


def explain(error: Exception) -> str:
    """One line for what went wrong, and what to do, where we know."""
    import httpx
    from sqlalchemy.exc import OperationalError

    if isinstance(error, httpx.TransportError):
        return f"cannot reach {error.request.url} ({error}); is `l2c dev` running?"
    if isinstance(error, httpx.HTTPStatusError):
        return f"{error.request.method} {error.request.url} answered {error.response.status_code}"
    if isinstance(error, OperationalError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot reach the database (DATABASE_URL): {reason}"
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    if isinstance(error, ValueError):
        return first
    return f"{first} ({type(error).__name__}; L2C_DEBUG=1 shows the traceback)"


def main(argv: list[str] | None = None) -> None:
    from adapters.observability.logs import configure_logging

    args = parser().parse_args(argv)
    configure_logging()
    try:
        settings = get_settings()
        configure_logging(settings.log_format)
        if args.command in CLIENTS:
            settings = with_running_dev(settings)
        code = run(args, settings)
    except CliError as err:
        print(f"l2c {args.command}: {err}", file=sys.stderr)
        code = err.code
    except KeyboardInterrupt:
        code = 130
    except Exception as err:  # the last line of defence: one line, not a traceback
        if os.environ.get("L2C_DEBUG") == "1":
            traceback.print_exc()
        print(f"l2c {args.command}: {explain(err)}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio/sdk-python#300: leave before interpreter teardown can abort the process.
    os._exit(code)


def run(args: argparse.Namespace, settings: Settings) -> int:
    handlers: dict[str, Callable[[], int]] = {
        "dev": lambda: dev(settings),
        "api": lambda: api(settings),
        "worker": lambda: worker(settings),
        "migrate": lambda: migrate(settings),
        "users": lambda: manage_users(settings, args),
        "audit": lambda: audit_verify(settings, args),
        "ledger": lambda: ledger_export(settings, args),
        "kpis": lambda: show_kpis(settings, args),
        "demo": lambda: demo(settings, args),
    }
    return handlers[args.command]()


if __name__ == "__main__":
    main()
