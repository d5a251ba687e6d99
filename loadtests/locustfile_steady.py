"""Steady traffic just under the contract: the users of this file together send 90% of the contracted rate.

A compliant partner's everyday load. Expect no throttling and exit code 0 (3 if a compliance check fails).

    locust -f loadtests/locustfile_steady.py --headless -u 4 -r 4 -t 60s --host 127.0.0.1 \\
        --protocol smpp --port 2775 --system-id 900001 --password 888888 --api http://127.0.0.1:8080
"""

from __future__ import annotations

from loadtests import verdict  # noqa: F401  (registers the end-of-run verdict and the web UI tabs)
from loadtests.users import PartnerUser


class SteadyPartner(PartnerUser):
    """90% of the contracted rate, one submit per task run, the contract's window."""

    load_factor = 0.9
