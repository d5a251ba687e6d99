"""What the scenarios have switched on right now: maintenance windows and faults.

The gateway and the protocol fronts ask this object, on their normal path, whether anything unusual applies
to an account at the moment (agreement clauses 2.9 and 2.10: planned interruptions and faults). It holds no
timers: the scenario runner switches conditions on and off at the right simulated times. Everything random
here draws from one generator seeded by the scenario, so a run replays exactly.
"""

from __future__ import annotations

import dataclasses
import random

from simulator.config import DlrProfile
from simulator.refusals import MAINTENANCE, Refusal
from simulator.scenario import Fault, Maintenance

__all__ = ["Conditions"]

#: Maintenance modes in which binds/CONNECTs are refused (issue 4: refuse, terminate-then-refuse).
_REFUSING = frozenset({"refuse", "terminate"})


class Conditions:
    """The active maintenance windows and faults, by scenario event id."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.random = rng or random.Random(0)
        self.maintenance: dict[str, Maintenance] = {}
        self.faults: dict[str, Fault] = {}
        #: Each fault's own generator, derived from the scenario's seed (Scenario.rng), so that a scenario
        #: replays the same draws whatever else the simulator does.
        self.rngs: dict[str, random.Random] = {}

    def _rng(self, fault: Fault) -> random.Random:
        return self.rngs.get(fault.id, self.random)

    @property
    def quiet(self) -> bool:
        """Nothing is switched on: the hot path can skip every other question."""
        return not self.maintenance and not self.faults

    def _faults(self, account: str, kind: str) -> list[Fault]:
        return [fault for fault in self.faults.values() if fault.fault == kind and fault.applies_to(account)]

    def refuses_binds(self, account: str) -> bool:
        """A refuse- or terminate-mode maintenance covers the account: binds/CONNECTs are refused."""
        return any(m.mode in _REFUSING and m.applies_to(account) for m in self.maintenance.values())

    def is_silent(self, account: str) -> bool:
        """Nothing is answered: a silent-mode maintenance or a black-hole fault covers the account.

        ``account`` is "" before a session has bound: only conditions for every account ("*") apply then."""
        silent = any(m.mode == "silent" and m.applies_to(account) for m in self.maintenance.values())
        return silent or bool(self._faults(account, "black_hole"))

    def submit_refusal(self, account: str) -> Refusal | None:
        """A refusal the conditions impose on this submit (a maintenance, an error burst), if any."""
        if self.refuses_binds(account):
            return MAINTENANCE
        for fault in self._faults(account, "error_burst"):
            if fault.code is not None and self._rng(fault).random() < fault.ratio:
                return Refusal("fault:error_burst", fault.code.cmpp, fault.code.smpp)
        return None

    def response_delay(self, account: str) -> float:
        """Seconds to hold back each response (latency faults), 0 when none is active."""
        return sum(self._rng(fault).uniform(*fault.latency) for fault in self._faults(account, "latency")
                   if fault.latency is not None)

    def receipt_profile(self, account: str, base: DlrProfile) -> DlrProfile:
        """The DLR profile in force: receipt delay and failure faults override the account's own."""
        profile = base
        for fault in self._faults(account, "receipt_delay"):
            if fault.delay is not None:
                profile = dataclasses.replace(profile, delay_min=fault.delay[0], delay_max=fault.delay[1])
        for fault in self._faults(account, "receipt_failure"):
            if fault.outcomes:
                profile = dataclasses.replace(profile, outcomes=fault.outcomes)
        return profile
