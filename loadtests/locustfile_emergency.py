"""Emergency capacity cut: ramp up, hold, the carrier cuts capacity to 30%, the partner follows, then recovery.

The shape follows the timeline of the simulator's emergency-cut scenario (issue 4: an account's rate cut to a
percentage for a period); mirror your scenario's offsets with ``--stages``. Each stage runs a percentage of the
peak user count (``-u``), and each user sends its share of 90% of the contracted rate, so a compliant partner's
load drops to 30% of its normal level during the cut and stays under the cut rate.

    locust -f loadtests/locustfile_emergency.py --headless -u 10 --host 127.0.0.1 --protocol smpp --port 2775 \\
        --system-id 900001 --password 888888 --api http://127.0.0.1:8080 \\
        --stages ramp:30:0-100,steady:60:100,cut:60:30,recovery:60:100

The stage table is printed at test start (``name seconds from%->to% users``).
"""

from __future__ import annotations

from locust import LoadTestShape, events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

from loadtests import options as opt
from loadtests import verdict  # noqa: F401  (registers the end-of-run verdict and the web UI tabs)
from loadtests.users import PartnerUser

#: NAME:SECONDS:PERCENT (of the peak users), or NAME:SECONDS:FROM-TO for a linear ramp.
DEFAULT_STAGES = "ramp:30:0-100,steady:60:100,cut:60:30,recovery:60:100"


@events.init_command_line_parser.add_listener
def _stage_options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--stages", default=DEFAULT_STAGES,
                        help="the shape: NAME:SECONDS:PERCENT or NAME:SECONDS:FROM-TO, comma-separated")


class EmergencyPartner(PartnerUser):
    """A compliant partner: its share of 90% of the contracted rate per user; fewer users, less traffic."""

    load_factor = 0.9


class EmergencyCutShape(LoadTestShape):
    """Runs the ``--stages`` table against the peak user count ``-u``."""

    use_common_options = True  # -u gives the peak; the stages give the time
    #: The table the shape runs; read from ``--stages`` when the test starts.
    stages: tuple[opt.Stage, ...] = opt.parse_stages(DEFAULT_STAGES)

    def peak_users(self) -> int:
        """The user count at 100%; the users divide the contracted rate by it (users.py's pacing)."""
        parsed = self.runner.environment.parsed_options if self.runner is not None else None
        return max(1, (parsed.num_users if parsed is not None else None) or 1)

    def table(self) -> str:
        """The stage table as printed at test start."""
        peak = self.peak_users()
        lines = [f"emergency shape, peak {peak} users:", "  stage         seconds   percent      users"]
        for stage in self.stages:
            percent = f"{stage.start:g}" if stage.start == stage.end else f"{stage.start:g}->{stage.end:g}"
            users = f"{stage.users(peak, 0)}" if stage.start == stage.end else \
                f"{stage.users(peak, 0)}->{stage.users(peak, stage.seconds)}"
            lines.append(f"  {stage.name:<12}  {stage.seconds:>7g}   {percent:>7}  {users:>9}")
        return "\n".join(lines)

    def tick(self) -> tuple[int, float] | None:
        at = opt.stage_at(self.stages, self.get_run_time())
        if at is None:
            return None
        stage, elapsed = at
        peak = self.peak_users()
        # Spawning the whole peak in one second makes a step (the cut, the recovery) happen at once.
        return stage.users(peak, elapsed), float(peak)


@events.test_start.add_listener
def _load_stages(environment: Environment, **_kwargs: object) -> None:
    shape = environment.shape_class
    if isinstance(shape, EmergencyCutShape) and environment.parsed_options is not None:
        shape.stages = opt.parse_stages(environment.parsed_options.stages)
        print(shape.table(), flush=True)
