"""``tillpi hq ...``: run the head-office service and administer it.

    run            --db URL --host H --port N [--workers W]   serve the API and dashboard (uvicorn)
    migrate        --db URL                        bring the schema to the newest version
    create-store   --db URL STORE_ID --name N [--region R] [--enrolment-code]
    rotate-token   --db URL STORE_ID [--revoke-old]
    create-user    --db URL USERNAME --role ROLE [--store ID ...] [--password-stdin]

Other settings come from ``TILLPI_HQ_*`` variables (``TILLPI_HQ_SECRET_KEY`` above all).
A new edge token or enrolment code is printed once; HQ keeps only its hash.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from hq.db import Database
from hq.errors import HqError
from hq.security import PasswordHashing
from hq.services import stores as store_svc
from hq.services import users as user_svc
from hq.settings import Settings
from retail.clock import SystemClock

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(database_url=args.db) if args.db else Settings()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tillpi hq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--db", help="database URL (default: TILLPI_HQ_DATABASE_URL or sqlite:///var/hq/hq.db)")
        return sp

    run = add("run", "serve the HQ API and dashboard")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8400)
    run.add_argument("--log-level", default="info")
    run.add_argument("--workers", type=int, default=1,
                     help="uvicorn worker processes (stateless; use several on PostgreSQL)")
    add("migrate", "upgrade the schema to head")
    cs = add("create-store", "create a store and print its edge token")
    cs.add_argument("store_id")
    cs.add_argument("--name", required=True)
    cs.add_argument("--region", default="default")
    cs.add_argument("--enrolment-code", action="store_true", help="print a one-time enrolment code instead of a token")
    rt = add("rotate-token", "issue a new edge token; old ones stay valid for the grace period")
    rt.add_argument("store_id")
    rt.add_argument("--revoke-old", action="store_true", help="stop the old tokens at once")
    cu = add("create-user", "create an HQ user")
    cu.add_argument("username")
    cu.add_argument("--role", required=True, choices=list(user_svc.ROLES))
    cu.add_argument("--store", action="append", default=[], help="a store a store manager sees (repeat)")
    cu.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return p


def _run(settings: Settings, host: str, port: int, log_level: str, workers: int = 1) -> int:
    import uvicorn

    from hq.app import create_app, tune_gc

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers <= 1:
        tune_gc()
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False)
        return 0
    # Several processes: uvicorn imports the app factory in each worker, which reads its settings
    # from the environment, so the database URL given here is handed down that way.
    os.environ["TILLPI_HQ_DATABASE_URL"] = settings.database_url
    uvicorn.run("hq.app:served_app", factory=True, host=host, port=port, log_level=log_level,
                access_log=False, workers=workers)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = _settings(args)
        if args.command == "run":
            return _run(settings, args.host, args.port, args.log_level, args.workers)
        clock = SystemClock()
        secret = settings.secret_key.get_secret_value()
        with Database(settings) as db:
            db.migrate()
            if args.command == "migrate":
                print(f"schema at head on {db.dialect}")
            elif args.command == "create-store":
                with db.write() as s:
                    store_svc.create_store(s, store_id=args.store_id, name=args.name, region=args.region,
                                           currency=settings.currency, now=clock.now())
                    if args.enrolment_code:
                        code, expires = store_svc.issue_enrolment_code(s, secret, args.store_id, clock.now(),
                                                                       ttl_s=settings.enrolment_ttl_s)
                        print(f"store {args.store_id} created; enrolment code (valid until {expires.isoformat()}):")
                        print(code)
                    else:
                        token, _ = store_svc.rotate_token(s, secret, args.store_id, clock.now(), grace_s=0)
                        print(f"store {args.store_id} created; edge token:")
                        print(token)
            elif args.command == "rotate-token":
                with db.write() as s:
                    token, until = store_svc.rotate_token(s, secret, args.store_id, clock.now(),
                                                          grace_s=settings.token_grace_s, revoke_old=args.revoke_old)
                print(f"new edge token for {args.store_id} (old tokens valid until {until.isoformat() if until else '-'}):")
                print(token)
            elif args.command == "create-user":
                password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
                if len(password) < 8:
                    print("tillpi hq: a password needs at least 8 characters", file=sys.stderr)
                    return 2
                with db.write() as s:
                    user_svc.create_user(s, PasswordHashing(), username=args.username, password=password,
                                         role=args.role, store_ids=args.store, now=clock.now())
                print(f"user {args.username} created ({args.role})")
    except (HqError, ValueError) as exc:
        print(f"tillpi hq: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
