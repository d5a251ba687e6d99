"""Bursts above the contract: every ``--burst-period`` seconds each user fires its share of a burst at once, so
that on average the users send ``--burst-factor`` times the contracted rate (default 1.5).

The gateway's token bucket holds one second of the rate, so part of every burst is throttled: expect
ESME_RTHROTTLED / ``Result=8`` failures, the simulator counting the same number, and exit code 3 once the
compliance monitor flags the overrun.

    locust -f loadtests/locustfile_burst.py --headless -u 2 -r 2 -t 30s --host 127.0.0.1 \\
        --protocol cmpp --port 7890 --system-id 900001 --password 888888 --api http://127.0.0.1:8080
"""

from __future__ import annotations

import math
from collections.abc import Callable

from locust import User, constant_throughput, events
from locust.argument_parser import LocustArgumentParser

from loadtests import verdict  # noqa: F401  (registers the end-of-run verdict and the web UI tabs)
from loadtests.users import PartnerUser


@events.init_command_line_parser.add_listener
def _burst_options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--burst-factor", type=float, default=1.5,
                        help="average rate as a multiple of the contracted rate")
    parser.add_argument("--burst-period", type=float, default=2.0, help="seconds from the start of a burst to the next")


class BurstingPartner(PartnerUser):
    """Sends ``--burst-period`` seconds' worth of its share back to back (pipelined up to the window), then waits."""

    def load(self) -> float:
        return float(self.environment.parsed_options.burst_factor)

    def pacing(self, rate: float | None) -> tuple[int, Callable[[User], float] | None]:
        if rate is None:
            return 1, None  # no contracted rate to burst above: send as fast as the window allows
        period = self.environment.parsed_options.burst_period
        return max(1, math.ceil(rate * period)), constant_throughput(1 / period)
