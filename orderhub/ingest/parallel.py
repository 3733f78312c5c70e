"""Helper processes that prepare chunks (ingest/prepare.py) while this process writes them.

Mapping, validating and building a chunk's orders takes longer than inserting them, so on a large
batch another core prepares chunk n+1 while the writer inserts chunk n (`HELPER_PROCESSES` helpers
take the chunks in turn). A helper is forked: it inherits the mapping, the catalogue and the
customers, never touches the database (the connection it inherited belongs to the writer), gets
each chunk's staged rows as JSON text and sends back the prepared chunk. Messages go in lock-step
(each helper has one chunk in flight: the writer sends it the next one as soon as it has received
its last, then writes that one), so neither side can block the other on a full pipe.

Only used for large batches in a single-threaded process (the job worker, the shell command):
forking a process whose other threads may hold locks is not safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.models import ImportChunk
from orderhub.ingest.prepare import PrepareContext, PreparedChunk, prepare_chunk

logger = logging.getLogger(__name__)


def use_helper(chunks: int) -> bool:
    """Whether a batch of this many unprocessed chunks is prepared in a helper process."""
    minimum = ingest_setting("HELPER_MIN_CHUNKS")
    return (
        minimum is not None
        and chunks >= minimum
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Helper:
    """Iterates over the prepared chunks, in the order of `chunk_ids`; with several helper processes
    chunk i goes to helper i mod n, each with one chunk in flight."""

    def __init__(self, prep: PrepareContext, chunk_ids: list[int], processes: int = 1) -> None:
        self.chunk_ids = chunk_ids
        self.next = 0
        self.failed = False
        context = multiprocessing.get_context("fork")
        helper_prep = _for_helper(prep)
        self.conns: list[Connection] = []
        self.processes: list[Any] = []
        for i in range(max(1, min(processes, len(chunk_ids)))):
            conn, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child, helper_prep), name=f"orderhub-ingest-prepare-{i}", daemon=True
            )
            process.start()
            child.close()
            self.conns.append(conn)
            self.processes.append(process)
        for i in range(len(self.conns)):
            self._send(i)

    def _send(self, index: int) -> None:
        if index < len(self.chunk_ids) and not self.failed:
            chunk_id = self.chunk_ids[index]
            text = (
                ImportChunk.objects.filter(pk=chunk_id)
                .annotate(text=Cast("rows", TextField()))
                .values_list("text", flat=True)
                .get()
            )
            try:
                self.conns[index % len(self.conns)].send((chunk_id, text))
            except OSError:
                self.failed = True

    def __iter__(self) -> Iterator[PreparedChunk | None]:
        return self

    def __next__(self) -> PreparedChunk | None:
        """The next chunk prepared, or None when the helper could not (the writer prepares it)."""
        index = self.next
        if index >= len(self.chunk_ids):
            raise StopIteration
        self.next += 1
        prepared: PreparedChunk | None = None
        if not self.failed:
            collecting = gc.isenabled()
            gc.disable()  # unpickling a chunk makes ~100,000 objects, none of them cyclic garbage
            try:
                chunk_id, prepared = self.conns[index % len(self.conns)].recv()
                assert chunk_id == self.chunk_ids[index]
            except (EOFError, OSError):
                logger.warning("import helper process ended early; preparing chunks in-process")
                self.failed = True
                prepared = None
            finally:
                if collecting:
                    gc.enable()
        # That helper prepares its next chunk while the caller writes this one.
        self._send(index + len(self.conns))
        return prepared

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()


def prepared_in_helper(prep: PrepareContext, chunk_ids: list[int]) -> Helper:
    return Helper(prep, chunk_ids, processes=ingest_setting("HELPER_PROCESSES"))


def _for_helper(prep: PrepareContext) -> PrepareContext:
    """The context with customers and owners preloaded: the helper cannot query them."""
    mapped = {p.name for p in prep.plan.plans}
    customers: dict[str, Customer] = {}
    if "customer_code" in mapped:
        customers = {
            c.code: c
            for c in Customer.objects.only(
                "id",
                "code",
                "name",
                "phone",
                "province",
                "city",
                "district",
                "address_detail",
                "tier",
                "owner_id",
            )
        }
    owners: dict[str, int] = {}
    if "owner_username" in mapped:
        owners = dict(User.objects.values_list("username", "pk"))

    def customers_for(codes: set[str]) -> dict[str, Customer]:
        return {c: customers[c] for c in codes if c in customers}

    def owners_for(names: set[str]) -> dict[str, int]:
        return {n: owners[n] for n in names if n in owners}

    return dataclasses.replace(prep, customers_for=customers_for, owners_for=owners_for, keep_drafts=False)


def _serve(conn: Connection, prep: PrepareContext) -> None:
    """The helper's loop: (chunk id, rows as JSON) in, (chunk id, prepared chunk or None) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the writer decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.freeze()  # what the helper inherited stays: full collections need not walk it again
    try:
        while True:
            message: Any = conn.recv()
            if message is None:
                return
            chunk_id, text = message
            try:
                prepared: PreparedChunk | None = prepare_chunk(prep, chunk_id, json.loads(text))
            except Exception:  # the writer prepares the chunk itself and meets the error there
                prepared = None
            conn.send((chunk_id, prepared))
    except (EOFError, OSError):
        return
    finally:
        conn.close()
