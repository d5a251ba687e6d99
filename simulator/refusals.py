"""Why the gateway refuses a submit, each reason with the code it is answered with in both protocols.

One table for every refusal that is not a policy rule's own (those live beside their rules in policy.py).
Vendor codes are documented here: CMPP 3.0 §8.7.2 leaves Results 100-199 to the ISMG vendor, SMPP v3.4
Table 5-2 leaves 0x400-0x4FF to the SMSC vendor.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols import cmpp
from protocols.smpp import CommandStatus

__all__ = [
    "CMPP_MAINTENANCE",
    "CMPP_STORE_UNAVAILABLE",
    "CMPP_SUSPENDED",
    "MAINTENANCE",
    "NO_DESTINATION",
    "SMPP_SUSPENDED",
    "STORE_FAILED",
    "SUSPENDED",
    "THROTTLED",
    "Refusal",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the gateway refused a submit, and the code each protocol answers it with."""

    #: Stable text (audit log, compliance, load-test failure names): "throttled", "policy:<rule>", "fault:<name>".
    reason: str
    cmpp_result: int
    smpp_status: int


#: CMPP vendor Result 100: the store could not persist the message; it was not accepted, the SP may resend it.
CMPP_STORE_UNAVAILABLE = 100
#: CMPP vendor Result 105 / SMPP vendor 0x404: repeated violations suspended the account (agreement clause 3.9).
CMPP_SUSPENDED = 105
SMPP_SUSPENDED = 0x404
#: CMPP vendor Result 106: the gateway is in planned maintenance (agreement clause 2.9).
CMPP_MAINTENANCE = 106

#: Flow control (agreement clause 2.2): CMPP Result 8 "流量控制错", SMPP ESME_RTHROTTLED.
THROTTLED = Refusal("throttled", cmpp.SubmitResult.FLOW_CONTROL, CommandStatus.ESME_RTHROTTLED)
#: A submit naming no recipient.
NO_DESTINATION = Refusal("no destination", cmpp.SubmitResult.DEST_TERMINAL_ID, CommandStatus.ESME_RINVDSTADR)
#: Nothing acknowledged without being on disk: the store failed, the partner may resend.
STORE_FAILED = Refusal("store failed", CMPP_STORE_UNAVAILABLE, CommandStatus.ESME_RSYSERR)
#: The account is suspended (agreement clause 3.9).
SUSPENDED = Refusal("policy:suspended", CMPP_SUSPENDED, SMPP_SUSPENDED)
#: A submit that reaches the gateway during a refuse- or terminate-mode maintenance: a temporary error.
MAINTENANCE = Refusal("maintenance", CMPP_MAINTENANCE, CommandStatus.ESME_RSYSERR)
