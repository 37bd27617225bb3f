"""Where the camera scanner's frames come from: the ``FrameSource`` port and its adapters.

* :class:`OpenCvFrameSource` — the real camera: ``cv2.VideoCapture`` on a V4L2 device index
  or path, or a video file.
* :class:`ImageFolderFrameSource` — simulator: a folder of images, looped or played once.
* :class:`GeneratedFrameSource` — simulator: a camera that a test or demo "shows" products
  to; every frame is a real rendered image, never a string.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from kiosk.devices.scanner.errors import FrameSourceUnavailableError, ScannerConfigError
from kiosk.devices.scanner.model import EAN13
from kiosk.devices.scanner.render import place_in_frame, render_barcode

__all__ = ["FrameSource", "GeneratedFrameSource", "ImageFolderFrameSource", "OpenCvFrameSource"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


@runtime_checkable
class FrameSource(Protocol):
    """Frames as BGR or grayscale ``numpy`` arrays.

    ``open()`` raises :class:`FrameSourceUnavailableError` when the device or file is not there.
    ``read()`` blocks until the next frame and returns None when there is none (a camera that
    stopped answering, or a finite source at its end: then ``ended`` is True).
    """

    name: str

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    @property
    def ended(self) -> bool: ...

    def close(self) -> None: ...


class OpenCvFrameSource:
    """A V4L2 camera (index such as 0, or path such as /dev/video0) or a video file, via OpenCV."""

    def __init__(
        self,
        device: int | str | Path,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        capture_factory: Callable[..., Any] | None = None,
    ) -> None:
        self._device = str(device) if isinstance(device, Path) else device
        self.name = f"camera:{device}"
        self._width, self._height, self._fps = width, height, fps
        self._factory = capture_factory
        self._cap: Any = None
        self._ended = False
        self._is_file = isinstance(self._device, str) and Path(self._device).is_file()

    def open(self) -> None:
        if self._cap is not None:
            return
        device = self._device
        if isinstance(device, str) and not self._is_file and not Path(device).exists():
            raise FrameSourceUnavailableError(f"no camera or video file at {device}")
        if self._factory is not None:
            cap = self._factory(device)
        elif isinstance(device, int) or (isinstance(device, str) and device.startswith("/dev/video")):
            cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        else:
            cap = cv2.VideoCapture(device)
        if not cap.isOpened():
            cap.release()
            raise FrameSourceUnavailableError(f"cannot open camera or video {device}")
        if self._width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
        if self._height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        if self._fps:
            cap.set(cv2.CAP_PROP_FPS, self._fps)
        self._cap = cap
        self._ended = False

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            raise FrameSourceUnavailableError(f"{self.name} is not open")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            if self._is_file:
                self._ended = True
            return None
        return frame

    @property
    def ended(self) -> bool:
        return self._ended

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> OpenCvFrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageFolderFrameSource:
    """Simulator: the images of a folder, in name order, each shown ``repeat`` times.

    With ``loop`` it starts again at the end; without, it ends (``ended``) after the last.
    ``frame_interval`` seconds of (real) sleep between frames paces it like a camera.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        loop: bool = True,
        repeat: int = 1,
        blank_between: int = 0,
        frame_interval: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if repeat < 1 or blank_between < 0:
            raise ScannerConfigError("repeat must be at least 1 and blank_between not negative")
        self._folder = Path(folder)
        self.name = f"folder:{self._folder}"
        self._loop, self._repeat, self._blank_between = loop, repeat, blank_between
        self._interval, self._sleep = frame_interval, sleep
        self._paths: list[Path] = []
        self._plan: list[Path | None] = []
        self._pos = 0
        self._ended = False
        self._blank: np.ndarray | None = None

    def open(self) -> None:
        if not self._folder.is_dir():
            raise FrameSourceUnavailableError(f"no image folder at {self._folder}")
        self._paths = sorted(p for p in self._folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            raise FrameSourceUnavailableError(f"no images in {self._folder}")
        self._plan = []
        for p in self._paths:
            self._plan.extend([p] * self._repeat)
            self._plan.extend([None] * self._blank_between)
        self._pos, self._ended = 0, False

    def read(self) -> np.ndarray | None:
        if not self._plan:
            raise FrameSourceUnavailableError(f"{self.name} is not open")
        if self._pos >= len(self._plan):
            if not self._loop:
                self._ended = True
                return None
            self._pos = 0
        item = self._plan[self._pos]
        self._pos += 1
        if self._interval:
            self._sleep(self._interval)
        if item is None:
            if self._blank is None:
                first = cv2.imread(str(self._paths[0]))
                shape = first.shape if first is not None else (480, 640, 3)
                self._blank = np.full(shape, 200, dtype=np.uint8)
            return self._blank
        frame = cv2.imread(str(item), cv2.IMREAD_COLOR)
        if frame is None:
            logger.warning("cannot read image %s; skipped", item)
        return frame

    @property
    def ended(self) -> bool:
        return self._ended

    def close(self) -> None:
        self._plan = []

    def __enter__(self) -> ImageFolderFrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GeneratedFrameSource:
    """Simulator: a camera in front of which a person holds products.

    ``hold(code)`` puts a rendered barcode in view until ``remove()``; ``show(code, frames=n)``
    shows it for n frames. Every frame is a real BGR image (``size`` pixels) with a rendered
    barcode on a noisy background, so the whole decoding pipeline runs. Paced at ``fps``
    with real sleep (set ``fps=0`` to run flat out). ``frames_read`` counts frames served.
    """

    def __init__(
        self,
        *,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        end_after: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        module_px: int = 3,
    ) -> None:
        self.name = "generated-camera"
        self._size, self._fps, self._sleep = size, fps, sleep
        self._module_px = module_px
        self._end_after = end_after
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, str] | None] = deque()
        self._held: tuple[str, str] | None = None
        self._cache: dict[tuple[str, str] | None, np.ndarray] = {}
        self._open = False
        self._ended = False
        self.frames_read = 0
        self._changed = threading.Condition(self._lock)

    # -- a person's verbs ----------------------------------------------------------------

    def hold(self, code: str, symbology: str = EAN13) -> None:
        """Bring a product into view and keep it there."""
        frame_key = (code, symbology)
        self._render(frame_key)
        with self._lock:
            self._held = frame_key

    def remove(self) -> None:
        """Take the product out of view."""
        with self._lock:
            self._held = None

    def show(self, code: str | None, symbology: str = EAN13, *, frames: int = 5) -> None:
        """Queue ``frames`` frames of ``code`` (None: empty frames), before whatever is held."""
        frame_key = None if code is None else (code, symbology)
        self._render(frame_key)
        with self._lock:
            self._queue.extend([frame_key] * frames)

    def wait_until_read(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``frames_read`` reaches ``count`` (tests use it to know frames were taken)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.frames_read >= count, timeout=timeout)

    # -- FrameSource ---------------------------------------------------------------------

    def open(self) -> None:
        self._open = True
        self._ended = False

    def read(self) -> np.ndarray | None:
        if not self._open:
            raise FrameSourceUnavailableError(f"{self.name} is not open")
        if self._end_after is not None and self.frames_read >= self._end_after:
            self._ended = True
            return None
        if self._fps:
            self._sleep(1.0 / self._fps)
        with self._changed:
            key = self._queue.popleft() if self._queue else self._held
            frame = self._cache.get(key)
            self.frames_read += 1
            self._changed.notify_all()
        return frame if frame is not None else self._render(key)

    @property
    def ended(self) -> bool:
        return self._ended

    def close(self) -> None:
        self._open = False

    def _render(self, key: tuple[str, str] | None) -> np.ndarray:
        frame = self._cache.get(key)
        if frame is None:
            code = None if key is None else render_barcode(key[0], key[1], module_px=self._module_px)
            frame = place_in_frame(code, size=self._size, seed=len(self._cache))
            self._cache[key] = frame
        return frame

    def __enter__(self) -> GeneratedFrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
