"""tillpi — one command-line entry point for every tier.

    tillpi demo [--duration SECONDS]     run a whole shop on embedded defaults
    tillpi broker ...                    the store's Mosquitto (see broker/)
    tillpi kiosk ...                     the self-checkout app and its device tools
    tillpi edge ...                      the in-store node
    tillpi hq ...                        the head-office service

Each tier's commands live in its own package (``<tier>.cli``); this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys

TIERS = {
    "broker": "broker.cli",
    "kiosk": "kiosk.cli",
    "edge": "edge.cli",
    "hq": "hq.cli",
}


def _run_tier(tier: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module(TIERS[tier])
    except ModuleNotFoundError as exc:
        if exc.name != TIERS[tier]:
            raise
        print(f"tillpi {tier}: not built yet", file=sys.stderr)
        return 2
    return int(module.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="tillpi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["demo", *TIERS], help="what to run")
    args, rest = parser.parse_known_args(argv[:1])
    if args.command == "demo":
        from tillpi_demo.shop import main as demo_main

        return int(demo_main(argv[1:]) or 0)
    return _run_tier(args.command, argv[1:])


if __name__ == "__main__":
    sys.exit(main())
