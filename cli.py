"""The `l2c` command: dev (everything, embedded), api, worker, migrate, users."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from config import DEV_SECRET, Settings, get_settings
from domain.users import Role


def _banner(settings: Settings, data_dir: str) -> str:
    return "\n".join(
        [
            "",
            "l2c is running. Ctrl-C stops everything.",
            f"  API            {settings.base_url}/docs",
            f"  Temporal UI    {settings.temporal_ui}",
            f"  Temporal       {settings.temporal_address} ({settings.temporal_namespace})",
            f"  Postgres       {settings.database_url}",
            f"  SMTP           {settings.smtp_host}:{settings.smtp_port}"
            + (
                f"  (mail lands in {data_dir}/mail/new/)"
                if settings.smtp_host == "127.0.0.1"
                else ""
            ),
            "  Users          rep1 rep2 manager finance ops admin, password from L2C_DEV_PASSWORD",
            f"  Data           {data_dir}",
            "",
        ]
    )


def dev(settings: Settings) -> int:
    """Start what is not configured (Postgres, Temporal, SMTP), migrate, seed, then run the
    worker and the API as two processes of their own (one per core)."""
    from stack import Stack

    stack = Stack(settings)
    children: list[subprocess.Popen[bytes]] = []
    try:
        settings = stack.start()
        stack.prepare(seed=True)
        env = _child_env(settings, stack.data_dir)
        children = [_spawn("worker", env), _spawn("api", env)]
        print(_banner(settings, str(stack.data_dir)), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("l2c: stopping", flush=True)
        for child in children:
            _stop(child)
        stack.stop()
    return 0


def _child_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """Where the started servers are, for `l2c worker` and `l2c api`; a random secret of
    this data folder's own instead of the public dev one (kept, so portal links survive a
    restart)."""
    secret = settings.secret_key
    if secret == DEV_SECRET:
        path = data_dir / "secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        secret = path.read_text().strip()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url or "",
            "TEMPORAL_ADDRESS": settings.temporal_address or "",
            "TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "SMTP_HOST": settings.smtp_host or "",
            "SMTP_PORT": str(settings.smtp_port),
            "L2C_SECRET_KEY": secret,
            "L2C_PUBLIC_URL": settings.base_url,
        }
    )
    return env


def _spawn(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from adapters.embedded import die_with_parent

    l2c = Path(sys.executable).parent / "l2c"
    argv = [str(l2c), command] if l2c.exists() else [sys.executable, "-m", "cli", command]
    return subprocess.Popen(argv, env=env, preexec_fn=die_with_parent(), start_new_session=True)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def api(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)
    return 0


def worker(settings: Settings) -> int:
    from worker import run_worker

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))
    return 0


def migrate(settings: Settings) -> int:
    from adapters.storage.db import migrate as apply

    if settings.database_url is None:
        print("l2c migrate: DATABASE_URL is not set", file=sys.stderr)
        return 2
    unsigned = apply(settings.database_url, settings.audit_secret)
    for deal_id in unsigned:
        print(f"deal {deal_id}: its audit chain was already broken; head left unsigned")
    return 0


def manage_users(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.storage.db import make_engine
    from adapters.storage.users import UserDirectory

    if args.users_command == "add":
        return add_user(settings, args)
    if settings.database_url is None:
        print("l2c users: DATABASE_URL is not set", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    directory = UserDirectory(engine)
    if args.users_command == "disable":
        done = directory.set_active(args.username, False)
    else:
        done = directory.set_role(args.username, Role(args.role))
    engine.dispose()
    print(f"user {args.username} {'updated' if done else 'not found'}")
    return 0 if done else 1


def add_user(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.storage.db import make_engine
    from adapters.storage.users import UserDirectory

    if settings.database_url is None:
        print("l2c users add: DATABASE_URL is not set", file=sys.stderr)
        return 2
    password = args.password or os.environ.get("L2C_NEW_USER_PASSWORD")
    if not password:
        print("l2c users add: give --password or L2C_NEW_USER_PASSWORD", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    UserDirectory(engine).add(args.username, Role(args.role), args.email, password, replace=True)
    engine.dispose()
    print(f"user {args.username} ({args.role}) saved")
    return 0


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check the hash chain of every deal (or one); name each first broken link."""
    from adapters.storage.db import make_engine
    from adapters.storage.views.deals import DealViews
    from domain.audit import check_chain

    if settings.database_url is None:
        print("l2c audit verify: DATABASE_URL is not set", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
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

    if settings.database_url is None:
        print("l2c ledger export: DATABASE_URL is not set", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    with open(args.beancount, "w", encoding="utf-8") as out:
        for line in export_beancount(engine):
            out.write(line + "\n")
    engine.dispose()
    print(f"ledger written to {args.beancount}")
    return 0


def show_kpis(settings: Settings, args: argparse.Namespace) -> int:
    """The KPIs of a period as a table in the terminal."""
    from datetime import date

    from adapters.storage.db import make_engine
    from adapters.storage.kpis import kpis
    from api.commands.reports import period

    if settings.database_url is None:
        print("l2c kpis: DATABASE_URL is not set", file=sys.stderr)
        return 2
    start, end = period(
        date.fromisoformat(args.start) if args.start else None,
        date.fromisoformat(args.end) if args.end else None,
    )
    engine = make_engine(settings.database_url, pool_size=1)
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


def _pct(value: object) -> str:
    return "-" if value is None else f"{float(str(value)) * 100:.1f} %"


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Play a few months of business against a running l2c (e.g. `l2c dev`)."""
    from demo import run_demo

    url = args.url or settings.base_url
    print(f"l2c demo against {url}, a policy day lasting {args.day_seconds}s ...", flush=True)
    run_demo(url, settings.dev_password, args.day_seconds)
    print("done: see /ui, GET /kpis, and the Temporal UI", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="l2c", description="Lead-to-Cash on Temporal")
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


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the SMTP sink's chatter
    settings = get_settings()
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
    code = handlers[args.command]()
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio/sdk-python#300: leave before interpreter teardown can abort the process.
    os._exit(code)


if __name__ == "__main__":
    main()
