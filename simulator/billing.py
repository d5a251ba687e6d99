"""Monthly statistics and billing statements per port, recomputed from the store.

What the agreement asks (shared/seed/obligations.md)
----------------------------------------------------
- Clause 2.4: the carrier gives the partner monthly traffic statistics per port, the basis of the fees:
  :func:`monthly_statistics`, one :class:`PortStatistics` per account and service code.
- Clauses 4.2 and 4.3: a monthly port rental, a free quota of messages per month and a fee per message above
  it; clause 3.3: a penalty of 1-100 yuan per advertising message sent without written approval:
  :func:`statement`, one :class:`Statement` per account (a port).
- Clause 4.4: the carrier's billing system is the reference for the counts. Every figure is recomputed from
  the store's rows each time it is asked for, never kept in counters that could drift from them.

Theory of operation
-------------------
A month ``"YYYY-MM"`` is the half-open interval ``[start, end)`` of epoch seconds between midnight of its 1st
and midnight of the next month's 1st in the gateway's time zone (:func:`month_bounds`). Midnight is taken with
``fold=0``: where a clock change skips midnight, the month starts at the first instant of the day; where it
repeats midnight, at its first occurrence. A message at 23:59:59.999 on the last day is in the month, one at
00:00:00 of the 1st is in the next.

Everything is read through one read-only connection (``mode=ro``) inside one read transaction, so that a
statement is a consistent snapshot even while the gateway keeps writing (WAL). The month's rows are found
through the store's indexes: ``messages_by_account_time`` (one range scan per account; the accounts are
enumerated by index seeks, not a table scan), ``violations_by_account_time`` and ``events_by_time``
(:func:`explain_month_queries` shows the plans). The ``mo`` table has no index on its time and is scanned.

A message row is one recipient of one segment, so counting rows counts what clause 4.3 bills: a long message
its segments, a group send its recipients. A row's service code is the longest of its account's service codes
that its ``source`` (Src_Id) starts with, ``"(other)"`` when none does (clause 1.3 breaches accepted in
monitor mode). An MO message is attributed by its destination the same way.

Refused submits are not rows: they come from the audit log's ``submit.refused`` events, which carry the
reason and the number of recipients but not the source. A refusal is attributed by the event's ``source``
when it has one, otherwise to the account's service code when it has exactly one, otherwise to
``"(other)"``. The audit log is subject to retention (clause 3.8), so refusal figures of a month older
than the retention are gone; the statement does not use them.

Money is :class:`decimal.Decimal` in yuan: the configured rates are taken at their decimal spelling
(``0.055`` is exactly 0.055), each line of a statement (rent, message fees, penalties) is rounded once to
the fen with ROUND_HALF_UP, and the total is the sum of the rounded lines.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import sqlite3
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TypeAlias

from simulator.config import Account, Config

__all__ = [
    "FORMATS",
    "OTHER",
    "BillingError",
    "PortStatistics",
    "Statement",
    "explain_month_queries",
    "month_bounds",
    "monthly_statistics",
    "render",
    "statement",
]

#: The service code column of traffic whose source (MO: destination) starts with none of the account's codes.
OTHER = "(other)"
#: The output formats of :func:`render`.
FORMATS = ("table", "csv", "json")

_FEN = Decimal("0.01")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits: \d would also take full-width ones
#: Cells of partner-controlled text that a spreadsheet would take for a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TABLES = ("messages", "mo", "events", "violations")


class BillingError(Exception):
    """A mistake in what was asked for (a month, a zone) or a missing or unreadable store; one line."""


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortStatistics:
    """A month's traffic of one account through one of its service codes (agreement clause 2.4).

    ``submitted`` = ``accepted`` + ``throttled`` + ``refused_policy`` + ``refused_other``, in recipients
    of segments (a refused submit counts the recipients it named). ``accepted`` = ``delivered`` + ``failed``
    + ``enroute``: the outcome of an accepted message is counted when it was known before the month's end
    (DELIVRD is delivered; any other final state, a cancelled message's DELETED included, is failed); the
    rest was still ENROUTE at the end of the month. ``mo_received`` counts MO messages towards the service
    code; ``receipts_sent`` the accepted messages whose receipt was sent at least once (acknowledged,
    awaiting acknowledgement or given up on) and ``receipts_acked`` those the partner acknowledged, as the
    store holds them now.
    """

    month: str
    account: str
    service_code: str
    submitted: int
    accepted: int
    delivered: int
    failed: int
    enroute: int
    throttled: int
    refused_policy: int
    refused_other: int
    mo_received: int
    receipts_sent: int
    receipts_acked: int


@dataclass(frozen=True, slots=True)
class Statement:
    """A month's bill of one port (agreement clauses 4.2, 4.3, 3.3; recomputed from the store, clause 4.4).

    ``billable`` is the account's accepted message rows of the month (segments x recipients);
    ``chargeable`` = max(0, ``billable`` - ``free_quota``); ``fees`` = ``message_fee`` x ``chargeable``;
    ``ad_messages`` the recipients of the month's advertising violations and ``penalties`` =
    ``ad_penalty`` x ``ad_messages`` unless the account has written approval (``approved_ads``);
    ``total`` = ``rent`` + ``fees`` + ``penalties``. ``rent``, ``fees``, ``penalties`` and ``total`` are
    in yuan to the fen; ``message_fee`` and ``ad_penalty`` are the configured rates. ``configured`` is
    false for an account found in the store but absent from the configuration: it is listed with its
    counts and no tariff, so that no traffic goes unseen.
    """

    month: str
    account: str
    configured: bool
    rent: Decimal
    free_quota: int
    billable: int
    chargeable: int
    message_fee: Decimal
    fees: Decimal
    approved_ads: bool
    ad_messages: int
    ad_penalty: Decimal
    penalties: Decimal
    total: Decimal


Report: TypeAlias = Sequence[Statement] | Sequence[PortStatistics]


# ---------------------------------------------------------------------------------------------------------
# Months and money
# ---------------------------------------------------------------------------------------------------------


def month_bounds(month: str, zone: str) -> tuple[float, float]:
    """``[start, end)`` in epoch seconds of ``month`` (``"YYYY-MM"``) in the IANA time zone ``zone``.

    The boundaries are midnight of the 1st of the month and of the next (clause 2.4's month, in the gateway's
    time zone). Raises :class:`BillingError` for a malformed month or an unknown zone.
    """
    match = _MONTH.fullmatch(month)
    if match is None or not 1 <= int(match[2]) <= 12 or not 1 <= int(match[1]) <= 9998:
        raise BillingError(f"month must be YYYY-MM (e.g. 2026-11), got {month!r}")
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BillingError(f"unknown time zone {zone!r}") from None
    year, number = int(match[1]), int(match[2])
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    start = datetime(year, number, 1, tzinfo=tz).timestamp()
    end = datetime(following[0], following[1], 1, tzinfo=tz).timestamp()
    return start, end


def _decimal(value: float) -> Decimal:
    """A configured amount at its decimal spelling (``0.055`` -> ``Decimal("0.055")``), at least to the fen."""
    amount = Decimal(repr(value))
    exponent = amount.as_tuple().exponent
    return amount.quantize(_FEN) if isinstance(exponent, int) and exponent > -2 else amount


def _fen(amount: Decimal) -> Decimal:
    """One statement line rounded to the fen, half up."""
    return amount.quantize(_FEN, rounding=ROUND_HALF_UP)


def _service_code(codes: Sequence[str], number: str) -> str:
    """The longest of ``codes`` that ``number`` starts with, or :data:`OTHER`."""
    return max((code for code in codes if number.startswith(code)), key=len, default=OTHER)


def _refusal_code(codes: Sequence[str], source: object) -> str:
    """A refused submit's service code: by its source if the event names one, else the account's only code."""
    if isinstance(source, str):
        return _service_code(codes, source)
    return codes[0] if len(codes) == 1 else OTHER


# ---------------------------------------------------------------------------------------------------------
# Reading the store
# ---------------------------------------------------------------------------------------------------------

#: One account's messages of a month by service code; ``{bucket}`` is :func:`_bucket_sql`'s CASE.
_MESSAGES_SQL = (
    "SELECT {bucket} AS code, COUNT(*), "
    "COALESCE(SUM(state = 'DELIVRD' AND done_at < :end), 0), "
    "COALESCE(SUM(state != 'DELIVRD' AND done_at < :end), 0), "
    "COALESCE(SUM(receipt_state IN ('sent', 'acked', 'failed')), 0), "
    "COALESCE(SUM(receipt_state = 'acked'), 0) "
    "FROM messages WHERE account = :account AND submitted_at >= :start AND submitted_at < :end GROUP BY code"
)
#: One account's billable rows of a month (clause 4.3): answered from the index alone.
_BILLABLE_SQL = (
    "SELECT COUNT(*) FROM messages WHERE account = :account AND submitted_at >= :start AND submitted_at < :end"
)
#: One account's advertising recipients of a month (clause 3.3).
_ADVERTISING_SQL = (
    "SELECT COALESCE(SUM(recipients), 0) FROM violations "
    "WHERE account = :account AND at >= :start AND at < :end AND rule = 'advertising'"
)
#: Every refused submit of a month, by account, reason and source (when the event names one).
_REFUSED_SQL = (
    "SELECT account, json_extract(detail, '$.reason'), json_extract(detail, '$.source'), "
    "SUM(CAST(COALESCE(json_extract(detail, '$.recipients'), 0) AS INTEGER)) "
    "FROM events WHERE at >= :start AND at < :end AND kind = 'submit.refused' GROUP BY 1, 2, 3"
)
#: Every MO message of a month, by account and destination (no index on mo's time: a scan).
_MO_SQL = "SELECT account, destination, COUNT(*) FROM mo WHERE created_at >= :start AND created_at < :end GROUP BY 1, 2"


def _bucket_sql(codes: Sequence[str]) -> tuple[str, dict[str, object]]:
    """A CASE expression giving a row's service code, the longest matching first, and its parameters."""
    ordered = sorted(set(codes), key=lambda code: (-len(code), code))
    parameters: dict[str, object] = {"other": OTHER}
    whens = []
    for index, code in enumerate(ordered):
        whens.append(f"WHEN substr(source, 1, :len{index}) = :code{index} THEN :code{index}")
        parameters |= {f"len{index}": len(code), f"code{index}": code}
    return (f"CASE {' '.join(whens)} ELSE :other END" if whens else ":other"), parameters


@contextmanager
def _snapshot(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store inside one read transaction (a consistent view of it)."""
    if not db_path.is_file():
        raise BillingError(f"no store at {db_path}")
    try:
        connection = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise BillingError(f"cannot open the store {db_path}: {error}") from None
    with closing(connection):
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("BEGIN")
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        except sqlite3.Error as error:
            raise BillingError(f"cannot read the store {db_path}: {error}") from None
        missing = [table for table in _TABLES if table not in tables]
        if missing:
            raise BillingError(f"{db_path} is not a smsclab store (no table {missing[0]})")
        try:
            yield connection
        except sqlite3.Error as error:
            raise BillingError(f"cannot read the store {db_path}: {error}") from None
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")


def _accounts(db: sqlite3.Connection, table: str) -> list[str]:
    """Every account with a row in ``table`` (messages, violations), by seeks on its (account, time) index.

    One seek per account instead of a scan of the table: ``SELECT DISTINCT`` would read every row.
    """
    assert table in ("messages", "violations"), table  # a constant of ours, never user input
    accounts: list[str] = []
    (current,) = db.execute(f"SELECT MIN(account) FROM {table}").fetchone()
    while current is not None:
        accounts.append(str(current))
        (current,) = db.execute(f"SELECT MIN(account) FROM {table} WHERE account > ?", (current,)).fetchone()
    return accounts


def _ordered_accounts(config_accounts: Iterable[str], others: Iterable[str]) -> list[str]:
    """The configured accounts in their order, then the others found in the store, sorted."""
    known = list(dict.fromkeys(config_accounts))
    return known + sorted(set(others) - set(known))


def _codes(accounts: dict[str, Account], account: str) -> tuple[str, ...]:
    found = accounts.get(account)
    return () if found is None else found.service_codes


# ---------------------------------------------------------------------------------------------------------
# Statistics (clause 2.4)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    accepted: int = 0
    delivered: int = 0
    failed: int = 0
    throttled: int = 0
    refused_policy: int = 0
    refused_other: int = 0
    mo_received: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0

    def is_empty(self) -> bool:
        return not any(dataclasses.astuple(self))


def monthly_statistics(db_path: Path, month: str, zone: str, *,
                       accounts: Sequence[Account] = ()) -> list[PortStatistics]:
    """The month's traffic per account and service code, from the store (agreement clause 2.4; clause 4.4).

    ``accounts`` (the configured ones) give each account its service codes and the order of the report: every
    service code of a configured account is listed, with zeros if idle; traffic of accounts not configured
    is listed under :data:`OTHER`. Rows are sorted by account (configured first) and service code.
    """
    start, end = month_bounds(month, zone)
    by_id = {account.id: account for account in accounts}
    tallies: dict[str, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for configured in accounts:
        for code in configured.service_codes:
            tallies[configured.id][code] = _Tally()
    window = {"start": start, "end": end}
    with _snapshot(db_path) as db:
        for account in _accounts(db, "messages"):
            bucket, parameters = _bucket_sql(_codes(by_id, account))
            rows = db.execute(_MESSAGES_SQL.format(bucket=bucket), {**window, **parameters, "account": account})
            for code, accepted, delivered, failed, sent, acked in rows:
                tally = tallies[account][str(code)]
                tally.accepted, tally.delivered, tally.failed = int(accepted), int(delivered), int(failed)
                tally.receipts_sent, tally.receipts_acked = int(sent), int(acked)
        for refused_by, reason, source, recipients in db.execute(_REFUSED_SQL, window):
            if refused_by is None:
                continue  # the gateway names the account of every refusal; an event without one is not a port's
            tally = tallies[str(refused_by)][_refusal_code(_codes(by_id, str(refused_by)), source)]
            if reason == "throttled":
                tally.throttled += int(recipients)
            elif isinstance(reason, str) and reason.startswith("policy:"):
                tally.refused_policy += int(recipients)
            else:
                tally.refused_other += int(recipients)
        for receiver, destination, count in db.execute(_MO_SQL, window):
            code = _service_code(_codes(by_id, str(receiver)), str(destination))
            tallies[str(receiver)][code].mo_received += int(count)
    result = []
    for account_id in _ordered_accounts(by_id, tallies):
        tariff = by_id.get(account_id)
        for code in sorted(tallies[account_id], key=lambda code: (code == OTHER, code)):
            tally = tallies[account_id][code]
            if tally.is_empty() and (tariff is None or code not in tariff.service_codes):
                continue
            refused = tally.throttled + tally.refused_policy + tally.refused_other
            result.append(PortStatistics(
                month=month, account=account_id, service_code=code, submitted=tally.accepted + refused,
                accepted=tally.accepted, delivered=tally.delivered, failed=tally.failed,
                enroute=tally.accepted - tally.delivered - tally.failed, throttled=tally.throttled,
                refused_policy=tally.refused_policy, refused_other=tally.refused_other,
                mo_received=tally.mo_received, receipts_sent=tally.receipts_sent,
                receipts_acked=tally.receipts_acked))
    return result


# ---------------------------------------------------------------------------------------------------------
# Statements (clauses 4.2, 4.3, 3.3, 4.4)
# ---------------------------------------------------------------------------------------------------------


def _bill(month: str, account: str, tariff: Account | None, billable: int, ad_messages: int) -> Statement:
    """One port's statement from its counts; ``tariff`` is ``None`` for an account not configured."""
    if tariff is None:
        zero = Decimal("0.00")
        return Statement(month=month, account=account, configured=False, rent=zero, free_quota=0,
                         billable=billable, chargeable=0, message_fee=zero, fees=zero, approved_ads=False,
                         ad_messages=ad_messages, ad_penalty=zero, penalties=zero, total=zero)
    rent = _fen(_decimal(tariff.rent))
    chargeable = max(0, billable - tariff.free_quota)
    message_fee = _decimal(tariff.message_fee)
    fees = _fen(message_fee * chargeable)
    ad_penalty = _decimal(tariff.ad_penalty)
    penalties = Decimal("0.00") if tariff.approved_ads else _fen(ad_penalty * ad_messages)
    return Statement(month=month, account=account, configured=True, rent=rent, free_quota=tariff.free_quota,
                     billable=billable, chargeable=chargeable, message_fee=message_fee, fees=fees,
                     approved_ads=tariff.approved_ads, ad_messages=ad_messages, ad_penalty=ad_penalty,
                     penalties=penalties, total=rent + fees + penalties)


def statement(db_path: Path, month: str, config: Config) -> list[Statement]:
    """Every port's bill for ``month`` in ``config.timezone``, recomputed from the store (clause 4.4).

    One :class:`Statement` per configured account, in configuration order (an idle port still owes its rent,
    clause 4.2), then one per account found in the store with billable messages or advertising violations in
    the month but absent from the configuration (``configured`` false, no tariff).
    """
    start, end = month_bounds(month, config.timezone)
    window = {"start": start, "end": end}
    tariffs = {account.id: account for account in config.accounts}
    with _snapshot(db_path) as db:
        candidates = _ordered_accounts(tariffs, [*_accounts(db, "messages"), *_accounts(db, "violations")])
        result = []
        for account in candidates:
            (billable,) = db.execute(_BILLABLE_SQL, {**window, "account": account}).fetchone()
            (ad_messages,) = db.execute(_ADVERTISING_SQL, {**window, "account": account}).fetchone()
            tariff = tariffs.get(account)
            if tariff is None and not billable and not ad_messages:
                continue
            result.append(_bill(month, account, tariff, int(billable), int(ad_messages)))
    return result


def explain_month_queries(db_path: Path) -> dict[str, list[str]]:
    """The query plan (EXPLAIN QUERY PLAN details) of each month query, keyed by what it reads.

    For checking that the per-account month queries stay on the store's indexes (issue 7: ten million rows).
    """
    parameters: dict[str, object] = {"start": 0.0, "end": 1.0, "account": ""}
    bucket, bucket_parameters = _bucket_sql(("1069", "10690001"))
    queries = {
        "messages": (_MESSAGES_SQL.format(bucket=bucket), {**parameters, **bucket_parameters}),
        "billable": (_BILLABLE_SQL, parameters),
        "advertising": (_ADVERTISING_SQL, parameters),
        "refused": (_REFUSED_SQL, parameters),
        "mo": (_MO_SQL, parameters),
        "message accounts": ("SELECT MIN(account) FROM messages WHERE account > :account", parameters),
        "violation accounts": ("SELECT MIN(account) FROM violations WHERE account > :account", parameters),
    }
    with _snapshot(db_path) as db:
        return {name: [str(row[-1]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", values)]
                for name, (sql, values) in queries.items()}


# ---------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------

_Cell = str | int | bool | Decimal


def _fields(kind: type[Statement] | type[PortStatistics]) -> list[str]:
    return [item.name for item in dataclasses.fields(kind)]


def _text(value: _Cell) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _csv_cell(value: _Cell) -> str:
    """A cell as CSV text; partner-controlled text that looks like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return _text(value)


def _json_value(value: _Cell) -> str | int | bool:
    return str(value) if isinstance(value, Decimal) else value


def render(report: Report, fmt: str, *, kind: type[Statement] | type[PortStatistics] | None = None) -> str:
    """``report`` (statements or statistics) as ``fmt``: ``"table"``, ``"csv"`` or ``"json"``.

    The columns are the dataclass fields, in order. CSV cells of text starting with ``= + - @`` (or a tab or
    carriage return) are prefixed with an apostrophe, since account ids and service codes come from partners
    and a spreadsheet would run them as formulas. JSON is a list of objects with money as strings (exact).
    ``kind`` names the columns of an empty report. The text ends with a newline.
    """
    if fmt not in FORMATS:
        raise BillingError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if report:
        kind = type(report[0])
    columns = [] if kind is None else _fields(kind)
    rows: list[list[_Cell]] = [[getattr(item, name) for name in columns] for item in report]
    if fmt == "json":
        documents = [{name: _json_value(value) for name, value in zip(columns, row, strict=True)} for row in rows]
        return json.dumps(documents, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
        return buffer.getvalue()
    return _table(columns, rows)


def _table(columns: list[str], rows: list[list[_Cell]]) -> str:
    """Aligned columns for a terminal: numbers to the right, text to the left; a note when there are no rows."""
    if not rows:
        return "(no traffic and no accounts in this month)\n"
    header = [name.replace("_", " ") for name in columns]
    texts = [[_text(value) for value in row] for row in rows]
    numeric = [all(isinstance(row[i], int | Decimal) and not isinstance(row[i], bool) for row in rows)
               for i in range(len(columns))]
    widths = [max(len(line[i]) for line in (header, *texts)) for i in range(len(columns))]
    lines = []
    for line in (header, *texts):
        cells = [cell.rjust(width) if right else cell.ljust(width)
                 for cell, width, right in zip(line, widths, numeric, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
