"""Monthly statistics and billing statements against a hand-computed month (issue 5; agreement 2.4, 3.3, 4.2-4.4).

The month is November 2026 in Asia/Shanghai (UTC+8, no daylight saving): from 2026-10-31 16:00:00 UTC to
2026-11-30 16:00:00 UTC. Every instant below is written in UTC, so the expected figures do not come from the
code under test's own time-zone arithmetic. Rows sit on both boundaries: 23:59:59 on 31 October and 00:00:00 on
1 November (local), 23:59:59 and 23:59:59.999 on 30 November and 00:00:00 on 1 December.

Accounts (tariffs in the TOML of :data:`CONFIG_TOML`):

- 900001, service codes 10690001 and 106900011, rent 500, free quota 3, 0.055 per message, ad penalty 33.335,
  no approval to advertise. November rows: 1 at local midnight of the 1st, a group send (2 rows), a 3-segment
  long message (3 rows), a cancelled message, one from a source outside its codes, 2 in the last second of the
  30th: 10 billable, 7 chargeable, fees 7 x 0.055 = 0.385 -> 0.39 (half up; half-even would give 0.38).
  Advertising violations: 2 + 1 recipients in the month -> 3 x 33.335 = 100.005 -> 100.01. Total 600.40
  (rounding the exact sum 600.39 instead of each line would give 600.39).
- 900002, service code 10690002, rent 300.5, free quota 5, 0.045 per message, approved to advertise: 3
  billable, 0 chargeable, 4 advertising recipients not penalised. Total 300.50.
- 900003, idle: rent 100, total 100.00.
- 900009 is not configured but has 2 November rows; 900008 is not configured and has only an advertising
  violation: both are listed without tariff.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from simulator import billing
from simulator.billing import OTHER, BillingError, PortStatistics, Statement, month_bounds, monthly_statistics, render
from simulator.config import Config, load_config
from simulator.store import MessageRow, MoRow, Store

MONTH = "2026-11"
ZONE = "Asia/Shanghai"


def utc(text: str) -> float:
    """Epoch seconds of a UTC wall-clock time written ``YYYY-MM-DD[ HH:MM[:SS[.fff]]]``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


NOV_START = utc("2026-10-31 16:00:00")  # 2026-11-01 00:00:00 +08:00
NOV_END = utc("2026-11-30 16:00:00")  # 2026-12-01 00:00:00 +08:00
OCT_LAST_SECOND = utc("2026-10-31 15:59:59")  # 2026-10-31 23:59:59 +08:00
NOV_LAST_SECOND = utc("2026-11-30 15:59:59")  # 2026-11-30 23:59:59 +08:00
NOV_LAST_MOMENT = utc("2026-11-30 15:59:59.999")  # 2026-11-30 23:59:59.999 +08:00

CONFIG_TOML = """\
[gateway]
timezone = "Asia/Shanghai"

[[accounts]]
id = "900001"
secret = "secret1"
service_codes = ["10690001", "106900011"]
rent = 500
free_quota = 3
message_fee = 0.055
ad_penalty = 33.335

[[accounts]]
id = "900002"
secret = "secret2"
service_codes = ["10690002"]
rent = 300.5
free_quota = 5
message_fee = 0.045
ad_penalty = 50
approved_ads = true

[[accounts]]
id = "900003"
secret = "secret3"
service_codes = ["10690003"]
rent = 100
free_quota = 1000
message_fee = 0.05
"""


def message(row_id: int, account: str, at: float, source: str, *, destination: str = "13800138000",
            state: str = "DELIVRD", done_after: float = 5.0, receipt: str = "none", cancelled: int = 0,
            segment: tuple[int | None, int, int] = (None, 1, 1)) -> MessageRow:
    ref, total, number = segment
    return MessageRow(
        id=row_id, message_id=str(row_id), account=account, protocol="cmpp30", session=f"{account}#1",
        submitted_at=at, source=source, destination=destination, data_coding=0, content=b"hi", text="hi",
        message_text="hi", segment_ref=ref, segment_total=total, segment_number=number, registered_delivery=1,
        service_id="MTEST", state=state, err=0 if state == "DELIVRD" else 1, done_at=at + done_after,
        receipt_state=receipt, receipt_due=None, cancelled=cancelled)


def mo(row_id: int, account: str, at: float, destination: str, state: str = "acked") -> MoRow:
    return MoRow(id=row_id, account=account, source="13800138000", destination=destination, data_coding=0,
                 content=b"TD", udhi=0, created_at=at, state=state, due=None)


MESSAGES = [
    # 900001
    message(1, "900001", OCT_LAST_SECOND, "10690001"),  # October
    message(2, "900001", NOV_START, "10690001", receipt="acked"),  # the month's first instant
    message(3, "900001", utc("2026-11-10 02:00:00"), "1069000188", destination="13800138000", receipt="sent"),
    message(4, "900001", utc("2026-11-10 02:00:00"), "1069000188", destination="13900139000", state="UNDELIV",
            receipt="failed"),  # 3 and 4: one group send to two recipients
    *(message(5 + i, "900001", utc("2026-11-15 03:00:00"), "1069000115", segment=(7, 3, i + 1), receipt="acked")
      for i in range(3)),  # a long message in three segments, through the longer service code 106900011
    message(8, "900001", utc("2026-11-20 04:00:00"), "10690001", state="DELETED", done_after=60.0, cancelled=1),
    message(9, "900001", utc("2026-11-21 05:00:00"), "10699999", state="REJECTD", done_after=2.0, receipt="acked"),
    message(10, "900001", NOV_LAST_SECOND, "10690001", done_after=1.0, receipt="pending"),  # outcome at NOV_END
    message(11, "900001", NOV_LAST_MOMENT, "10690001", receipt="pending"),
    message(12, "900001", NOV_END, "10690001"),  # December
    # 900002
    message(20, "900002", utc("2026-11-02 01:00:00"), "10690002", destination="13500135000"),
    message(21, "900002", utc("2026-11-02 01:00:00"), "10690002", destination="13600136000"),
    message(22, "900002", utc("2026-11-03 01:00:00"), "106900025", state="EXPIRED", done_after=3.0),
    # 900009: not configured
    message(30, "900009", utc("2026-11-08 00:00:00"), "10695555"),
    message(31, "900009", utc("2026-11-08 00:00:00"), "10695555", destination="13900139000"),
]

MO_ROWS = [
    mo(1, "900001", utc("2026-11-04"), "10690001"),
    mo(2, "900001", utc("2026-11-05"), "1069000112", state="pending"),
    mo(3, "900001", OCT_LAST_SECOND, "10690001"),
    mo(4, "900002", NOV_LAST_SECOND, "10690002"),
    mo(5, "900002", NOV_END, "10690002"),
]

#: (at, account, rule, mode, recipients)
VIOLATIONS = [
    (utc("2026-11-05"), "900001", "advertising", "monitor", 2),
    (NOV_LAST_SECOND, "900001", "advertising", "monitor", 1),
    (OCT_LAST_SECOND, "900001", "advertising", "monitor", 1),
    (NOV_END, "900001", "advertising", "monitor", 5),
    (utc("2026-11-05"), "900001", "content", "monitor", 5),
    (utc("2026-11-06"), "900002", "advertising", "enforce", 4),
    (utc("2026-11-07"), "900008", "advertising", "monitor", 1),
]

#: (at, kind, account, detail): what the gateway's front emits (simulator/front.py), one with a source.
EVENTS: list[tuple[float, str, str, dict[str, object]]] = [
    (utc("2026-11-12 06:00:00"), "submit.refused", "900001", {"reason": "throttled", "recipients": 2}),
    (utc("2026-11-12 06:00:01"), "submit.refused", "900001",
     {"reason": "throttled", "recipients": 1, "source": "1069000115"}),
    (utc("2026-11-13 07:00:00"), "submit.refused", "900001", {"reason": "policy:group_size", "recipients": 3}),
    (utc("2026-11-14 07:00:00"), "submit.refused", "900001", {"reason": "no destination", "recipients": 0}),
    (OCT_LAST_SECOND, "submit.refused", "900001", {"reason": "throttled", "recipients": 1}),
    (NOV_END, "submit.refused", "900001", {"reason": "throttled", "recipients": 1}),
    (utc("2026-11-10 02:00:00"), "submit.accepted", "900001", {"recipients": 2}),
    (utc("2026-11-05 01:00:00"), "submit.refused", "900002", {"reason": "throttled", "recipients": 2}),
]


async def populate(directory: Path) -> Path:
    """Write the hand-computed month into a fresh store; returns the sqlite file."""
    store = await Store.open(directory)
    try:
        await store.insert_messages(MESSAGES)
        await store.insert_mo(MO_ROWS)
        for at, account, rule, mode, recipients in VIOLATIONS:
            store.record_violation(at, account=account, session=f"{account}#1", rule=rule, mode=mode,
                                   recipients=recipients, evidence={"rule": rule})
        for at, kind, account, detail in EVENTS:
            store.record_event(at, kind, account, {"account": account, **detail})
        await store.flush()
    finally:
        await store.close()
    return store.path


def write_config(directory: Path, data_dir: Path | None = None) -> Path:
    path = directory / "smsclab.toml"
    text = CONFIG_TOML
    if data_dir is not None:
        text = text.replace('[gateway]\n', f'[gateway]\ndata_dir = "{data_dir.as_posix()}"\n')
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def month_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asyncio.run(populate(tmp_path_factory.mktemp("store")))


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(write_config(tmp_path_factory.mktemp("config")))


def stats(account: str, code: str, **figures: int) -> PortStatistics:
    names = ("submitted", "accepted", "delivered", "failed", "enroute", "throttled", "refused_policy",
             "refused_other", "mo_received", "receipts_sent", "receipts_acked")
    return PortStatistics(month=MONTH, account=account, service_code=code, **{n: figures.get(n, 0) for n in names})


EXPECTED_STATISTICS = [
    # rows 2, 3, 4, 8, 10, 11; 10 ends at NOV_END exactly and 11 after it: still ENROUTE at the month's end
    stats("900001", "10690001", submitted=6, accepted=6, delivered=2, failed=2, enroute=2, mo_received=1,
          receipts_sent=3, receipts_acked=1),
    # the long message (rows 5-7) and the refusal whose event names source 1069000115
    stats("900001", "106900011", submitted=4, accepted=3, delivered=3, throttled=1, mo_received=1,
          receipts_sent=3, receipts_acked=3),
    # row 9 (source outside the codes) and the refusals without a source (two service codes: not attributable)
    stats("900001", OTHER, submitted=6, accepted=1, failed=1, throttled=2, refused_policy=3,
          receipts_sent=1, receipts_acked=1),
    # one service code: its refusals are its own
    stats("900002", "10690002", submitted=5, accepted=3, delivered=2, failed=1, throttled=2, mo_received=1),
    stats("900003", "10690003"),
    stats("900009", OTHER, submitted=2, accepted=2, delivered=2),
]


def money(text: str) -> Decimal:
    return Decimal(text)


EXPECTED_STATEMENTS = [
    Statement(month=MONTH, account="900001", configured=True, rent=money("500.00"), free_quota=3, billable=10,
              chargeable=7, message_fee=money("0.055"), fees=money("0.39"), approved_ads=False, ad_messages=3,
              ad_penalty=money("33.335"), penalties=money("100.01"), total=money("600.40")),
    Statement(month=MONTH, account="900002", configured=True, rent=money("300.50"), free_quota=5, billable=3,
              chargeable=0, message_fee=money("0.045"), fees=money("0.00"), approved_ads=True, ad_messages=4,
              ad_penalty=money("50.00"), penalties=money("0.00"), total=money("300.50")),
    Statement(month=MONTH, account="900003", configured=True, rent=money("100.00"), free_quota=1000, billable=0,
              chargeable=0, message_fee=money("0.05"), fees=money("0.00"), approved_ads=False, ad_messages=0,
              ad_penalty=money("10.00"), penalties=money("0.00"), total=money("100.00")),
    Statement(month=MONTH, account="900008", configured=False, rent=money("0.00"), free_quota=0, billable=0,
              chargeable=0, message_fee=money("0.00"), fees=money("0.00"), approved_ads=False, ad_messages=1,
              ad_penalty=money("0.00"), penalties=money("0.00"), total=money("0.00")),
    Statement(month=MONTH, account="900009", configured=False, rent=money("0.00"), free_quota=0, billable=2,
              chargeable=0, message_fee=money("0.00"), fees=money("0.00"), approved_ads=False, ad_messages=0,
              ad_penalty=money("0.00"), penalties=money("0.00"), total=money("0.00")),
]


# -- months ---------------------------------------------------------------------------------------------------


def test_month_bounds_are_local_midnights() -> None:
    assert month_bounds(MONTH, ZONE) == (NOV_START, NOV_END)
    assert month_bounds("2026-12", ZONE) == (NOV_END, utc("2026-12-31 16:00:00"))
    assert month_bounds("2026-11", "UTC") == (utc("2026-11-01"), utc("2026-12-01"))


def test_a_month_whose_midnight_is_skipped_starts_at_the_days_first_instant() -> None:
    # Paraguay moved its clocks from 2023-10-01 00:00 to 01:00 (-04:00 -> -03:00): midnight did not exist.
    start, _ = month_bounds("2023-10", "America/Asuncion")
    assert start == utc("2023-10-01 04:00:00")
    _, september_end = month_bounds("2023-09", "America/Asuncion")
    assert september_end == start


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "26-11", "2026-1", "2026-11-01", "", "2026/11",
                                   "２０２６-11", "0000-01", "9999-12", " 2026-11"])
def test_malformed_months_are_refused_in_one_line(month: str) -> None:
    with pytest.raises(BillingError, match="month must be YYYY-MM") as caught:
        month_bounds(month, ZONE)
    assert "\n" not in str(caught.value)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(BillingError, match="unknown time zone"):
        month_bounds(MONTH, "Mars/Olympus_Mons")


# -- the hand-computed month ----------------------------------------------------------------------------------


def test_statistics_equal_the_hand_computed_month(month_store: Path, config: Config) -> None:
    assert monthly_statistics(month_store, MONTH, ZONE, accounts=config.accounts) == EXPECTED_STATISTICS


def test_statistics_add_up(month_store: Path, config: Config) -> None:
    for row in monthly_statistics(month_store, MONTH, ZONE, accounts=config.accounts):
        assert row.submitted == row.accepted + row.throttled + row.refused_policy + row.refused_other
        assert row.accepted == row.delivered + row.failed + row.enroute


def test_statistics_without_configured_accounts_put_everything_under_other(month_store: Path) -> None:
    rows = monthly_statistics(month_store, MONTH, ZONE)
    assert {row.service_code for row in rows} == {OTHER}
    assert [row.account for row in rows] == ["900001", "900002", "900009"]
    assert sum(row.accepted for row in rows) == 10 + 3 + 2


def test_statement_equals_the_hand_computed_month(month_store: Path, config: Config) -> None:
    assert billing.statement(month_store, MONTH, config) == EXPECTED_STATEMENTS


def test_neighbouring_months_get_the_boundary_rows(month_store: Path, config: Config) -> None:
    october = {s.account: s for s in billing.statement(month_store, "2026-10", config)}
    december = {s.account: s for s in billing.statement(month_store, "2026-12", config)}
    assert october["900001"].billable == 1 and october["900001"].ad_messages == 1  # 23:59:59 on 31 October
    assert december["900001"].billable == 1 and december["900001"].ad_messages == 5  # 00:00:00 on 1 December
    # October: 1 message within the free quota; 1 x 33.335 -> 33.34
    assert (october["900001"].fees, october["900001"].penalties) == (Decimal("0.00"), Decimal("33.34"))
    assert october["900001"].total == Decimal("533.34")
    # 5 x 33.335 = 166.675 -> 166.68
    assert december["900001"].penalties == Decimal("166.68")


def test_the_same_store_read_in_another_zone_moves_the_boundary_rows(month_store: Path, config: Config) -> None:
    in_utc = dataclasses.replace(config, timezone="UTC")
    by_account = {s.account: s for s in billing.statement(month_store, MONTH, in_utc)}
    # In UTC, row 2 (31 October 16:00:00 UTC) is October and row 12 (30 November 16:00:00 UTC) November; so is the
    # violation of 5 recipients at that instant.
    assert by_account["900001"].billable == 10 - 1 + 1
    assert by_account["900001"].ad_messages == 3 + 5
    accepted = {row.service_code: row.accepted
                for row in monthly_statistics(month_store, MONTH, "UTC", accounts=config.accounts)
                if row.account == "900001"}
    assert accepted == {"10690001": 6 - 1 + 1, "106900011": 3, OTHER: 1}


async def test_the_statement_is_recomputed_from_the_store_every_time(tmp_path: Path, config: Config) -> None:
    """Agreement 4.4: the statement follows the store, also while the gateway keeps writing to it."""
    path = await populate(tmp_path)
    store = await Store.open(tmp_path)
    try:
        before = await asyncio.to_thread(billing.statement, path, MONTH, config)
        await store.insert_messages([message(40, "900001", utc("2026-11-25"), "10690001")])
        after = await asyncio.to_thread(billing.statement, path, MONTH, config)
    finally:
        await store.close()
    assert before[0].billable == 10 and after[0].billable == 11
    assert after[0].fees == Decimal("0.44")  # 8 x 0.055
    assert after[0].total == Decimal("600.45")


# -- the store is read, never written, and through its indexes ---------------------------------------------------


def test_the_store_is_opened_read_only(month_store: Path) -> None:
    with billing._snapshot(month_store) as db, pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM messages")


def test_the_month_queries_use_the_indexes(month_store: Path) -> None:
    plans = billing.explain_month_queries(month_store)
    assert any("SEARCH messages USING INDEX messages_by_account_time" in step for step in plans["messages"])
    assert any("USING COVERING INDEX messages_by_account_time" in step for step in plans["billable"])
    assert any("USING INDEX violations_by_account_time" in step for step in plans["advertising"])
    assert any("USING INDEX events_by_time" in step for step in plans["refused"])
    assert any("USING COVERING INDEX messages_by_account_time" in step for step in plans["message accounts"])
    assert any("USING COVERING INDEX violations_by_account_time" in step for step in plans["violation accounts"])
    for name in ("messages", "billable", "advertising", "refused", "message accounts", "violation accounts"):
        assert not any(step.startswith("SCAN") and "INDEX" not in step for step in plans[name]), (name, plans[name])


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BillingError, match="no store at"):
        monthly_statistics(tmp_path / "smsclab.sqlite", MONTH, ZONE)


@pytest.mark.parametrize("content", [b"", b"not a database at all, just some text" * 100])
def test_a_file_that_is_not_a_store_is_one_line(tmp_path: Path, config: Config, content: bytes) -> None:
    path = tmp_path / "smsclab.sqlite"
    path.write_bytes(content)
    with pytest.raises(BillingError) as caught:
        billing.statement(path, MONTH, config)
    assert "\n" not in str(caught.value)


def test_the_month_is_checked_before_the_store(tmp_path: Path, config: Config) -> None:
    with pytest.raises(BillingError, match="month must be"):
        billing.statement(tmp_path / "nowhere.sqlite", "2026-13", config)


# -- service codes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "expected"), [
    ("10690001", "10690001"), ("1069000188", "10690001"), ("106900011", "106900011"),
    ("1069000115", "106900011"), ("1069000", OTHER), ("", OTHER), ("20690001", OTHER),
])
def test_sql_and_python_agree_on_the_longest_service_code(number: str, expected: str) -> None:
    codes = ("10690001", "106900011")
    assert billing._service_code(codes, number) == expected
    bucket, parameters = billing._bucket_sql(codes)
    with sqlite3.connect(":memory:") as db:
        (found,) = db.execute(f"SELECT {bucket} FROM (SELECT :number AS source)",
                              {**parameters, "number": number}).fetchone()
    assert found == expected


# -- rendering -------------------------------------------------------------------------------------------------


def test_json_keeps_money_exact_as_strings(month_store: Path, config: Config) -> None:
    documents = json.loads(render(EXPECTED_STATEMENTS, "json"))
    assert documents[0] == {
        "month": MONTH, "account": "900001", "configured": True, "rent": "500.00", "free_quota": 3, "billable": 10,
        "chargeable": 7, "message_fee": "0.055", "fees": "0.39", "approved_ads": False, "ad_messages": 3,
        "ad_penalty": "33.335", "penalties": "100.01", "total": "600.40"}
    assert [Decimal(d["total"]) for d in documents] == [s.total for s in EXPECTED_STATEMENTS]


def test_csv_has_a_header_and_the_figures() -> None:
    lines = render(EXPECTED_STATEMENTS, "csv").splitlines()
    assert lines[0] == ("month,account,configured,rent,free_quota,billable,chargeable,message_fee,fees,"
                        "approved_ads,ad_messages,ad_penalty,penalties,total")
    assert lines[1] == "2026-11,900001,yes,500.00,3,10,7,0.055,0.39,no,3,33.335,100.01,600.40"
    assert len(lines) == 1 + len(EXPECTED_STATEMENTS)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "=HYPERLINK(\"http://x\")"])
def test_csv_neutralises_formula_like_text(text: str) -> None:
    row = dataclasses.replace(EXPECTED_STATISTICS[0], account=text, service_code=text)
    rendered = render([row], "csv")
    cells = list(csv.reader(io.StringIO(rendered)))[1]
    assert cells[1] == "'" + text and cells[2] == "'" + text
    assert cells[3:] == [str(getattr(row, f.name)) for f in dataclasses.fields(row)][3:]  # numbers untouched


def test_table_aligns_columns() -> None:
    lines = render(EXPECTED_STATEMENTS, "table").splitlines()
    assert lines[0].split()[:4] == ["month", "account", "configured", "rent"]
    assert len(lines) == 1 + len(EXPECTED_STATEMENTS)
    totals = [line.split()[-1] for line in lines[1:]]
    assert totals == ["600.40", "300.50", "100.00", "0.00", "0.00"]
    right_edges = {len(line) for line in lines}
    assert len(right_edges) == 1  # the last column (total) is numeric, so right-aligned to one edge


def test_empty_reports_render_with_their_columns() -> None:
    assert render([], "json", kind=PortStatistics) == "[]\n"
    assert render([], "csv", kind=PortStatistics).startswith("month,account,service_code,submitted,")
    assert render([], "table", kind=Statement).startswith("(no traffic")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(BillingError, match="format must be one of table, csv, json"):
        render(EXPECTED_STATEMENTS, "xml")
