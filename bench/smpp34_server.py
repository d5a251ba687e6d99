"""The peer: the SMSC of the ``smpp34`` wheel (Rust/tokio core, Python API) as a separate process (figures only).

Usage: python bench/smpp34_server.py [--host 127.0.0.1] [--port 0] [--consumers N]

``smpp34.Server`` does the framing, binds, enquire_link, unbind and windowing in its Rust core; Python sees one
event per bind and per submit_sm (``await server.next()``) and answers a submit with ``accept(message_id)``.
That is the package's documented server loop, so this measures smpp34 as a Python user would run it. Its tokio
pool has ``SMPP34_WORKER_THREADS`` threads (the package's default is 2); the benchmark reports the server's CPU
over all its threads.

The README's loop awaits one event at a time. Across processes each ``next()`` then waits for its own wake-up
from the Rust side, and the server stays near 7k submits/s on the 2-core test machine with a p50 of 35 ms;
``--consumers N`` tasks awaiting ``next()`` at once let the wake-ups come in batches and about double that.
The benchmark uses the faster form (default 256 = 4 sessions x window 64) so that the peer is shown at its best.

Each accepted submit gets the next number of a counter as its message id (a real SMSC gives each message its own
id; a counter is the cheapest way to do so). The Python API takes a port, not a socket, so the port comes from
the benchmark (``--port``; 0 picks one here, which is then closed and handed over: the usual small race).
Once listening it prints ``READY <port> smpp34 <version>``. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
from typing import NoReturn

import smpp34


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def answer(server: smpp34.Server, ids: itertools.count[int]) -> None:
    """The event loop of the smpp34 README: accept every submit, keep nothing."""
    submit_event = smpp34.SubmitSmEvent
    while True:
        event = await server.next()
        if isinstance(event, submit_event):
            event.accept(f"{next(ids):x}")
        # Esme (a bind) and Unbound (its end) need no answer: the core has already answered the bind.


async def serve(host: str, port: int, consumers: int) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    port = port or free_port(host)
    server = smpp34.Server(host, port, system_id="smpp34")
    await server.start()
    print(f"READY {port} smpp34 {smpp34.__version__}", flush=True)
    ids = itertools.count(1)
    workers = [asyncio.create_task(answer(server, ids)) for _ in range(consumers)]
    await stop
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    await server.stop()


def main() -> NoReturn:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--consumers", type=int, default=256, help="tasks awaiting server.next() at once")
    args = parser.parse_args()
    if args.consumers < 1:
        parser.error("--consumers must be >= 1")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.consumers))
    # smpp34 1.5.0's tokio threads still call into Python while the interpreter finalizes, which aborts with
    # "PyGILState_Release: thread state ... must be current" (SIGABRT). The server is stopped and nothing is left
    # to flush, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
