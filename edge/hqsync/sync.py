"""``HqSync``: the edge's link to head office — push the HQ outbox, pull the catalogue, move
transfers, reconcile.

Up: unsent ``hq_outbox`` rows go to HQ in id order, in idempotent batches. A batch's id
depends only on its row ids, and the batch is recorded (``hqsync_batches``) before it is
sent, so after a crash, a lost answer or an outage the SAME batch goes again and HQ answers
``duplicate`` for what it already holds. Only what HQ acknowledged is marked sent:

* ``accepted`` / ``duplicate`` -> ``sent_at`` set;
* ``conflict`` (HQ holds another body under that key) -> ``sent_at`` set, alarm ``hq_conflict``;
* ``rejected`` -> kept unsent with its reason, alarm ``hq_rejected``; retried on later runs
  and parked after ``reject_attempts`` tries (kept for inspection); never blocks the rest;
* HQ unreachable (refused, timeouts, 5xx, a lost answer) -> exponential back-off on the
  injected clock; 401/403 -> alarm ``hq_auth`` and no more sending until the token changes.

Alarms are rows inserted into the ledger's ``alarm_events`` (INSERT only).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from edge.db import connect
from edge.hqsync.catalogue_pull import apply_catalogue
from edge.hqsync.client import BatchResult, HqClient
from edge.hqsync.errors import (
    HqAuthError,
    HqConflictError,
    HqForbiddenError,
    HqRequestError,
    HqSyncClosedError,
    HqSyncConfigError,
    HqUnavailableError,
)
from edge.hqsync.items import ENCODERS, Encoder, ItemEncodingError, OutboxRow, backoff_delay, batch_id_for
from edge.hqsync.migrations import STEPS
from edge.hqsync.reports import (
    CatalogueReport,
    Figures,
    KioskReconciliation,
    ReconciliationReport,
    SyncReport,
    TransferReport,
)
from edge.hqsync.settings import HqSyncSettings
from edge.ledger.migrations import migrate as migrate_ledger
from edge.schema import migrate_component
from retail.clock import Clock

__all__ = ["HqSync"]

log = logging.getLogger(__name__)


class HqSync:
    """The edge's HQ link over the ledger database (a path, or an autocommit connection the
    caller keeps for this object alone). A context manager; ``close()`` is idempotent.

    ``run_once()`` pushes the outbox; ``tick()`` does whatever is due (push, catalogue pull,
    transfers, pruning) and is what the background thread of ``start()`` calls. ``catalogue``
    (an :class:`edge.catalogue.store.CatalogueStore`) and ``stock`` (an
    :class:`edge.stock.service.StockService`) are needed only for the pull and for transfers.
    """

    def __init__(self, ledger: str | Path | sqlite3.Connection, client: HqClient, *, store_id: str, clock: Clock,
                 batch_size: int | None = None, settings: HqSyncSettings | None = None, catalogue: Any = None,
                 stock: Any = None, encoders: Mapping[str, Encoder] | None = None) -> None:
        settings = settings or HqSyncSettings()
        if batch_size is not None:
            settings = replace(settings, batch_size=batch_size)
        self.settings = settings
        self.store_id = store_id
        self._client = client
        self._clock = clock
        self._catalogue = catalogue
        self._stock = stock
        self._encoders = dict(ENCODERS if encoders is None else encoders)
        self._db_lock = threading.RLock()
        self._run_lock = threading.Lock()
        self._owns_conn = not isinstance(ledger, sqlite3.Connection)
        self._conn: sqlite3.Connection | None = connect(ledger) if self._owns_conn else ledger  # type: ignore[arg-type]
        try:
            migrate_ledger(self._conn)  # hq_outbox and alarm_events are the ledger's; a no-op when current
            migrate_component(self._conn, "hqsync", STEPS)
        except BaseException:
            if self._owns_conn:
                self._conn.close()
            self._conn = None
            raise
        self._failures = 0
        self._next_try = 0.0
        self._due: dict[str, float] = {}
        self._held_alarmed: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: SyncReport | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> HqSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the background thread (if any) and close the database connection we opened."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=60)
        with self._db_lock:
            if self._conn is not None:
                if self._owns_conn:
                    self._conn.close()
                self._conn = None

    def start(self) -> HqSync:
        """Run :meth:`tick` every ``tick_s`` seconds in a background thread until ``close()``."""
        if self._conn is None:
            raise HqSyncClosedError("the HQ sync is closed")
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="edge-hqsync", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except HqSyncClosedError:
                return
            except Exception:  # one bad tick must not end the link to HQ
                log.exception("HQ sync tick failed")
            self._stop.wait(self.settings.tick_s)

    def tick(self) -> dict[str, object]:
        """Whatever is due now by the injected clock: push, catalogue pull, transfers, pruning."""
        s, now, done = self.settings, self._clock.monotonic(), {}
        jobs: list[tuple[str, float, Any]] = [("push", s.push_interval_s, self.run_once),
                                              ("prune", s.prune_interval_s, self.prune_sent)]
        if self._catalogue is not None:
            jobs.append(("catalogue", s.catalogue_interval_s, self.pull_catalogue))
        if self._stock is not None:
            jobs.append(("transfers", s.transfer_interval_s, self.poll_transfers))
        for name, every, job in jobs:
            if now >= self._due.get(name, 0.0):
                self._due[name] = now + every
                try:
                    done[name] = job()
                except (HqUnavailableError, HqAuthError, HqForbiddenError) as exc:
                    log.info("HQ sync %s: %s", name, exc)
                    done[name] = exc
        return done

    # -- database -------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HqSyncClosedError("the HQ sync is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._db_lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._db_lock:
            return [tuple(r) for r in self._db().execute(sql, tuple(args)).fetchall()]

    def _now(self) -> str:
        return self._clock.now().isoformat()

    def _alarm(self, db: sqlite3.Connection, kind: str, key: str, detail: str) -> None:
        db.execute("INSERT INTO alarm_events (kind, key, detail, at) VALUES (?, ?, ?, ?)", (kind, key, detail[:1000], self._now()))
        log.warning("alarm %s [%s]: %s", kind, key, detail[:200])

    def _meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM hqsync_meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            db.execute("DELETE FROM hqsync_meta WHERE key = ?", (key,))
        else:
            db.execute("INSERT INTO hqsync_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       (key, value))

    # -- reads for operators --------------------------------------------------------------------
    def pending_count(self) -> int:
        """Unsent rows HQ will still be sent (not parked, of a kind HQ takes)."""
        kinds = sorted(self._encoders)
        marks = ",".join("?" * len(kinds)) or "''"
        return int(self._read(
            f"SELECT COUNT(*) FROM hq_outbox o LEFT JOIN hqsync_items i ON i.outbox_id = o.id WHERE o.sent_at IS NULL"
            f" AND o.kind IN ({marks}) AND COALESCE(i.parked, 0) = 0", kinds)[0][0])

    def parked(self) -> list[dict[str, object]]:
        """Rows kept for inspection: rejected too often, or unreadable."""
        return [{"outbox_id": r[0], "kind": r[1], "ref": r[2], "attempts": r[3], "status": r[4], "reason": r[5]}
                for r in self._read("SELECT o.id, o.kind, o.ref, i.attempts, i.status, i.reason FROM hqsync_items i"
                                    " JOIN hq_outbox o ON o.id = i.outbox_id WHERE i.parked = 1 ORDER BY o.id")]

    def held(self) -> dict[str, int]:
        """Unsent rows of kinds HQ does not take yet, by kind."""
        kinds = sorted(self._encoders)
        marks = ",".join("?" * len(kinds)) or "''"
        return {str(k): int(n) for k, n in self._read(
            f"SELECT kind, COUNT(*) FROM hq_outbox WHERE sent_at IS NULL AND kind NOT IN ({marks}) GROUP BY kind ORDER BY kind", kinds)}

    def item_state(self, outbox_id: int) -> dict[str, object] | None:
        rows = self._read("SELECT attempts, status, reason, parked FROM hqsync_items WHERE outbox_id = ?", (outbox_id,))
        if not rows:
            return None
        return {"attempts": rows[0][0], "status": rows[0][1], "reason": rows[0][2], "parked": bool(rows[0][3])}

    def status(self) -> dict[str, object]:
        return {"pending": self.pending_count(), "parked": len(self.parked()), "held": self.held(),
                "failures": self._failures, "auth_stopped": self._meta("auth_stopped_on") is not None,
                "catalogue_version": int(self._meta("catalogue_version") or 0),
                "last_state": self.last_report.state if self.last_report else None}

    # -- up: the outbox -------------------------------------------------------------------------
    def run_once(self) -> SyncReport:
        """Send the outbox until it is drained, HQ fails, or ``max_batches_per_run`` batches."""
        with self._run_lock:
            report = self._run()
        self.last_report = report
        return report

    def _run(self) -> SyncReport:
        mono = self._clock.monotonic()
        if mono < self._next_try:
            return SyncReport("backoff", pending=self.pending_count(), retry_in_s=self._next_try - mono)
        try:
            credential = self._client.credential_id()
        except HqSyncConfigError as exc:
            return SyncReport("no_token", pending=self.pending_count(), error=str(exc))
        stopped_on = self._meta("auth_stopped_on")
        if stopped_on is not None:
            if stopped_on == credential:
                return SyncReport("auth_stopped", pending=self.pending_count(), error="HQ refused this token; waiting for a new one")
            with self._write() as db:
                self._set_meta(db, "auth_stopped_on", None)
            log.info("HQ token changed: sending again")

        report = SyncReport("drained")
        self._alarm_held_kinds()
        size = self.settings.batch_size
        after = 0
        for _ in range(self.settings.max_batches_per_run):
            open_batch = self._open_batch()
            if open_batch is not None:
                batch_id, ids = open_batch
            else:
                ids = self._next_ids(after, size)
                if not ids:
                    break
                batch_id = batch_id_for(ids)
                with self._write() as db:
                    db.execute("INSERT INTO hqsync_batches (batch_id, row_ids, created_at) VALUES (?, ?, ?)"
                               " ON CONFLICT (batch_id) DO UPDATE SET answered_at = NULL",
                               (batch_id, json.dumps(ids), self._now()))
            after = max(after, max(ids))
            rows = self._rows(ids)
            items, sent_ids = self._encode(rows)
            if not items:
                self._close_batch(batch_id)
                continue
            try:
                with self._write() as db:
                    db.execute("UPDATE hqsync_batches SET sends = sends + 1, last_sent_at = ? WHERE batch_id = ?",
                               (self._now(), batch_id))
                result = self._client.send_batch({"batch_id": batch_id, "store_id": self.store_id,
                                                  "sent_at": self._now(), "items": items})
            except HqUnavailableError as exc:
                self._failures += 1
                delay = backoff_delay(self._failures, initial_s=self.settings.backoff_initial_s,
                                      max_s=self.settings.backoff_max_s)
                self._next_try = self._clock.monotonic() + delay
                if self._failures == 1:
                    log.warning("HQ unavailable (%s); retrying with back-off", exc)
                report.state, report.error, report.retry_in_s = "unavailable", str(exc), delay
                break
            except (HqAuthError, HqForbiddenError) as exc:
                with self._write() as db:
                    self._set_meta(db, "auth_stopped_on", credential)
                    self._alarm(db, "hq_auth", self.store_id, f"HQ refused the edge's token; sync stopped until it changes: {exc}")
                report.state, report.error = "auth_stopped", str(exc)
                break
            except HqRequestError as exc:  # the batch itself was refused: split it to find the culprit
                self._close_batch(batch_id)
                if len(sent_ids) > 1:
                    size = max(1, len(sent_ids) // 2)
                    after = min(sent_ids) - 1
                    log.warning("HQ refused batch %s (%s); sending it in halves", batch_id, exc)
                    continue
                with self._write() as db:
                    self._rejected(db, sent_ids[0], f"refused: {exc}", report)
                report.rejected += 1
                continue
            if self._failures:
                log.info("HQ reachable again after %d failed attempts", self._failures)
            self._failures, self._next_try = 0, 0.0
            self._apply(batch_id, sent_ids, result, report)
        else:
            report.state = "partial"
        report.pending = self.pending_count()
        return report

    def _open_batch(self) -> tuple[str, list[int]] | None:
        rows = self._read("SELECT batch_id, row_ids FROM hqsync_batches WHERE answered_at IS NULL ORDER BY created_at, batch_id LIMIT 1")
        if not rows:
            return None
        ids = [int(i) for i in json.loads(rows[0][1])]
        return str(rows[0][0]), ids

    def _close_batch(self, batch_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE hqsync_batches SET answered_at = ? WHERE batch_id = ?", (self._now(), batch_id))

    def _next_ids(self, after: int, size: int) -> list[int]:
        kinds = sorted(self._encoders)
        if not kinds:
            return []
        marks = ",".join("?" * len(kinds))
        return [int(r[0]) for r in self._read(
            f"SELECT o.id FROM hq_outbox o LEFT JOIN hqsync_items i ON i.outbox_id = o.id"
            f" WHERE o.sent_at IS NULL AND o.id > ? AND o.kind IN ({marks}) AND COALESCE(i.parked, 0) = 0"
            f" ORDER BY o.id LIMIT ?", [after, *kinds, size])]

    def _rows(self, ids: Sequence[int]) -> list[OutboxRow]:
        out: list[OutboxRow] = []
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            # A sale's row carries no copy of its body (an empty payload): it is read from the
            # sale itself, found by the row's ref "<kiosk>/<sale_id>" through the sales' key.
            out += [OutboxRow(int(r[0]), str(r[1]), str(r[2]), r[3].encode() if isinstance(r[3], str) else bytes(r[3]))
                    for r in self._read(
                        "SELECT o.id, o.kind, o.ref, COALESCE(s.body, o.payload) FROM hq_outbox o"
                        " LEFT JOIN sales s ON o.kind = 'sale' AND length(o.payload) = 0"
                        " AND s.kiosk_id = substr(o.ref, 1, instr(o.ref, '/') - 1)"
                        " AND s.sale_id = substr(o.ref, instr(o.ref, '/') + 1)"
                        f" WHERE o.id IN ({marks})", part)]
        return sorted(out, key=lambda r: r.id)

    def _encode(self, rows: Sequence[OutboxRow]) -> tuple[list[dict[str, Any]], list[int]]:
        items: list[dict[str, Any]] = []
        ids: list[int] = []
        bad: list[tuple[int, str]] = []
        for row in rows:
            encoder = self._encoders.get(row.kind)
            if encoder is None:
                continue
            try:
                items.append(encoder(row))
                ids.append(row.id)
            except ItemEncodingError as exc:
                bad.append((row.id, str(exc)))
        if bad:
            with self._write() as db:
                for row_id, reason in bad:
                    self._upsert_item(db, row_id, "unreadable", reason, parked=True, attempt=True)
                    self._alarm(db, "hq_rejected", f"outbox/{row_id}", f"cannot send to HQ: {reason}")
        return items, ids

    def _upsert_item(self, db: sqlite3.Connection, row_id: int, status: str, reason: str, *, parked: bool,
                     attempt: bool) -> int:
        db.execute(
            "INSERT INTO hqsync_items (outbox_id, attempts, status, reason, parked, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (outbox_id) DO UPDATE SET attempts = attempts + excluded.attempts, status = excluded.status,"
            " reason = excluded.reason, parked = excluded.parked, updated_at = excluded.updated_at",
            (row_id, 1 if attempt else 0, status, reason[:1000], 1 if parked else 0, self._now()))
        return int(db.execute("SELECT attempts FROM hqsync_items WHERE outbox_id = ?", (row_id,)).fetchone()[0])

    def _rejected(self, db: sqlite3.Connection, row_id: int, reason: str, report: SyncReport) -> None:
        attempts = self._upsert_item(db, row_id, "rejected", reason, parked=False, attempt=True)
        ref = db.execute("SELECT kind, ref FROM hq_outbox WHERE id = ?", (row_id,)).fetchone()
        key = f"{ref[0]}/{ref[1]}" if ref else f"outbox/{row_id}"
        if attempts == 1:
            self._alarm(db, "hq_rejected", key, f"HQ rejected outbox row {row_id}: {reason}")
        if attempts >= self.settings.reject_attempts:
            db.execute("UPDATE hqsync_items SET parked = 1 WHERE outbox_id = ?", (row_id,))
            report.parked += 1
            log.warning("outbox row %d (%s) parked after %d rejections: %s", row_id, key, attempts, reason)

    def _apply(self, batch_id: str, ids: Sequence[int], result: BatchResult, report: SyncReport) -> None:
        now = self._now()
        report.batches += 1
        report.batch_ids.append(batch_id)
        with self._write() as db:
            for item in result.items:
                if not 0 <= item.index < len(ids):
                    log.error("HQ answered for item %d of a %d-item batch %s; ignored", item.index, len(ids), batch_id)
                    continue
                row_id = ids[item.index]
                if item.status in ("accepted", "duplicate", "conflict"):
                    db.execute("UPDATE hq_outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL", (now, row_id))
                    if item.status == "conflict":
                        ref = db.execute("SELECT kind, ref FROM hq_outbox WHERE id = ?", (row_id,)).fetchone()
                        self._upsert_item(db, row_id, "conflict", "HQ kept another body under this key", parked=False, attempt=True)
                        self._alarm(db, "hq_conflict", f"{ref[0]}/{ref[1]}" if ref else f"outbox/{row_id}",
                                    f"HQ holds another body for outbox row {row_id} (batch {batch_id}); HQ kept its original")
                        report.conflict += 1
                    elif item.status == "accepted":
                        report.accepted += 1
                    else:
                        report.duplicate += 1
                elif item.status == "rejected":
                    self._rejected(db, row_id, item.reason or "rejected", report)
                    report.rejected += 1
                else:
                    log.error("HQ answered %r for outbox row %d; kept unsent", item.status, row_id)
            db.execute("UPDATE hqsync_batches SET answered_at = ? WHERE batch_id = ?", (now, batch_id))
        if result.times_received > 1:
            log.info("batch %s was a resend (HQ has now received it %d times)", batch_id, result.times_received)

    def _alarm_held_kinds(self) -> None:
        for kind, count in self.held().items():
            if kind in self._held_alarmed:
                continue
            self._held_alarmed.add(kind)
            if self._read("SELECT 1 FROM alarm_events WHERE kind = 'hq_unsupported' AND key = ? LIMIT 1", (kind,)):
                continue
            with self._write() as db:
                self._alarm(db, "hq_unsupported", kind, f"{count} outbox rows of kind {kind!r} are held: HQ does not take them yet")

    def prune_sent(self, older_than_days: int | None = None) -> int:
        """Delete rows HQ acknowledged more than ``older_than_days`` (default: the setting) ago."""
        days = self.settings.prune_after_days if older_than_days is None else older_than_days
        cutoff = (self._clock.now() - timedelta(days=days)).isoformat()
        with self._write() as db:
            ids = [int(r[0]) for r in db.execute("SELECT id FROM hq_outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (cutoff,))]
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                db.execute(f"DELETE FROM hqsync_items WHERE outbox_id IN ({marks})", part)
                db.execute(f"DELETE FROM hq_outbox WHERE id IN ({marks})", part)
            db.execute("DELETE FROM hqsync_batches WHERE answered_at IS NOT NULL AND answered_at < ?", (cutoff,))
        if ids:
            log.info("pruned %d HQ outbox rows sent before %s", len(ids), cutoff)
        return len(ids)

    # -- down: the catalogue --------------------------------------------------------------------
    def pull_catalogue(self) -> CatalogueReport:
        """Fetch HQ's catalogue changes since the stored version and apply them to the edge
        catalogue (price scope: store over region over chain). Raises the client's errors
        (:class:`HqUnavailableError`...) when HQ cannot be asked; the stored version then
        stays, so the next pull asks again."""
        if self._catalogue is None:
            raise HqSyncConfigError("no catalogue store was given to the HQ sync")
        with self._run_lock:
            since = int(self._meta("catalogue_version") or 0)
            data = self._client.catalogue(since)
            with self._db_lock:
                report = apply_catalogue(self, self._db(), self._catalogue, data, since)
            return report

    # -- transfers --------------------------------------------------------------------------------
    def _lines_out(self, lines: Mapping[str, int]) -> list[dict[str, int | str]]:
        weighed = self._catalogue.weighed_skus() if self._catalogue is not None else set()
        return [{"sku": sku, "quantity": 0, "weight_g": int(a)} if sku in weighed else {"sku": sku, "quantity": int(a), "weight_g": 0}
                for sku, a in sorted(lines.items())]

    @staticmethod
    def _lines_in(lines: Sequence[Mapping[str, Any]] | None) -> dict[str, int]:
        out: dict[str, int] = {}
        for x in lines or []:
            amount = int(x.get("quantity") or 0) or int(x.get("weight_g") or 0)
            if amount > 0:
                out[str(x["sku"])] = out.get(str(x["sku"]), 0) + amount
        return out

    def _need_stock(self) -> Any:
        if self._stock is None:
            raise HqSyncConfigError("no stock service was given to the HQ sync")
        return self._stock

    def request_transfer(self, from_store_id: str, lines: Mapping[str, int], note: str = "") -> int:
        """Ask ``from_store_id`` (through HQ) for stock; returns HQ's transfer id."""
        return int(self._client.request_transfer(from_store_id, self._lines_out(lines), note)["id"])

    def ship_transfer(self, transfer_id: int, lines: Mapping[str, int] | None = None) -> None:
        """Ship a transfer another shop requested: book the stock out here (``transfer_out``)
        and tell HQ (now, or on a later poll if HQ is away)."""
        stock = self._need_stock()
        t = next((x for x in self._client.transfers(pending=False) if int(x["id"]) == int(transfer_id)), None)
        if t is None or t["from_store_id"] != self.store_id:
            raise HqRequestError(404, f"no transfer {transfer_id} for this shop to ship")
        amounts = dict(lines) if lines else self._lines_in(t["lines"])
        ref = f"hq-{int(transfer_id)}"
        if not any(x.direction == "out" and x.ref == ref for x in stock.transfers()):
            stock.transfer_out(str(t["to_store_id"]), amounts, ref=ref)
        with self._write() as db:
            db.execute("INSERT INTO hqsync_transfers (hq_id, direction, peer, lines, step, updated_at) VALUES (?, 'out', ?, ?, 'tell_hq', ?)"
                       " ON CONFLICT (hq_id) DO NOTHING", (int(transfer_id), str(t["to_store_id"]), json.dumps(amounts), self._now()))
        self._tell_hq(int(transfer_id))

    def _tell_hq(self, transfer_id: int) -> bool:
        rows = self._read("SELECT direction, lines, step FROM hqsync_transfers WHERE hq_id = ?", (transfer_id,))
        if not rows or rows[0][2] == "done":
            return False
        direction, amounts = str(rows[0][0]), json.loads(rows[0][1])
        try:
            if direction == "out":
                self._client.ship_transfer(transfer_id, self._lines_out(amounts))
            else:
                self._client.receive_transfer(transfer_id, self._lines_out(amounts))
        except HqConflictError as exc:  # already shipped / received: our earlier call got through
            log.info("transfer %d: HQ already moved on (%s)", transfer_id, exc.detail)
        with self._write() as db:
            db.execute("UPDATE hqsync_transfers SET step = 'done', updated_at = ? WHERE hq_id = ?", (self._now(), transfer_id))
        return True

    def poll_transfers(self) -> TransferReport:
        """Finish what HQ has not heard yet, book in what other shops shipped to us
        (``transfer_in``, then tell HQ it was received), and close our shipped transfers
        that the other shop received."""
        stock = self._need_stock()
        report = TransferReport()
        try:
            for (tid,) in self._read("SELECT hq_id FROM hqsync_transfers WHERE step = 'tell_hq' ORDER BY hq_id"):
                if self._tell_hq(int(tid)):
                    report.told_hq.append(int(tid))
            local = {(x.direction, x.ref): x for x in stock.transfers()}
            for t in self._client.transfers(pending=False):
                tid, ref = int(t["id"]), f"hq-{int(t['id'])}"
                if t["to_store_id"] == self.store_id and t["status"] == "shipped":
                    amounts = self._lines_in(t.get("shipped_lines") or t["lines"])
                    stock.transfer_in(str(t["from_store_id"]), amounts, ref=ref)
                    with self._write() as db:
                        db.execute("INSERT INTO hqsync_transfers (hq_id, direction, peer, lines, step, updated_at)"
                                   " VALUES (?, 'in', ?, ?, 'tell_hq', ?) ON CONFLICT (hq_id) DO NOTHING",
                                   (tid, str(t["from_store_id"]), json.dumps(amounts), self._now()))
                    self._tell_hq(tid)
                    report.received.append(tid)
                elif t["from_store_id"] == self.store_id and t["status"] == "received":
                    mine = local.get(("out", ref))
                    if mine is not None and mine.status != "received":
                        stock.mark_transfer_received(mine.id)
                        report.closed.append(tid)
                elif t["status"] in ("requested", "shipped"):
                    report.waiting.append(tid)
        except HqUnavailableError as exc:
            report.error = str(exc)
        return report

    # -- reconciliation --------------------------------------------------------------------------
    def reconcile(self, business_date: date) -> ReconciliationReport:
        """Per kiosk for ``business_date``: count, sum and highest seq on the edge against HQ.
        Raises an ``hq_reconciliation`` alarm if they disagree once the outbox is drained."""
        edge = {str(k): Figures(int(c), int(t or 0), int(m or 0)) for k, c, t, m in self._read(
            "SELECT kiosk_id, COUNT(*), SUM(total_minor), MAX(seq) FROM sales WHERE business_date = ? GROUP BY kiosk_id",
            (business_date.isoformat(),))}
        hq = {r.kiosk_id: Figures(r.count, r.total_minor, r.highest_seq)
              for r in self._client.reconciliation(business_date, business_date) if r.business_date == business_date}
        pending = int(self._read("SELECT COUNT(*) FROM hq_outbox WHERE sent_at IS NULL AND kind = 'sale'")[0][0])
        report = ReconciliationReport(business_date, [KioskReconciliation(k, edge.get(k, Figures()), hq.get(k, Figures()))
                                                      for k in sorted(set(edge) | set(hq))], pending)
        if not report.agrees and pending == 0:
            detail = "; ".join(f"{m.kiosk_id}: edge {m.edge.count}/{m.edge.total_minor}/{m.edge.highest_seq}"
                               f" hq {m.hq.count}/{m.hq.total_minor}/{m.hq.highest_seq}" for m in report.mismatches)
            with self._write() as db:
                self._alarm(db, "hq_reconciliation", business_date.isoformat(), f"edge and HQ disagree: {detail}")
        return report

    # -- the token -------------------------------------------------------------------------------
    def rotate_token(self) -> str:
        """Ask HQ for a new token; the client keeps it (the token file, for the HTTP client)."""
        token = self._client.rotate_token()
        with self._write() as db:
            self._set_meta(db, "auth_stopped_on", None)
        return token

