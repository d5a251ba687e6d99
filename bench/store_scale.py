"""How the store's month reports scale with the number of messages (issue 7, "Store"; figures, not a test).

Usage: python bench/store_scale.py [--messages 1000000 2000000 ...] [--keep DIR]

For each size N it builds a store with the simulator's own schema (opened once through simulator.store.Store,
so the tables and indexes are exactly the gateway's), fills it with N message rows spread over three months for
four accounts, with one monitored violation per 10 messages, then times the month's billing statement and its
statistics (simulator.billing, the code behind `smsclab report billing`) and reports the database size per
message. Rows are written with plain executemany in large transactions: this measures the reports, not the
gateway's write path. Linear growth shows as a constant bytes/message across sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from simulator.billing import monthly_statistics, statement
from simulator.config import load_config, parse_account_option, with_overrides
from simulator.store import Store

MONTHS = ((1790784000.0, "2026-10"), (1793462400.0, "2026-11"), (1796054400.0, "2026-12"))  # starts, UTC+8
ACCOUNTS = ("900001", "900002", "900003", "900004")
BATCH = 50_000


def build(directory: Path, messages: int) -> Path:
    """A store with ``messages`` rows over three months; returns the database path."""

    async def schema() -> None:
        store = await Store.open(directory)
        await store.close()

    asyncio.run(schema())
    db_path = directory / "smsclab.sqlite"
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")  # building the fixture only; the gateway commits with FULL
    columns = ("id, message_id, account, protocol, session, submitted_at, source, destination, data_coding, "
               "content, text, message_text, segment_ref, segment_total, segment_number, registered_delivery, "
               "service_id, state, err, done_at, receipt_state, receipt_due, receipt_attempts, cancelled")
    span = 30 * 86_400.0
    for first in range(0, messages, BATCH):
        rows = []
        violations = []
        for n in range(first, min(first + BATCH, messages)):
            account = ACCOUNTS[n % len(ACCOUNTS)]
            start, _ = MONTHS[n % len(MONTHS)]
            at = start + (n * 7919 % 1_000_000) / 1_000_000 * span
            state = "DELIVRD" if n % 20 else "UNDELIV"
            rows.append((n + 1, format(n + 1, "x"), account, "smpp", "smpp-1", at, f"1069000{n % 4 + 1}",
                         f"138{n % 100_000_000:08d}", 0, b"hello there", "hello there", "hello there", None, 1,
                         1, 1, "", state, 0 if state == "DELIVRD" else 1, at + 2.0, "acked", None, 1, 0))
            if n % 10 == 0:
                violations.append((at, account, "smpp-1", "subscribers", "monitor", 1, '{"destinations":[]}'))
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO messages ({columns}) VALUES ({', '.join('?' * 24)})", rows)
        db.executemany("INSERT INTO violations (at, account, session, rule, mode, recipients, evidence) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", violations)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--keep", type=Path, help="build the stores under this directory and keep them")
    args = parser.parse_args()
    config = with_overrides(load_config(), accounts=[
        dataclasses.replace(parse_account_option(f"{a}:pw:1069000{i + 1}"), rent=500.0, free_quota=1000,
                            message_fee=0.05) for i, a in enumerate(ACCOUNTS)])
    print(f"{'messages':>12}{'build s':>10}{'MiB':>10}{'bytes/msg':>11}{'statement s':>13}{'statistics s':>14}"
          f"{'billable (Nov)':>16}")
    for messages in args.messages:
        root = Path(tempfile.mkdtemp(dir=args.keep))
        try:
            started = time.perf_counter()
            db_path = build(root, messages)
            built = time.perf_counter() - started
            size = db_path.stat().st_size
            started = time.perf_counter()
            statements = statement(db_path, "2026-11", config)
            statement_seconds = time.perf_counter() - started
            started = time.perf_counter()
            monthly_statistics(db_path, "2026-11", config.timezone, accounts=config.accounts)
            statistics_seconds = time.perf_counter() - started
            billable = sum(s.billable for s in statements)
            print(f"{messages:>12,}{built:>10.1f}{size / 2**20:>10.1f}{size / messages:>11.1f}"
                  f"{statement_seconds:>13.2f}{statistics_seconds:>14.2f}{billable:>16,}")
        finally:
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
