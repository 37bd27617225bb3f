"""``CameraBarcodeScanner``: frames from a :class:`FrameSource`, decoded, agreed, handed over."""

from __future__ import annotations

import logging
import threading
from collections import deque

import numpy as np

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.scanner._status import HealthState
from kiosk.devices.scanner.agreement import FrameAgreement
from kiosk.devices.scanner.decoding import DecodePipeline
from kiosk.devices.scanner.errors import FrameSourceUnavailableError, ScannerConfigError
from kiosk.devices.scanner.frames import FrameSource
from kiosk.devices.scanner.model import EAN13, Scan
from kiosk.devices.scanner.port import ScanCallback
from kiosk.devices.scanner.render import place_in_frame, render_barcode
from retail.clock import Clock, SystemClock

__all__ = ["CameraBarcodeScanner"]

logger = logging.getLogger(__name__)

_SELF_TEST_CODE = "4006381333931"


class CameraBarcodeScanner:
    """A camera barcode scanner.

    A capture thread reads frames from ``source``, decodes each with ``pipeline`` (live mode)
    and passes the reads through :class:`FrameAgreement`; an accepted code is delivered to
    ``on_scan`` **on the capture thread**.

    Health: ``absent`` when the source cannot be opened, ``fault`` when no frame arrived for
    ``no_frame_seconds`` (or a finite source ended), ``degraded`` when the frame rate measured
    with ``clock`` over ``fps_window_seconds`` is below ``min_fps``, else ``ok``.
    """

    def __init__(
        self,
        source: FrameSource,
        *,
        name: str = "scanner",
        pipeline: DecodePipeline | None = None,
        clock: Clock | None = None,
        on_scan: ScanCallback | None = None,
        min_agreeing_frames: int = 2,
        agreement_window_seconds: float = 1.0,
        leave_frames: int = 3,
        leave_seconds: float = 0.3,
        min_fps: float = 8.0,
        fps_window_seconds: float = 2.0,
        no_frame_seconds: float = 2.0,
    ) -> None:
        if min_fps < 0 or fps_window_seconds <= 0 or no_frame_seconds <= 0:
            raise ScannerConfigError("frame-rate settings must be positive")
        self.name = name
        self.on_scan: ScanCallback | None = on_scan
        self._source = source
        self._pipeline = pipeline or DecodePipeline()
        self._clock = clock or SystemClock()
        self._agreement = FrameAgreement(
            clock=self._clock,
            min_frames=min_agreeing_frames,
            window_seconds=agreement_window_seconds,
            leave_frames=leave_frames,
            leave_seconds=leave_seconds,
        )
        self._min_fps = min_fps
        self._fps_window = fps_window_seconds
        self._no_frame_seconds = no_frame_seconds
        self._frame_times: deque[float] = deque()
        self._last_frame: float | None = None
        self._started_at: float | None = None
        self._opened = False
        self._absent_reason = ""
        self._ended = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._health = HealthState(name, self._clock)
        self.frames_processed = 0

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> bool:
        """Open the source; False (and health ``absent``) when it is not there."""
        if self._opened:
            return True
        try:
            self._source.open()
        except FrameSourceUnavailableError as exc:
            self._absent_reason = str(exc)
            self._health.set(DeviceStatus.ABSENT, "not_found", str(exc))
            return False
        self._opened = True
        self._absent_reason = ""
        self._started_at = self._clock.monotonic()
        return True

    def start(self) -> None:
        """Open the source and start the capture thread (no thread when the source is absent)."""
        if self._closed:
            raise ScannerConfigError(f"{self.name} is closed")
        if self._thread is not None and self._thread.is_alive():
            return
        if not self.open():
            return
        self._stop.clear()
        self._ended = False
        self._started_at = self._clock.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the capture thread; the source stays open."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
            if thread.is_alive():
                logger.warning("%s capture thread did not stop in time", self.name)
        self._thread = None
        self._agreement.reset()

    def close(self) -> None:
        if self._closed:
            return
        self.stop()
        self._source.close()
        self._opened = False
        self._closed = True

    def __enter__(self) -> CameraBarcodeScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Block until the capture thread ends (for finite sources); True if it did."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._source.read()
            except Exception:  # noqa: BLE001 - a camera driver can raise anything; log and stop
                logger.exception("%s: reading a frame failed", self.name)
                break
            if frame is None:
                if self._source.ended:
                    self._ended = True
                    logger.info("%s: frame source ended", self.name)
                    break
                self._stop.wait(0.01)
                continue
            try:
                self.process_frame(frame)
            except Exception:  # noqa: BLE001 - one bad frame must not end the scanner
                logger.exception("%s: decoding a frame failed", self.name)

    # -- the work of one frame ---------------------------------------------------------------

    def process_frame(self, frame: np.ndarray) -> list[Scan]:
        """Decode one frame, apply frame agreement, deliver and return the new scans.

        The capture thread calls this; tests and tools may call it directly (not both).
        """
        now = self._clock.monotonic()
        with self._lock:
            self._last_frame = now
            self._frame_times.append(now)
            while self._frame_times and now - self._frame_times[0] > self._fps_window:
                self._frame_times.popleft()
            self.frames_processed += 1
        decoded = self._pipeline.decode_frame(frame)
        symbologies = {d.text: d.symbology for d in decoded}
        accepted = self._agreement.observe((d.text, d.symbology) for d in decoded)
        scans = []
        for text, symbology in accepted:
            scan = Scan(text, symbologies.get(text, symbology), self._clock.now())
            scans.append(scan)
            logger.info("%s: scanned %s %s", self.name, scan.symbology, scan.text)
            callback = self.on_scan
            if callback is not None:
                try:
                    callback(scan)
                except Exception:  # noqa: BLE001 - a faulty listener must not stop the camera
                    logger.exception("%s: on_scan callback failed", self.name)
        return scans

    # -- health ----------------------------------------------------------------------------

    def frame_rate(self) -> float | None:
        """Frames per second over the last window, by the injected clock (None: too few)."""
        with self._lock:
            times = list(self._frame_times)
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    def health(self) -> DeviceHealth:
        if not self._opened:
            if self._absent_reason:
                return self._health.set(DeviceStatus.ABSENT, "not_found", self._absent_reason)
            return self._health.set(DeviceStatus.OK, "idle", "not started")
        now = self._clock.monotonic()
        with self._lock:
            last = self._last_frame
            window_full = self._started_at is not None and now - self._started_at >= self._fps_window
        if self._ended:
            return self._health.set(DeviceStatus.FAULT, "no_frames", "the frame source ended")
        reference = last if last is not None else self._started_at
        if reference is not None and now - reference >= self._no_frame_seconds:
            return self._health.set(DeviceStatus.FAULT, "no_frames", f"no frame for {now - reference:.1f} s")
        fps = self.frame_rate()
        if window_full and fps is not None and fps < self._min_fps:
            return self._health.set(DeviceStatus.DEGRADED, "low_frame_rate", f"{fps:.1f} frames/s, below {self._min_fps:g}")
        return self._health.set(DeviceStatus.OK, "", "" if fps is None else f"{fps:.1f} frames/s")

    def self_test(self) -> DeviceHealth:
        """Decode a rendered code through the pipeline, and check a frame can be read."""
        probe = place_in_frame(render_barcode(_SELF_TEST_CODE, EAN13))
        texts = [d.text for d in self._pipeline.decode_image(probe)]
        if _SELF_TEST_CODE not in texts:
            return self._health.set(DeviceStatus.FAULT, "decoder_failed", "the decoder did not read its test code")
        if not self.open():
            return self.health()
        if not self.running:
            try:
                frame = self._source.read()
            except FrameSourceUnavailableError as exc:
                return self._health.set(DeviceStatus.FAULT, "no_frames", str(exc))
            if frame is None:
                return self._health.set(DeviceStatus.FAULT, "no_frames", "the camera gave no frame")
            return self._health.set(DeviceStatus.OK, "", "self-test passed")
        return self.health()
