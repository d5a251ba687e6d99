"""A compliant and a non-compliant partner application side by side, in one run.

``CompliantPartner`` sends 90% of its share of the contracted rate within the window. ``RoguePartner`` ignores
the contract: it sends ``--rogue-factor`` times the contracted rate (default 3) in one burst a second, keeps
twice the contract's window unanswered, and goes on the same way after every throttle answer.

Give the rogue its own account (``--rogue-system-id``/``--rogue-password``) to compare the two verdicts; left
empty, it shares the compliant one's account, as two applications of one partner share a contract, and the
compliant class then sees throttling it did not cause.

    locust -f loadtests/locustfile_mixed.py --headless -u 2 -r 2 -t 60s --host 127.0.0.1 --protocol smpp \\
        --port 2775 --system-id 900001 --password 888888 --rogue-system-id 900002 --rogue-password secret \\
        --api http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from locust import User, constant_throughput, events
from locust.argument_parser import LocustArgumentParser

from loadtests import options as opt
from loadtests import verdict  # noqa: F401  (registers the end-of-run verdict and the web UI tabs)
from loadtests.users import PartnerUser


@events.init_command_line_parser.add_listener
def _rogue_options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--rogue-system-id", default="",
                        help="account of the non-compliant class (default: --system-id)")
    parser.add_argument("--rogue-password", default="", is_secret=True, help="its password (default: --password)")
    parser.add_argument("--rogue-factor", type=float, default=3.0,
                        help="the non-compliant class's rate as a multiple of the contracted rate")


class CompliantPartner(PartnerUser):
    """Within the contract: 90% of the rate, the contract's window."""

    load_factor = 0.9


class RoguePartner(PartnerUser):
    """Outside the contract: a multiple of the rate in bursts, twice the window, no backing off."""

    window_factor = 2.0

    @classmethod
    def credentials(cls, parsed: argparse.Namespace) -> tuple[list[str], list[str]]:
        ids, passwords = super().credentials(parsed)
        return (opt.split_list(parsed.rogue_system_id) or ids,
                opt.split_list(parsed.rogue_password) or passwords)

    def load(self) -> float:
        return float(self.environment.parsed_options.rogue_factor)

    def pacing(self, rate: float | None) -> tuple[int, Callable[[User], float] | None]:
        # A second's worth at once, every second: the gateway's bucket (one second of the rate) empties at once.
        return (1, None) if rate is None else (max(1, math.ceil(rate)), constant_throughput(1.0))
