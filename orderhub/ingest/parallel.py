"""Helper processes that prepare chunks (ingest/prepare.py) while this process writes them.

Mapping, validating and building a chunk's orders takes longer than inserting them, so on a large
batch other cores prepare the next chunks while the writer inserts this one (`HELPER_PROCESSES`
helpers take the chunks in turn). A helper is forked: it inherits the mapping, the catalogue and
the customers, never touches the database (the connection it inherited belongs to the writer), gets
each chunk's staged rows as JSON text and sends back the prepared chunk. Each helper has one chunk
in flight and the writer sends it the next only once it has taken in the last, so neither side can
block the other on a full pipe. The helpers start while the file is still being staged (from its
HELPER_MIN_CHUNKS-th chunk on) and prepare up to HELPER_AHEAD_CHUNKS chunks before the writer
begins to insert: reading the file no longer leaves the other core idle.

Only used for large batches in a single-threaded process (the job worker, the shell command):
forking a process whose other threads may hold locks is not safe.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import gc
import json
import logging
import multiprocessing
import os
import pickle
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
    """Whether a batch of (at least) this many unprocessed chunks is prepared in a helper process."""
    minimum = ingest_setting("HELPER_MIN_CHUNKS")
    return (
        minimum is not None
        and chunks >= minimum
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Helper:
    """Prepares chunks in helper processes; `result(key)` gives them back in the order submitted.

    Chunks are submitted with a key (their `seq`) and their staged rows as JSON text; the i-th
    submitted goes to helper i mod n. Each helper has one chunk in flight and a queue of the ones
    submitted to it; what it sends back is kept as bytes (unpickled only when the writer takes
    it), so the writer may submit chunks while it is still staging the file and collect the
    prepared ones later (`collect()` never blocks), up to `ahead` chunks held at a time.
    """

    def __init__(self, prep: PrepareContext, processes: int = 1, ahead: int = 64) -> None:
        self.failed = False
        self.closed = False
        self.ahead = ahead
        self.order: list[int] = []  # keys, in the order submitted
        self.owner: dict[int, int] = {}  # key -> helper index
        self.queues: list[collections.deque[tuple[int, str]]] = []
        self.inflight: list[int | None] = []
        self.done: dict[int, bytes] = {}
        context = multiprocessing.get_context("fork")
        helper_prep = _for_helper(prep)
        self.conns: list[Connection] = []
        self.processes: list[Any] = []
        for i in range(max(1, processes)):
            conn, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child, helper_prep), name=f"orderhub-ingest-prepare-{i}", daemon=True
            )
            process.start()
            child.close()
            self.conns.append(conn)
            self.processes.append(process)
            self.queues.append(collections.deque())
            self.inflight.append(None)

    def held(self) -> int:
        """Chunks submitted and not yet taken back."""
        return len(self.owner)

    def submitted(self, key: int) -> bool:
        return key in self.owner

    def submit(self, key: int, text: str) -> None:
        index = len(self.order) % len(self.conns)
        self.order.append(key)
        self.owner[key] = index
        self.queues[index].append((key, text))
        self._pump(index)

    def submit_chunk(self, key: int, chunk_id: int) -> None:
        """Submit a chunk already staged in the database."""
        text = (
            ImportChunk.objects.filter(pk=chunk_id)
            .annotate(text=Cast("rows", TextField()))
            .values_list("text", flat=True)
            .get()
        )
        self.submit(key, text)

    def _pump(self, index: int) -> None:
        if self.failed or self.inflight[index] is not None or not self.queues[index]:
            return
        key, text = self.queues[index].popleft()
        try:
            self.conns[index].send((key, text))
        except OSError:
            self._fail()
            return
        self.inflight[index] = key

    def _receive(self, index: int) -> None:
        try:
            data = self.conns[index].recv_bytes()
        except (EOFError, OSError):
            self._fail()
            return
        key = self.inflight[index]
        assert key is not None
        self.done[key] = data
        self.inflight[index] = None
        self._pump(index)

    def _fail(self) -> None:
        if not self.failed:
            logger.warning("import helper process ended early; preparing chunks in-process")
        self.failed = True

    def collect(self) -> None:
        """Take in whatever the helpers have finished, without waiting."""
        for index, conn in enumerate(self.conns):
            while not self.failed and self.inflight[index] is not None and conn.poll():
                self._receive(index)

    def result(self, key: int) -> PreparedChunk | None:
        """The chunk submitted under `key`, prepared; None when the helper could not (the writer
        then prepares it itself)."""
        index = self.owner.pop(key, None)
        if index is None:
            return None
        while not self.failed and key not in self.done:
            self._receive(index)
        data = self.done.pop(key, None)
        if data is None:
            return None
        collecting = gc.isenabled()
        gc.disable()  # unpickling a chunk makes ~100,000 objects, none of them cyclic garbage
        try:
            got_key, prepared = pickle.loads(data)  # noqa: S301 - from our own forked helper
        finally:
            if collecting:
                gc.enable()
        assert got_key == key
        return prepared

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()


class Prepared:
    """Iterates over the prepared chunks of `chunks` ([(key, chunk id)], in order): those not yet
    submitted are read from the database and submitted, each helper kept one chunk ahead."""

    def __init__(self, helper: Helper, chunks: list[tuple[int, int]]) -> None:
        self.helper = helper
        self.chunks = chunks
        self.next = 0

    def _fill(self, upto: int) -> None:
        for key, chunk_id in self.chunks[self.next : upto]:
            if not self.helper.submitted(key) and not self.helper.failed:
                self.helper.submit_chunk(key, chunk_id)

    def __iter__(self) -> Iterator[PreparedChunk | None]:
        return self

    def __next__(self) -> PreparedChunk | None:
        if self.next >= len(self.chunks):
            raise StopIteration
        self._fill(self.next + len(self.helper.conns))
        key, chunk_id = self.chunks[self.next]
        self.next += 1
        prepared = self.helper.result(key)
        if prepared is not None:
            prepared.chunk_id = chunk_id
        # Each helper prepares its next chunk while the caller writes this one.
        self._fill(self.next + len(self.helper.conns))
        return prepared


def helper_start(prep: PrepareContext) -> Helper:
    return Helper(
        prep, processes=ingest_setting("HELPER_PROCESSES"), ahead=ingest_setting("HELPER_AHEAD_CHUNKS")
    )


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
    # The writer is the import's critical path: when the helpers and the writer want more cores
    # than there are, the scheduler should let the writer run and share what is left among them
    # (at the same priority, three processes on two cores give the writer two thirds of one).
    with contextlib.suppress(OSError):
        os.nice(int(ingest_setting("HELPER_NICE")))
    gc.freeze()  # what the helper inherited stays: full collections need not walk it again
    try:
        while True:
            message: Any = conn.recv()
            if message is None:
                return
            key, text = message
            try:
                # The writer puts in the chunk's id (the key is its place in the batch).
                prepared: PreparedChunk | None = prepare_chunk(prep, 0, json.loads(text))
            except Exception:  # the writer prepares the chunk itself and meets the error there
                prepared = None
            conn.send_bytes(pickle.dumps((key, prepared), protocol=pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):
        return
    finally:
        conn.close()
