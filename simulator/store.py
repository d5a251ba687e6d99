"""Durable record of everything the gateway promised: messages, receipts, MO messages, audit events.

Theory of operation
-------------------
A submit response is a promise that the message is on disk (reliability.md §4.1), so every write that
gates a response is committed with ``synchronous=FULL`` in WAL mode before the caller's future resolves.
Committing once per message would cap the gateway at the disk's fsync rate, so writes are *group
committed*: one writer thread takes every operation queued while the previous commit was running, applies
them in one transaction, commits once, and only then resolves their futures on the event loop (one wake-up of
the loop per commit). Under load a commit carries hundreds of messages; when idle it carries one and costs one
fsync. While traffic flows a commit waits 1 ms for company, since a commit's cost hardly depends on its size.

What nobody waits for (audit events, violations, receipt and MO states) is appended to a queue of rows instead,
in order, and rides in the next commit. Rows go to SQLite as multi-row statements, not ``executemany``:
sqlite3 gives the GIL back at every step, and winning it back from a busy event loop can take a switch interval.

Reads run on their own connections in worker threads (WAL lets them proceed during a commit), so the
event loop never blocks on SQLite.
"""

from __future__ import annotations

import asyncio
import collections
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["MessageRow", "MoRow", "Store", "StoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,              -- allocated by the gateway; also the SMPP message_id's number
    message_id TEXT NOT NULL,            -- the id the partner saw: SMPP message_id, CMPP Msg_Id in decimal
    account TEXT NOT NULL,
    protocol TEXT NOT NULL,
    session TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    data_coding INTEGER NOT NULL,
    content BLOB NOT NULL,               -- the segment as received, UDH included
    text TEXT NOT NULL,                  -- the segment's text, decoded by its data coding
    message_text TEXT,                   -- the whole reassembled text, on the segment that completed it
    segment_ref INTEGER,
    segment_total INTEGER NOT NULL,
    segment_number INTEGER NOT NULL,
    registered_delivery INTEGER NOT NULL,
    service_id TEXT NOT NULL,
    state TEXT NOT NULL,                 -- final state once done_at has passed: DELIVRD, UNDELIV, ...
    err INTEGER NOT NULL,
    done_at REAL NOT NULL,               -- when the (simulated) handset outcome happens
    receipt_state TEXT NOT NULL,         -- none | pending | sent | acked | failed
    receipt_due REAL,                    -- next time the receipt dispatcher looks at this row
    receipt_attempts INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_by_id ON messages(message_id);
CREATE INDEX IF NOT EXISTS messages_by_account_time ON messages(account, submitted_at);
CREATE INDEX IF NOT EXISTS messages_by_destination ON messages(destination);
CREATE INDEX IF NOT EXISTS receipts_due ON messages(receipt_due) WHERE receipt_state IN ('pending', 'sent');

CREATE TABLE IF NOT EXISTS mo (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    data_coding INTEGER NOT NULL,
    content BLOB NOT NULL,
    udhi INTEGER NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,                 -- pending | sent | acked | failed
    due REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mo_due ON mo(due) WHERE state IN ('pending', 'sent');
CREATE INDEX IF NOT EXISTS mo_by_account_time ON mo(account, created_at);

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    account TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL                 -- JSON; numbers masked by the caller
);
CREATE INDEX IF NOT EXISTS events_by_time ON events(at);

CREATE TABLE IF NOT EXISTS violations (  -- kept apart from the audit log: billing penalties outlive its retention
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    account TEXT NOT NULL,
    session TEXT NOT NULL,
    rule TEXT NOT NULL,
    mode TEXT NOT NULL,                  -- monitor | enforce
    recipients INTEGER NOT NULL,
    evidence TEXT NOT NULL               -- JSON; numbers masked by the caller
);
CREATE INDEX IF NOT EXISTS violations_by_account_time ON violations(account, at);

CREATE TABLE IF NOT EXISTS subscribers (
    account TEXT NOT NULL,
    number TEXT NOT NULL,
    since REAL NOT NULL,
    origin TEXT NOT NULL,                -- api | csv | config
    PRIMARY KEY (account, number)
);

CREATE TABLE IF NOT EXISTS notices (     -- agreement clauses 2.9, 2.10: what partners were told, and when
    id TEXT PRIMARY KEY,                 -- the key of the announced event: a notice is never published twice
    kind TEXT NOT NULL,                  -- maintenance | fault | notice
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    starts_at REAL,                      -- the interruption's start; NULL: unknown
    ends_at REAL,                        -- its expected end; NULL: unknown
    accounts TEXT NOT NULL,              -- JSON array of account ids; ["*"]: every account
    text TEXT NOT NULL,
    published_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_by_time ON notices(published_at);

CREATE TABLE IF NOT EXISTS notice_deliveries (
    notice_id TEXT NOT NULL,
    account TEXT NOT NULL,
    channel TEXT NOT NULL,               -- feed | webhook | inband
    status TEXT NOT NULL,                -- delivered | failed | retrying
    attempts INTEGER NOT NULL,
    error TEXT,                          -- the last attempt's failure; never a URL
    at REAL NOT NULL,                    -- the last attempt's outcome
    PRIMARY KEY (notice_id, account, channel)
);
"""


class StoreError(Exception):
    """The store could not persist; nothing that depended on it may be acknowledged."""


class MessageRow(NamedTuple):
    """One MT message to one recipient (a group send is one row per recipient, a long one per segment).

    A named tuple in column order rather than a dataclass: one is made for every accepted message, and a
    tuple is built in C and goes to the INSERT as it is."""

    id: int
    message_id: str
    account: str
    protocol: str
    session: str
    submitted_at: float
    source: str
    destination: str
    data_coding: int
    content: bytes
    text: str
    message_text: str | None
    segment_ref: int | None
    segment_total: int
    segment_number: int
    registered_delivery: int
    service_id: str
    state: str
    err: int
    done_at: float
    receipt_state: str
    receipt_due: float | None
    receipt_attempts: int = 0
    cancelled: int = 0


class MoRow(NamedTuple):
    """A mobile-originated message on its way to the partner that owns its destination (a named tuple in column
    order, like :class:`MessageRow`)."""

    id: int
    account: str
    source: str
    destination: str
    data_coding: int
    content: bytes
    udhi: int
    created_at: float
    state: str
    due: float | None
    attempts: int = 0


_MESSAGE_COLUMNS = MessageRow._fields
_MO_COLUMNS = MoRow._fields
class _Rows:
    """A statement that writes a batch of rows with few executions: ``head``, then ``VALUES`` groups of ``width``
    parameters (``tail`` after them), as many rows per execution as the fixed chunk sizes allow.

    Why not ``executemany``: sqlite3 gives the GIL back around every step, so each row costs the writer a fresh
    wait for the GIL, up to a switch interval (5 ms) while the event loop is busy. One statement for many rows
    costs one wait (bench/README.md: 64 rows in 420 ms against 19 ms with a busy thread next to it). The chunk
    sizes are fixed so that sqlite3's statement cache holds every variant."""

    _CHUNKS = (256, 32, 4, 1)  # 256 rows x 25 columns stay well under SQLite's 32,766 parameters

    def __init__(self, head: str, width: int, tail: str = "") -> None:
        group = f"({', '.join('?' * width)})"
        self._statements = {size: head + ", ".join([group] * size) + tail for size in self._CHUNKS}

    def run(self, db: sqlite3.Connection, rows: Sequence[Sequence[object]]) -> None:
        start = 0
        for size in self._CHUNKS:
            while len(rows) - start >= size:
                db.execute(self._statements[size], [value for row in rows[start:start + size] for value in row])
                start += size


_MESSAGES = _Rows(f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) VALUES ", len(_MESSAGE_COLUMNS))
_MO = _Rows(f"INSERT INTO mo ({', '.join(_MO_COLUMNS)}) VALUES ", len(_MO_COLUMNS))
# Updates by id from a VALUES list (SQLite >= 3.33, checked by Store.open): one change per row and commit.
_SQLITE_NEEDED = (3, 33, 0)
_RECEIPT_STATES = _Rows("UPDATE messages SET receipt_state = v.column1, receipt_due = v.column2, receipt_attempts = "
                        "v.column3 FROM (VALUES ", 4, ") AS v WHERE messages.id = v.column4")
_MO_STATES = _Rows("UPDATE mo SET state = v.column1, due = v.column2, attempts = v.column3 FROM (VALUES ", 4,
                   ") AS v WHERE mo.id = v.column4")
_EVENTS = _Rows("INSERT INTO events (at, account, kind, detail) VALUES ", 4)
_VIOLATIONS = _Rows("INSERT INTO violations (at, account, session, rule, mode, recipients, evidence) VALUES ", 7)
#: The batched statements whose rows are keyed by the row id they change (the last value of the last element).
_UPDATES = (_RECEIPT_STATES, _MO_STATES)
#: JSON for the detail and evidence columns; one encoder, not one per call as ``json.dumps`` with options makes.
_to_json: Callable[[object], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

_Operation = Callable[[sqlite3.Connection], Any]
#: How long a commit waits for more work when the previous one ended less than _FLOWING seconds before.
_GATHER_SECONDS = 0.001
_FLOWING = 0.005


def _wake_only(db: sqlite3.Connection) -> None:
    """Wakes the writer so that queued audit events get committed."""


class Store:
    """The sqlite store of one simulator; see the module docstring. Use :meth:`open`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[tuple[_Operation, asyncio.Future[Any] | None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._local = threading.local()
        #: Audit events, violations and delivery states waiting for the next commit, as (statement, values):
        #: appended by the loop, drained by the writer (a deque, so that both may touch it at once without
        #: losing a row), applied in order within each statement.
        self._appends: collections.deque[tuple[_Rows, tuple[object, ...]]] = collections.deque()
        #: Commits done and operations they carried (figures for /metrics and the benchmarks).
        self.commits = 0
        self.committed_operations = 0
        self.last_commit_seconds = 0.0

    @classmethod
    async def open(cls, directory: Path) -> Store:
        """Open (creating if needed) ``directory/smsclab.sqlite`` and start the writer thread."""
        if sqlite3.sqlite_version_info < _SQLITE_NEEDED:
            raise StoreError(f"SQLite {'.'.join(map(str, _SQLITE_NEEDED))} or newer is needed (UPDATE ... FROM); "
                             f"this Python has {sqlite3.sqlite_version}")
        directory.mkdir(parents=True, exist_ok=True)
        store = cls(directory / "smsclab.sqlite")
        store._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = store._loop.create_future()
        store._thread = threading.Thread(target=store._writer, args=(ready,), name="smsclab-store", daemon=True)
        store._thread.start()
        await ready
        return store

    async def close(self) -> None:
        """Commit what is queued and stop the writer."""
        if self._thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    # -- writes (durable when they return) -------------------------------------------------------

    # Every write returns a future that resolves once the change is on disk (or fails with StoreError).
    # Awaiting it is the common use; the drivers instead attach a callback, so that a whole read's worth of
    # submits is answered without a task per PDU.

    def insert_messages(self, rows: Sequence[MessageRow]) -> asyncio.Future[None]:
        """Persist accepted messages."""
        values = list(rows)  # each row is its values in column order; the list is the caller's no more
        return self._enqueue(lambda db: _MESSAGES.run(db, values))

    def insert_mo(self, rows: Sequence[MoRow]) -> asyncio.Future[None]:
        """Persist MO messages waiting for their partner."""
        values = list(rows)
        return self._enqueue(lambda db: _MO.run(db, values))

    def set_receipt(self, message_rowid: int, state: str, due: float | None, attempts: int) -> None:
        """Record what happened to a message's receipt (sent, acked, failed) and when to look again.

        Queued like an audit row, in order with the other receipt changes (a receipt's "sent" always lands
        before its "acked"); :meth:`flush` waits for it."""
        self._append(_RECEIPT_STATES, (state, due, attempts, message_rowid))

    def set_mo(self, mo_rowid: int, state: str, due: float | None, attempts: int) -> None:
        """Record what happened to an MO message's delivery (queued like :meth:`set_receipt`)."""
        self._append(_MO_STATES, (state, due, attempts, mo_rowid))

    def bring_forward(self, account: str) -> asyncio.Future[None]:
        """Make due again what was put off because no session of ``account`` could receive it: receipts and MO
        never sent yet whose next look was pushed past their own due time."""
        def run(db: sqlite3.Connection) -> None:
            db.execute("UPDATE messages SET receipt_due = done_at WHERE account = ? AND receipt_state = 'pending' "
                       "AND receipt_due > done_at", (account,))
            db.execute("UPDATE mo SET due = created_at WHERE account = ? AND state = 'pending' AND due > created_at",
                       (account,))
        return self._enqueue(run)

    def cancel_message(self, message_rowid: int, at: float) -> asyncio.Future[None]:
        """Mark a message deleted before delivery (SMPP cancel_sm, CMPP_CANCEL): no receipt will follow."""
        return self._enqueue(lambda db: db.execute(
            "UPDATE messages SET cancelled = 1, state = 'DELETED', done_at = ?, receipt_state = "
            "CASE WHEN receipt_state = 'pending' THEN 'none' ELSE receipt_state END WHERE id = ?",
            (at, message_rowid)))

    def replace_message(self, message_rowid: int, content: bytes, text: str) -> asyncio.Future[None]:
        """Replace a pending message's content (SMPP replace_sm)."""
        return self._enqueue(lambda db: db.execute(
            "UPDATE messages SET content = ?, text = ?, message_text = ? WHERE id = ?",
            (content, text, text, message_rowid)))

    def record_violation(self, at: float, *, account: str, session: str, rule: str, mode: str, recipients: int,
                         evidence: Mapping[str, object]) -> None:
        """Queue a policy violation with its evidence; like an audit event it rides in the next commit and
        nobody waits for it (a monitored rule can breach on every submit: it must cost no more than a row)."""
        self._append(_VIOLATIONS, (at, account, session, rule, mode, recipients, _to_json(evidence)))

    def set_subscribers(self, account: str, numbers: Sequence[str], *, subscribed: bool, at: float,
                        origin: str) -> asyncio.Future[None]:
        """Add (or remove) subscribers of an account."""
        if subscribed:
            return self._enqueue(lambda db: db.executemany(
                "INSERT OR IGNORE INTO subscribers (account, number, since, origin) VALUES (?, ?, ?, ?)",
                [(account, number, at, origin) for number in numbers]))
        return self._enqueue(lambda db: db.executemany(
            "DELETE FROM subscribers WHERE account = ? AND number = ?", [(account, number) for number in numbers]))

    def delete_events_before(self, cutoff: float) -> asyncio.Future[None]:
        """Drop audit events older than ``cutoff`` (the retention job; agreement clause 3.8)."""
        return self._enqueue(lambda db: db.execute("DELETE FROM events WHERE at < ?", (cutoff,)))

    def record_event(self, at: float, kind: str, account: str | None, detail: dict[str, object]) -> None:
        """Queue an audit event; it is committed with the next group (one INSERT for all of them), nobody
        waits for it."""
        self._append(_EVENTS, (at, account, kind, _to_json(detail)))

    def _append(self, statement: _Rows, values: tuple[object, ...]) -> None:
        if not self._appends:  # the first row since the last commit wakes the writer
            self._queue.put((_wake_only, None))
        self._appends.append((statement, values))

    # -- reads ----------------------------------------------------------------------------------------

    async def subscribers(self) -> list[tuple[str, str]]:
        """Every (account, number) subscription."""
        return [(str(a), str(n)) for a, n in await self._read("SELECT account, number FROM subscribers", ())]

    async def violations(self, *, account: str | None = None, since: float | None = None,
                         until: float | None = None, rule: str | None = None,
                         limit: int = 1000) -> list[dict[str, object]]:
        """Recorded policy violations, oldest first."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        for clause, value in (("account = ?", account), ("at >= ?", since), ("at < ?", until), ("rule = ?", rule)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        rows = await self._read("SELECT at, account, session, rule, mode, recipients, evidence FROM violations "
                                f"WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?", (*params, limit))
        return [{"at": at, "account": acc, "session": session, "rule": r, "mode": mode, "recipients": recipients,
                 "evidence": json.loads(evidence)} for at, acc, session, r, mode, recipients, evidence in rows]

    async def max_ids(self) -> tuple[int, int]:
        """The highest message and MO row ids, so that ids stay unique across restarts."""
        row = await self._read("SELECT (SELECT COALESCE(MAX(id), 0) FROM messages), "
                               "(SELECT COALESCE(MAX(id), 0) FROM mo)", ())
        return int(row[0][0]), int(row[0][1])

    async def due_receipts(self, now: float, limit: int = 500, *,
                           skip_accounts: Sequence[str] = ()) -> list[MessageRow]:
        """Messages whose receipt is due to be sent (again) by ``now``, oldest first, but none of the accounts
        in ``skip_accounts`` (whose sessions can take nothing now: their backlog must not hide the others')."""
        skip, skipped = _skipping(skip_accounts)
        rows = await self._read(
            f"SELECT {', '.join(_MESSAGE_COLUMNS)} FROM messages WHERE receipt_state IN ('pending', 'sent') "
            f"AND receipt_due <= ?{skip} ORDER BY receipt_due LIMIT ?", (now, *skipped, limit))
        return [MessageRow(*row) for row in rows]

    async def next_receipt_due(self, skip_accounts: Sequence[str] = ()) -> float | None:
        """When the earliest pending receipt falls due, leaving out ``skip_accounts``."""
        skip, skipped = _skipping(skip_accounts)
        rows = await self._read(
            f"SELECT MIN(receipt_due) FROM messages WHERE receipt_state IN ('pending', 'sent'){skip}", skipped)
        return None if rows[0][0] is None else float(rows[0][0])

    async def due_mo(self, now: float, limit: int = 500, *, skip_accounts: Sequence[str] = ()) -> list[MoRow]:
        """MO messages due to be offered (again) by ``now``, none of ``skip_accounts`` (as :meth:`due_receipts`)."""
        skip, skipped = _skipping(skip_accounts)
        rows = await self._read(f"SELECT {', '.join(_MO_COLUMNS)} FROM mo WHERE state IN ('pending', 'sent') "
                                f"AND due <= ?{skip} ORDER BY due LIMIT ?", (now, *skipped, limit))
        return [MoRow(*row) for row in rows]

    async def next_mo_due(self, skip_accounts: Sequence[str] = ()) -> float | None:
        """When the earliest pending MO falls due, leaving out ``skip_accounts``."""
        skip, skipped = _skipping(skip_accounts)
        rows = await self._read(f"SELECT MIN(due) FROM mo WHERE state IN ('pending', 'sent'){skip}", skipped)
        return None if rows[0][0] is None else float(rows[0][0])

    async def find_message(self, account: str, message_id: str) -> MessageRow | None:
        """The latest message of ``account`` with the id the partner was given."""
        rows = await self._read(f"SELECT {', '.join(_MESSAGE_COLUMNS)} FROM messages WHERE message_id = ? "
                                "AND account = ? ORDER BY id DESC LIMIT 1", (message_id, account))
        return MessageRow(*rows[0]) if rows else None

    async def search_messages(self, *, account: str | None = None, number: str | None = None,
                              message_id: str | None = None, since: float | None = None,
                              until: float | None = None, limit: int = 100) -> list[MessageRow]:
        """Messages matching every given criterion, newest first."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        for clause, value in (("account = ?", account), ("message_id = ?", message_id),
                              ("submitted_at >= ?", since), ("submitted_at < ?", until)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if number is not None:
            clauses.append("(destination = ? OR source = ?)")
            params += [number, number]
        rows = await self._read(f"SELECT {', '.join(_MESSAGE_COLUMNS)} FROM messages WHERE {' AND '.join(clauses)} "
                                "ORDER BY id DESC LIMIT ?", (*params, limit))
        return [MessageRow(*row) for row in rows]

    async def mt_counters(self, account: str, since: float, until: float, now: float,
                          service_id: str | None = None) -> dict[str, int]:
        """CMPP_QUERY counters of MT traffic in [since, until) (CMPP 3.0 §8.4.4.2), as of ``now``."""
        service_clause = "" if service_id is None else " AND service_id = ?"
        params: tuple[object, ...] = (now, now, now, account, since, until)
        if service_id is not None:
            params = (*params, service_id)
        rows = await self._read(
            "SELECT COUNT(*), COUNT(DISTINCT destination), "
            "SUM(done_at <= ? AND state = 'DELIVRD'), SUM(done_at > ?), SUM(done_at <= ? AND state != 'DELIVRD') "
            f"FROM messages WHERE account = ? AND submitted_at >= ? AND submitted_at < ?{service_clause}", params)
        total, users, ok, waiting, failed = (int(value or 0) for value in rows[0])
        return {"mt_tlmsg": total, "mt_tlusr": users, "mt_scs": ok, "mt_wt": waiting, "mt_fl": failed}

    async def mo_counters(self, account: str, since: float, until: float) -> dict[str, int]:
        """CMPP_QUERY counters of MO traffic towards ``account`` in [since, until)."""
        rows = await self._read(
            "SELECT SUM(state = 'acked'), SUM(state IN ('pending', 'sent')), SUM(state = 'failed') "
            "FROM mo WHERE account = ? AND created_at >= ? AND created_at < ?", (account, since, until))
        ok, waiting, failed = (int(value or 0) for value in rows[0])
        return {"mo_scs": ok, "mo_wt": waiting, "mo_fl": failed}

    async def events(self, *, since: float | None = None, kind: str | None = None,
                     limit: int = 1000) -> list[dict[str, object]]:
        """Audit events, oldest first."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        if since is not None:
            clauses.append("at >= ?")
            params.append(since)
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        await self.flush()
        rows = await self._read(f"SELECT at, account, kind, detail FROM events WHERE {' AND '.join(clauses)} "
                                "ORDER BY id LIMIT ?", (*params, limit))
        return [{"at": at, "account": account, "kind": kind, "detail": json.loads(detail)}
                for at, account, kind, detail in rows]

    def flush(self) -> asyncio.Future[None]:
        """Resolves once everything queued so far is committed."""
        return self._enqueue(lambda db: None)

    # -- notices (agreement clauses 2.9, 2.10; simulator/notices.py) --------------------------------------

    async def add_notice(self, notice_id: str, *, kind: str, title: str, reason: str, start: float | None,
                         end: float | None, accounts: Sequence[str], text: str, published_at: float) -> bool:
        """Persist a notice unless one with its id exists; ``True`` when this call stored it (atomically, so
        two publishers of the same event cannot both win)."""
        inserted: list[bool] = []
        values = (notice_id, kind, title, reason, start, end, json.dumps(list(accounts), ensure_ascii=False), text,
                  published_at)
        await self._enqueue(lambda db: inserted.append(db.execute(
            "INSERT OR IGNORE INTO notices (id, kind, title, reason, starts_at, ends_at, accounts, text, "
            "published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values).rowcount == 1))
        return inserted == [True]

    def record_notice_delivery(self, notice_id: str, account: str, channel: str, *, status: str, attempts: int,
                               error: str | None, at: float) -> asyncio.Future[None]:
        """Record where one channel's delivery of a notice to one account stands after an attempt."""
        return self._enqueue(lambda db: db.execute(
            "INSERT INTO notice_deliveries (notice_id, account, channel, status, attempts, error, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice_id, account, channel) DO UPDATE SET "
            "status = excluded.status, attempts = excluded.attempts, error = excluded.error, at = excluded.at",
            (notice_id, account, channel, status, attempts, error, at)))

    async def notices(self, *, notice_id: str | None = None, account: str | None = None, since: float | None = None,
                      limit: int = 1000) -> list[dict[str, object]]:
        """Published notices, newest first; ``account`` matches those addressed to it or to every account."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        if notice_id is not None:
            clauses.append("id = ?")
            params.append(notice_id)
        if account is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(notices.accounts) WHERE value IN (?, '*'))")
            params.append(account)
        if since is not None:
            clauses.append("published_at >= ?")
            params.append(since)
        rows = await self._read("SELECT id, kind, title, reason, starts_at, ends_at, accounts, text, published_at "
                                f"FROM notices WHERE {' AND '.join(clauses)} "
                                "ORDER BY published_at DESC, rowid DESC LIMIT ?", (*params, limit))
        return [{"id": nid, "kind": kind, "title": title, "reason": reason, "start": start, "end": end,
                 "accounts": json.loads(accounts), "text": text, "published_at": published_at}
                for nid, kind, title, reason, start, end, accounts, text, published_at in rows]

    async def notice_deliveries(self, notice_ids: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        """The delivery rows of each of ``notice_ids`` (by account, then feed, webhook, inband)."""
        rows = await self._read(
            "SELECT notice_id, account, channel, status, attempts, error, at FROM notice_deliveries "
            "WHERE notice_id IN (SELECT value FROM json_each(?)) ORDER BY notice_id, account, "
            "CASE channel WHEN 'feed' THEN 0 WHEN 'webhook' THEN 1 ELSE 2 END", (json.dumps(list(notice_ids)),))
        found: dict[str, list[dict[str, object]]] = {}
        for nid, account, channel, status, attempts, error, at in rows:
            found.setdefault(nid, []).append({"account": account, "channel": channel, "status": status,
                                              "attempts": attempts, "error": error, "at": at})
        return found

    # -- machinery ----------------------------------------------------------------------------------

    def _enqueue(self, operation: _Operation) -> asyncio.Future[None]:
        if self._thread is None or self._loop is None:
            raise StoreError("store is closed")
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put((operation, future))
        return future

    async def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._read_sync, sql, params)

    def _read_sync(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 5000")
            self._local.connection = connection
        return connection.execute(sql, params).fetchall()

    def _writer(self, ready: asyncio.Future[None]) -> None:
        assert self._loop is not None
        loop = self._loop
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode = WAL")
            # FULL: the WAL is fsynced at every commit, so an acknowledged message survives an OS crash too.
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA busy_timeout = 5000")
            db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            loop.call_soon_threadsafe(ready.set_exception, StoreError(f"{self.path}: {error}"))
            return
        loop.call_soon_threadsafe(ready.set_result, None)
        stopping = False
        last_commit = 0.0
        while not stopping:
            batch = [self._queue.get()]
            if time.monotonic() - last_commit < _FLOWING:
                # Traffic is flowing: let this commit wait a moment for company. A commit costs about 0.2-0.3 ms
                # of CPU whatever it carries (WAL pages, fsync), and paced traffic brings a few rows per commit:
                # at 7,000 submits/s, 1 ms here took the server from 92-98% of a core to 81-92% and the p99 from
                # 8.7-12.3 ms to 7.0-9.8 ms (three interleaved pairs of runs). After a quiet spell the first write
                # commits at once.
                time.sleep(_GATHER_SECONDS)
            while True:  # everything that queued up during the last commit rides in this one
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = None in batch
            work = [item for item in batch if item is not None]
            if work:
                self._commit(db, work, loop)
                last_commit = time.monotonic()
        db.close()

    def _commit(self, db: sqlite3.Connection, work: list[tuple[_Operation, asyncio.Future[Any] | None]],
                loop: asyncio.AbstractEventLoop) -> None:
        # The commit cost is a real-time figure for /metrics, not simulated time.
        started = time.perf_counter()
        outcome: BaseException | None = None
        try:
            db.execute("BEGIN IMMEDIATE")
            for operation, _ in work:
                operation(db)
            appended: dict[_Rows, list[tuple[object, ...]]] = {}
            while self._appends:
                statement, values = self._appends.popleft()
                appended.setdefault(statement, []).append(values)
            for statement, rows in appended.items():
                # An update applies one change per row, the last: a receipt's "acked" after its "sent".
                statement.run(db, list({row[-1]: row for row in rows}.values()) if statement in _UPDATES else rows)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            outcome = StoreError(f"commit failed: {error}")
            if db.in_transaction:
                db.execute("ROLLBACK")
        self.last_commit_seconds = time.perf_counter() - started
        self.commits += 1
        self.committed_operations += len(work)
        futures = [future for _, future in work if future is not None]
        if futures:  # one wake-up of the loop per commit, however many operations it carried
            loop.call_soon_threadsafe(_settle, futures, outcome)


def _skipping(accounts: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The condition leaving ``accounts`` out of a query (none when there are none: the plain query keeps its
    index-only plan), and its parameters."""
    if not accounts:
        return "", ()
    return f" AND account NOT IN ({', '.join('?' * len(accounts))})", tuple(accounts)


def _settle(futures: list[asyncio.Future[Any]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
