"""The compliance monitor judged on scripted partner behaviours, as the audit events the gateway would record.

Each scenario is a synthetic event stream built by :class:`Partner`; the expected verdict of every check is
asserted exactly, so a check that stopped noticing (or started to over-report) fails a test.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable

import pytest

from simulator.compliance import (
    CHECKS,
    DEFAULT_THRESHOLDS,
    EXIT_FAILED,
    EXIT_OK,
    Thresholds,
    Verdict,
    as_document,
    exit_status,
    judge,
    report,
)
from simulator.config import Account

T0 = 1_780_000_000.0
ACCOUNT = "900001"
OTHER = "900002"
TERMS = Account(id=ACCOUNT, secret="s3cret", service_codes=("10690001",), rate=10.0, window=16)
ACCOUNTS = {ACCOUNT: TERMS, OTHER: Account(id=OTHER, secret="x", service_codes=("10690002",))}


class Partner:
    """Writes the audit events a partner's behaviour produces (times relative to T0)."""

    def __init__(self, account: str = ACCOUNT) -> None:
        self.account = account
        self.events: list[dict[str, object]] = []
        self.sequence = 0
        self.message = 0

    def emit(self, at: float, event: str, account: str | None = None, **detail: object) -> None:
        owner = self.account if account is None else account
        self.events.append({"at": T0 + at, "account": owner or None, "kind": event,
                            "detail": {"account": owner, **detail}})

    def bind(self, at: float, session: str = "cmpp-1") -> None:
        self.emit(at, "session.connected", session=session, protocol="cmpp", version="0x30", peer="127.0.0.1")

    def refused(self, at: float, session: str = "cmpp-x") -> None:
        self.emit(at, "session.refused", session=session, protocol="cmpp", status=3, peer="127.0.0.1")

    def closed(self, at: float, session: str = "cmpp-1") -> None:
        self.emit(at, "session.closed", session=session, protocol="cmpp", peer="127.0.0.1")

    def submit(self, at: float, *, session: str = "cmpp-1", refused: str | None = None, digest: str | None = None,
               recipients: int = 1, sequence: int | None = None) -> str:
        """One submit, accepted or refused for ``refused``; returns its digest (a new message unless given)."""
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        if digest is None:
            self.message += 1
            digest = f"d{self.message:06d}"
        common = {"session": session, "sequence": sequence, "recipients": recipients, "digest": digest}
        if refused is None:
            self.emit(at, "submit.accepted", message_id=f"m-{digest}-{at}", segment=1, segments=1, **common)
        else:
            self.emit(at, "submit.refused", reason=refused, **common)
        return digest

    def steady(self, start: float, stop: float, per_second: float, session: str = "cmpp-1") -> None:
        """Accepted submits at an even pace from ``start`` up to (not including) ``stop``."""
        for index in range(round((stop - start) * per_second)):
            self.submit(start + index / per_second, session=session)

    def violation(self, at: float, kind: str, session: str = "cmpp-1", sequence: int = 7) -> None:
        self.emit(at, "protocol.violation", session=session, kind=kind, error="x", sequence=sequence, answered=True)

    def keepalive(self, at: float, rtt: float, session: str = "cmpp-1") -> None:
        self.emit(at, "keepalive.answered", session=session, rtt=rtt)

    def disconnect(self, at: float, reason: str, session: str = "cmpp-1") -> None:
        self.emit(at, "session.disconnect", session=session, reason=reason)

    def receipt(self, at: float, message_id: str, *, attempt: int = 1, session: str = "cmpp-1") -> None:
        self.emit(at, "receipt.sent", session=session, message_id=message_id, attempt=attempt)

    def ack(self, at: float, message_id: str, latency: float | None = None) -> None:
        extra = {} if latency is None else {"latency": latency}
        self.emit(at, "receipt.acked", message_id=message_id, **extra)

    def policy(self, at: float, rule: str, mode: str, sequence: int = 3) -> None:
        self.emit(at, "policy.violation", session="cmpp-1", rule=rule, mode=mode, sequence=sequence,
                  evidence={"source": "10690001"})

    def capacity(self, at: float, *, factor: float | None = None, rate: float | None = None,
                 accounts: object = "*") -> None:
        self.emit(at, "capacity.changed", account="", accounts=accounts, rate=rate, window=None, factor=factor)

    def maintenance(self, at: float, kind: str) -> None:
        self.emit(at, f"maintenance.{kind}", account="", accounts=[self.account], mode="terminate", reason="upgrade")


def run(partner: Partner | Iterable[dict[str, object]], thresholds: Thresholds = DEFAULT_THRESHOLDS,
        accounts: dict[str, Account] | None = None) -> list[Verdict]:
    events = partner.events if isinstance(partner, Partner) else list(partner)
    return judge(events, ACCOUNTS if accounts is None else accounts, thresholds=thresholds, account=ACCOUNT)


def only(verdicts: list[Verdict], check: str) -> Verdict:
    """The single verdict of ``check``."""
    found = [verdict for verdict in verdicts if verdict.check == check]
    assert len(found) == 1, found
    return found[0]


def statuses(verdicts: list[Verdict]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for verdict in verdicts:
        result.setdefault(verdict.check, []).append(verdict.status)
    return result


# -- whole partners ---------------------------------------------------------------------------------------


def compliant_partner() -> Partner:
    """Under its rate, pauses 50 ms after a throttle and resends, acks receipts in 10 ms, answers keep-alives,
    reconnects once after a close, and slows to 2/s within the grace of a cut to 30% (3/s)."""
    p = Partner()
    p.bind(0)
    p.steady(0.1, 5, 5)
    throttled = p.submit(5.0, refused="throttled")
    p.submit(5.05, digest=throttled)  # resent after 50 ms, accepted
    p.steady(5.2, 10, 5)
    p.capacity(10, factor=0.3)
    p.steady(12, 20, 2)
    for index in range(5):
        p.receipt(2 + index, f"r{index}")
        p.ack(2.01 + index, f"r{index}", latency=0.01)
    p.keepalive(8, 0.004)
    p.keepalive(18, 0.006)
    p.closed(20)
    p.bind(21, session="cmpp-2")
    return p


def test_a_compliant_partner_passes_every_check() -> None:
    verdicts = run(compliant_partner())
    assert [verdict.check for verdict in verdicts] == list(CHECKS)  # one account-wide verdict each
    assert {verdict.check: verdict.status for verdict in verdicts} == dict.fromkeys(CHECKS, "pass")
    assert all(verdict.session is None for verdict in verdicts)
    assert exit_status(verdicts) == EXIT_OK
    backoff = only(verdicts, "throttle_backoff")
    assert backoff.value == pytest.approx(0.05)
    assert "1/1 throttled messages resent, 1 then accepted" in backoff.evidence
    assert only(verdicts, "keepalive").value == pytest.approx(0.006)
    assert only(verdicts, "receipt_ack").value == pytest.approx(0.01)
    cut = only(verdicts, "emergency_cut")
    assert cut.value == pytest.approx(2.0)
    assert cut.summary == "1 cuts judged, obeyed"


def test_a_partner_ignoring_throttling_fails_backoff_and_rate() -> None:
    p = Partner()
    p.bind(0)
    p.steady(0, 1, 10)
    p.submit(1.0, refused="throttled")
    for index in range(1, 1000):  # every 1 ms after the Result 8, mostly refused again
        at = 1.0 + index / 1000
        p.submit(at, refused=None if index % 100 == 0 else "throttled")
    verdicts = run(p)
    backoff = only(verdicts, "throttle_backoff")
    assert (backoff.status, backoff.session) == ("fail", "cmpp-1")
    assert backoff.value == pytest.approx(0.001, abs=1e-6)
    assert backoff.evidence[0].startswith(f"throttled seq 11 at {T0 + 1:.3f}, then 39 submits within 40.0 ms")
    rate = only(verdicts, "rate")
    assert rate.status == "fail"
    assert rate.value == pytest.approx(1000)
    assert exit_status(verdicts) == EXIT_FAILED


def test_a_partner_in_a_reconnect_storm_fails() -> None:
    p = Partner()
    p.bind(0)
    p.closed(5)
    for index in range(6):  # a refusal every 50 ms
        p.refused(5.001 + index * 0.05)
    p.bind(5.4, session="cmpp-2")
    verdict = only(run(p), "reconnect")
    assert verdict.status == "fail"
    assert verdict.value == 7  # 6 refused + 1 bound within one second
    assert "cmpp-1 closed at" in " ".join(verdict.evidence)
    assert "next attempt after 1.0 ms" in " ".join(verdict.evidence)


def test_a_partner_that_never_acks_receipts_fails() -> None:
    p = Partner()
    p.bind(0)
    for index in range(3):
        for attempt, delay in enumerate((0, 30, 60), start=1):  # the gateway retries every 30 s
            p.receipt(1 + index + delay, f"r{index}", attempt=attempt)
    p.keepalive(100, 0.005)  # the period goes on to T0 + 100
    verdict = only(run(p), "receipt_ack")
    assert verdict.status == "fail"
    assert verdict.value is None
    assert verdict.summary == "0 acknowledged, p95 latency -; 3 never acknowledged"
    assert verdict.evidence[0] == f"message r0 sent at {T0 + 1:.3f} (3 sends), never acked"


def test_a_partner_that_does_not_slow_down_after_an_emergency_cut_fails() -> None:
    p = Partner()
    p.steady(0, 30, 10)  # 10/s throughout, although cut to 30% (3/s) at 10 s
    p.capacity(10, factor=0.3)
    verdict = only(run(p), "emergency_cut")
    assert verdict.status == "fail"
    assert verdict.value == pytest.approx(10)
    assert verdict.evidence == (f"cut at {T0 + 10:.3f}: 10 -> 3 msgs/s; peak 10 msgs/s from {T0 + 15:.3f} to "
                                f"{T0 + 15.9:.3f}",)
    assert only(run(p), "rate").status == "pass"  # within the contract: only the cut was ignored


# -- rate -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("submits", "recipients", "expected"), [
    (10, 1, "pass"),  # exactly the rate
    (4, 3, "warn"),  # a group send counts its recipients: 12 = 1.2x
    (5, 3, "fail"),  # 15
])
def test_rate_counts_recipients_in_a_one_second_window(submits: int, recipients: int, expected: str) -> None:
    p = Partner()
    for index in range(submits):
        p.submit(index * 0.09, recipients=recipients)
    p.submit(5, recipients=1)
    assert only(run(p), "rate").status == expected


def test_rate_counts_refused_submits_and_sorts_events_by_time() -> None:
    p = Partner()
    for index in range(15):
        p.submit(index * 0.05, refused="throttled" if index % 2 else None)
    p.events.reverse()  # the store's order need not be the time order
    verdict = only(run(p), "rate")
    assert (verdict.status, verdict.value) == ("fail", 15)


def test_rate_of_an_unlimited_account_passes() -> None:
    p = Partner(OTHER)
    p.steady(0, 1, 500)
    verdict = judge(p.events, ACCOUNTS, account=OTHER)[0]
    assert (verdict.check, verdict.status, verdict.threshold) == ("rate", "pass", "not limited")
    assert verdict.value == 500


def test_rate_allows_a_raised_capacity() -> None:
    p = Partner()
    p.capacity(0, rate=20)
    p.steady(1, 2, 18)
    assert only(run(p), "rate").status == "pass"
    p.capacity(5, rate=10)
    p.steady(6, 7, 18)
    assert only(run(p), "rate").status == "fail"


# -- window and duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize(("check", "kind", "count", "expected"), [
    ("window", "window", 0, "pass"),
    ("window", "window", 3, "warn"),
    ("window", "window", 4, "fail"),
    ("duplicate_sequence", "duplicate_sequence", 1, "warn"),
    ("duplicate_sequence", "duplicate_sequence", 2, "fail"),
])
def test_protocol_violations_are_counted_per_session(check: str, kind: str, count: int, expected: str) -> None:
    p = Partner()
    p.bind(0)
    for index in range(count):
        p.violation(1 + index, kind, sequence=100 + index)
    p.violation(1, "malformed")  # another kind: never counted
    if count:
        p.violation(1, kind, session="cmpp-9")  # a second session with one
    verdicts = [verdict for verdict in run(p) if verdict.check == check]
    if expected == "pass":
        assert [(v.status, v.session, v.value) for v in verdicts] == [("pass", None, 0)]
        return
    first = verdicts[0]
    assert (first.status, first.session, first.value) == (expected, "cmpp-1", count)
    assert first.evidence[0] == f"seq 100 at {T0 + 1:.3f}"
    assert [(v.status, v.value) for v in verdicts if v.session == "cmpp-9"] == [("warn", 1)]
    assert len(verdicts) == 2


# -- throttle back-off ------------------------------------------------------------------------------------


def test_submits_in_flight_before_the_pause_are_allowed() -> None:
    """Ten submits in flight are all throttled within 1 ms; then the partner pauses 60 ms and resends them."""
    p = Partner()
    digests = [p.submit(1 + index / 10_000, refused="throttled") for index in range(10)]
    for index, digest in enumerate(digests):
        p.submit(1.061 + index / 10_000, digest=digest)
    verdict = only(run(p), "throttle_backoff")
    assert verdict.status == "pass"
    assert verdict.value == pytest.approx(0.0601, abs=1e-6)
    assert verdict.evidence == ("10/10 throttled messages resent, 10 then accepted",)


def test_a_pause_shorter_than_the_minimum_warns_and_dropping_is_reported() -> None:
    p = Partner()
    for index in range(100):  # every 10 ms, throttled or not: never a pause of 40 ms, but no storm either
        p.submit(index / 100, refused="throttled" if index % 5 == 0 else None)
    verdict = only(run(p), "throttle_backoff")
    assert (verdict.status, verdict.session) == ("warn", "cmpp-1")
    assert verdict.value == pytest.approx(0.01, abs=1e-6)
    assert "20 throttled messages not resent in the period" in verdict.evidence
    assert only(run(p, Thresholds(min_backoff=0.005)), "throttle_backoff").status == "pass"


def test_one_submit_in_flight_then_a_pause_passes() -> None:
    p = Partner()
    for index in range(5):
        p.submit(index, refused="throttled")
        p.submit(index + 0.001)  # already on its way when the throttle answer left
    verdict = only(run(p), "throttle_backoff")
    assert verdict.status == "pass"
    assert verdict.value == pytest.approx(0.999, abs=1e-6)


def test_storm_limit_defaults_to_the_window() -> None:
    p = Partner()
    p.submit(1, refused="throttled")
    for index in range(16):  # 16 in flight: allowed with a window of 16
        p.submit(1.001 + index / 1000)
    p.submit(2)
    assert only(run(p), "throttle_backoff").status == "pass"
    assert only(run(p, accounts={ACCOUNT: dataclasses.replace(TERMS, window=8)}), "throttle_backoff").status == "fail"
    assert only(run(p, Thresholds(storm_submits=20)), "throttle_backoff").status in ("pass", "warn")


def test_resends_reusing_the_sequence_number_are_reported() -> None:
    p = Partner()
    digest = p.submit(1, refused="throttled", sequence=5)
    p.submit(1.1, digest=digest, sequence=5)
    verdict = only(run(p), "throttle_backoff")
    assert "1 resends reused the sequence number" in verdict.evidence


def test_never_throttled_passes_without_a_value() -> None:
    p = Partner()
    p.steady(0, 2, 5)
    p.submit(3, refused="policy:group_size")  # not a throttle
    verdict = only(run(p), "throttle_backoff")
    assert (verdict.status, verdict.value, verdict.summary) == ("pass", None, "never throttled")


# -- reconnect --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("intervals", "expected"), [
    ((2, 2, 2), "warn"),  # refused again and again at a fixed pace
    ((1, 2, 4), "pass"),  # exponential back-off
    ((0.2, 0.2, 0.2, 0.2, 0.2), "fail"),  # 6 attempts within 1 s
])
def test_reconnect_backoff_while_refused(intervals: tuple[float, ...], expected: str) -> None:
    p = Partner()
    p.maintenance(0, "started")
    at = 1.0
    p.refused(at)
    for interval in intervals:
        at += interval
        p.refused(at)
    p.maintenance(at, "ended")
    p.bind(at + 1)
    verdict = only(run(p), "reconnect")
    assert verdict.status == expected
    assert any(item.startswith(f"maintenance started at {T0:.3f}: next attempt after") for item in verdict.evidence)


def test_opening_every_allowed_connection_at_once_is_not_a_storm() -> None:
    p = Partner()
    for index in range(6):
        p.bind(index * 0.01, session=f"cmpp-{index}")
    many = dataclasses.replace(TERMS, max_connections=6)
    assert only(run(p, accounts={ACCOUNT: many}), "reconnect").status == "pass"
    assert only(run(p), "reconnect").status == "fail"  # max_connections 4: 6 at once is a storm


# -- keep-alive -------------------------------------------------------------------------------------------


def test_keepalive_verdicts() -> None:
    p = Partner()
    assert only(run(p), "keepalive").value is None
    p.keepalive(1, 0.002, session="cmpp-1")
    p.keepalive(2, 2.5, session="cmpp-2")
    p.disconnect(3, "no answer to 3 keep-alive probes", session="cmpp-3")
    p.disconnect(4, "inactivity timer expired", session="cmpp-4")  # not a keep-alive failure
    verdicts = [verdict for verdict in run(p) if verdict.check == "keepalive"]
    assert [(v.session, v.status, v.value) for v in verdicts] == [("cmpp-2", "warn", 2.5), ("cmpp-3", "fail", None)]
    assert verdicts[1].evidence == (f"closed at {T0 + 3:.3f}: no answer to 3 keep-alive probes",)


# -- receipts ---------------------------------------------------------------------------------------------


def test_receipt_latency_from_the_event_or_from_the_send() -> None:
    p = Partner()
    p.receipt(1, "a")
    p.ack(1.5, "a")  # no latency field: 0.5 s since the send
    verdict = only(run(p), "receipt_ack")
    assert (verdict.status, verdict.value) == ("pass", 0.5)
    p.ack(2, "b", latency=3.0)  # the lead's latency field; no receipt.sent for it
    verdict = only(run(p), "receipt_ack")
    assert (verdict.status, verdict.value) == ("warn", 3.0)


def test_a_receipt_still_within_its_timeout_is_not_a_failure() -> None:
    p = Partner()
    p.receipt(0, "a")
    p.keepalive(59, 0.001)
    assert only(run(p), "receipt_ack").status == "pass"
    p.keepalive(60, 0.001)
    assert only(run(p), "receipt_ack").status == "fail"


def test_acks_without_sent_events_say_what_cannot_be_seen() -> None:
    p = Partner()
    p.ack(1, "a", latency=0.02)
    verdict = only(run(p), "receipt_ack")
    assert verdict.status == "pass"
    assert "no receipt.sent events: unacknowledged receipts cannot be seen" in verdict.evidence


# -- policy -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("modes", "expected"), [
    ((), "pass"), (("monitor",), "warn"), (("monitor", "enforce"), "fail"), (("enforce",), "fail"),
])
def test_policy_enforce_fails_monitor_warns(modes: tuple[str, ...], expected: str) -> None:
    p = Partner()
    for index, mode in enumerate(modes):
        p.policy(index, "content" if mode == "monitor" else "group_size", mode)
    verdict = only(run(p), "policy")
    assert (verdict.status, verdict.value) == (expected, len(modes))


# -- emergency cut ----------------------------------------------------------------------------------------


def test_an_emergency_cut_for_another_account_does_not_apply() -> None:
    p = Partner()
    p.steady(0, 20, 10)
    p.capacity(5, rate=3, accounts=[OTHER])
    verdict = only(run(p), "emergency_cut")
    assert (verdict.status, verdict.summary) == ("pass", "no emergency cut in the period")


def test_slowing_down_within_the_grace_period_passes() -> None:
    p = Partner()
    p.steady(0, 14, 10)  # still 10/s for 4 s after the cut ...
    p.steady(14, 30, 3)  # ... then 3/s
    p.capacity(10, rate=3)
    assert only(run(p), "emergency_cut").status == "pass"
    assert only(run(p, Thresholds(cut_grace=2)), "emergency_cut").status == "fail"


def test_a_cut_ends_at_the_next_change() -> None:
    p = Partner()
    p.capacity(0, factor=0.3)
    p.capacity(10, factor=1.0)  # restored
    p.steady(10, 20, 10)
    verdict = only(run(p), "emergency_cut")
    assert (verdict.status, verdict.value) == ("pass", 0)


def test_a_cut_of_an_unlimited_account_applies_to_its_load_before() -> None:
    p = Partner(OTHER)
    p.steady(0, 10, 100)
    p.capacity(10, factor=0.5)
    p.steady(10, 20, 80)
    verdict = next(v for v in judge(p.events, ACCOUNTS, account=OTHER) if v.check == "emergency_cut")
    assert verdict.status == "fail"
    assert "unlimited -> 50 msgs/s" in verdict.evidence[0]


# -- robustness -------------------------------------------------------------------------------------------


def test_malformed_events_are_skipped_and_unknown_accounts_give_no_verdicts() -> None:
    p = compliant_partner()
    junk: list[dict[str, object]] = [
        {"kind": "submit.accepted"}, {"at": "soon", "kind": "submit.accepted", "account": ACCOUNT},
        {"at": float("nan"), "kind": "submit.accepted", "account": ACCOUNT},
        {"at": T0, "kind": 5, "account": ACCOUNT},
        {"at": T0 + 1, "kind": "submit.accepted", "account": ACCOUNT, "detail": "not a dict"},
        {"at": T0 + 1, "kind": "keepalive.answered", "account": ACCOUNT, "detail": {"rtt": True}},
    ]
    verdicts = run([*p.events, *junk])
    assert {verdict.status for verdict in verdicts} == {"pass"}
    assert judge(p.events, ACCOUNTS, account="nobody") == []
    both = judge(p.events, ACCOUNTS)
    assert [v.account for v in both] == [ACCOUNT] * len(CHECKS) + [OTHER] * len(CHECKS)


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="min_backoff"):
        Thresholds(min_backoff=0)
    with pytest.raises(ValueError, match="rate_window"):
        Thresholds(rate_window=float("inf"))
    with pytest.raises(ValueError, match="reconnect_min_refusals"):
        Thresholds(reconnect_min_refusals=2)


# -- reports ----------------------------------------------------------------------------------------------

NASTY = 'a<b>&"\'\x00\x1b[31m\u2028\ud800]]>\n'


def mixed_verdicts() -> list[Verdict]:
    p = compliant_partner()
    p.policy(30, "group_size", "enforce")
    p.policy(31, "content", "monitor")
    p.violation(32, "window")
    verdicts = run(p)
    nasty = Verdict("policy", ACCOUNT, NASTY, "fail", 1, NASTY, (NASTY, "ok"), NASTY)
    return [*verdicts, nasty]


def test_json_report_round_trips() -> None:
    verdicts = mixed_verdicts()
    text = report(verdicts, "json")
    assert text.isascii()
    document = json.loads(text)
    assert document == as_document(verdicts)
    assert document["failed"] == 2
    assert [Verdict.from_dict(item) for item in document["verdicts"]] == verdicts
    with pytest.raises(ValueError, match="status"):
        Verdict.from_dict({**document["verdicts"][0], "status": "ok"})


def test_junit_report_parses_with_the_right_failures() -> None:
    verdicts = mixed_verdicts()
    root = ET.fromstring(report(verdicts, "junit").encode())
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures")) == (str(len(verdicts)), "2")
    cases = root.findall("testcase")
    assert [case.get("name") for case in cases[:2]] == [f"{ACCOUNT}.rate", f"{ACCOUNT}.window.cmpp-1"]
    failed = [case for case in cases if case.find("failure") is not None]
    assert len(failed) == 2
    assert failed[0].get("name") == f"{ACCOUNT}.policy"
    assert all(case.find("system-out") is not None for case in cases if case.find("failure") is None)
    assert "a<b>&" in (failed[1].get("name") or "")  # escaped on the way out, intact on the way back in
    assert "WARN: " in "".join(case.findtext("system-out") or "" for case in cases)


def test_table_has_a_header_and_one_line_per_verdict() -> None:
    verdicts = mixed_verdicts()
    lines = report(verdicts, "table").splitlines()
    assert len(lines) == len(verdicts) + 1
    assert lines[0].split()[:4] == ["STATUS", "ACCOUNT", "CHECK", "SESSION"]
    assert [line.split()[0] for line in lines[1:]] == [verdict.status.upper() for verdict in verdicts]
    with pytest.raises(ValueError, match="format"):
        report(verdicts, "yaml")


def test_exit_status() -> None:
    assert exit_status([]) == EXIT_OK == 0
    assert exit_status([v for v in mixed_verdicts() if v.status != "fail"]) == 0
    assert exit_status(mixed_verdicts()) == EXIT_FAILED == 3
