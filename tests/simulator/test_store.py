"""The store's write path: every row of a batch lands, whatever the batch's size, and in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.store import MessageRow, Store

#: Sizes around each fixed statement size (a multi-row statement carries 256, 32, 4 or 1 rows), and batches that
#: need every size at once.
BATCH_SIZES = (1, 2, 3, 4, 5, 31, 32, 33, 255, 256, 257, 293, 1000)


def message(row_id: int, *, receipt_due: float | None = None) -> MessageRow:
    return MessageRow(
        id=row_id, message_id=format(row_id, "x"), account="900001", protocol="smpp", session="smpp-1",
        submitted_at=1_790_000_000.0 + row_id, source="10690001", destination=f"138{row_id:08d}", data_coding=8,
        content=row_id.to_bytes(4, "big"), text=f"text {row_id}", message_text=None, segment_ref=None,
        segment_total=1, segment_number=1, registered_delivery=1, service_id="SVC", state="DELIVRD", err=0,
        done_at=1_790_000_001.0 + row_id, receipt_state="pending" if receipt_due is not None else "none",
        receipt_due=receipt_due)


@pytest.mark.parametrize("count", BATCH_SIZES)
async def test_every_row_of_a_batch_is_stored_as_given(tmp_path: Path, count: int) -> None:
    store = await Store.open(tmp_path)
    try:
        rows = [message(row_id) for row_id in range(1, count + 1)]
        await store.insert_messages(rows)
        stored = await store.search_messages(account="900001", limit=count + 1)
    finally:
        await store.close()
    assert sorted(stored) == rows


async def test_receipt_states_of_a_batch_land_with_the_last_change_of_each_row_winning(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        count = 341
        await store.insert_messages([message(row_id, receipt_due=0.0) for row_id in range(1, count + 1)])
        for row_id in range(1, count + 1):
            store.set_receipt(row_id, "sent", 10.0, 1)
        for row_id in range(1, count + 1, 2):  # the odd ones are answered in the same commit
            store.set_receipt(row_id, "acked", None, 1)
        await store.flush()
        stored = {row.id: (row.receipt_state, row.receipt_due)
                  for row in await store.search_messages(account="900001", limit=count + 1)}
    finally:
        await store.close()
    assert stored == {row_id: ("acked", None) if row_id % 2 else ("sent", 10.0) for row_id in range(1, count + 1)}
