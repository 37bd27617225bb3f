"""Drive a running :class:`~kiosk.ui.app.KioskApp` from a script: touches, frames, screenshots.

For tests and demos run in their own process (a Kivy app cannot be restarted in one
process). A script is a generator function taking the :class:`UiDriver`; it runs on the
Kivy clock, on the UI thread, and ``yield``s whenever it must let frames pass::

    def script(ui: UiDriver):
        yield from ui.tap("welcome.lang_zh")
        yield from ui.screenshot("welcome_zh")
        ui.result["title"] = ui.text("welcome.title")

Touches are real motion events posted through Kivy's event loop at a widget's centre, so
they travel the same way as a finger on the screen. Screenshots read the window's back
buffer just before it is shown (``on_flip``), which is what the screen displays.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

from kiosk.ui.errors import UiError

__all__ = ["Frames", "Script", "UiDriver", "Until", "UiScriptError"]

logger = logging.getLogger(__name__)


class UiScriptError(UiError, RuntimeError):
    """A UI script failed: a widget was not found, or a wait ran past its limit."""


@dataclass(frozen=True)
class Frames:
    """Let ``count`` frames pass."""

    count: int = 1


@dataclass(frozen=True)
class Until:
    """Let frames pass until ``predicate()`` is true; fail after ``limit_s`` seconds."""

    predicate: Callable[[], bool]
    what: str
    limit_s: float = 10.0


Step = Frames | Until
Script = Callable[["UiDriver"], Iterator[Step]]


class _DriverTouch(MotionEvent):
    """A touch injected by the driver, positioned in window pixels."""

    def __init__(self, uid: int, x: float, y: float) -> None:
        super().__init__("tillpi-ui-driver", uid, self._args(x, y), is_touch=True, type_id="touch")
        self.profile = ["pos"]

    @staticmethod
    def _args(x: float, y: float) -> dict[str, float]:
        width, height = Window.size
        return {"x": x / max(width - 1, 1), "y": y / max(height - 1, 1)}

    def depack(self, args: dict[str, float]) -> None:
        self.sx = args["x"]
        self.sy = args["y"]
        super().depack(args)

    def move_to(self, x: float, y: float) -> None:
        self.move(self._args(x, y))


class UiDriver:
    """Runs one script against a built app and collects a JSON-able ``result``."""

    def __init__(self, app: Any, out_dir: Path, *, process_start: float | None = None) -> None:
        self.app = app
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.result: dict[str, Any] = {"screenshots": {}, "timings": {}}
        self._process_start = process_start
        self._perf_start = time.perf_counter()
        self._uids = itertools.count(1000)
        self._pending_shot: Path | None = None
        self._shot_done = False
        self._first_frame_at: float | None = None
        self._script: Iterator[Step] | None = None
        self._failed = False
        Window.bind(on_flip=self._on_flip)

    # -- running ---------------------------------------------------------------------------
    def start(self, script: Script) -> None:
        """Schedule ``script`` to begin on the first frame after the app has started."""
        self._script = iter(script(self))
        Clock.schedule_once(self._advance, 0)

    def _advance(self, _dt: float = 0.0) -> None:
        try:
            step = next(self._script) if self._script is not None else None
        except StopIteration:
            self._finish()
            return
        except Exception as exc:  # noqa: BLE001 - reported in the result, the app is stopped
            self._fail(exc)
            return
        if step is None:
            self._finish()
        elif isinstance(step, Frames):
            self._after_frames(max(step.count, 1))
        elif isinstance(step, Until):
            self._poll(step, time.monotonic() + step.limit_s)
        else:
            self._fail(UiScriptError(f"a script yields Frames or Until, not {step!r}"))

    def _after_frames(self, count: int) -> None:
        if count <= 1:
            Clock.schedule_once(self._advance, 0)
        else:
            Clock.schedule_once(lambda _dt: self._after_frames(count - 1), 0)

    def _poll(self, step: Until, deadline: float) -> None:
        try:
            done = bool(step.predicate())
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        if done:
            Clock.schedule_once(self._advance, 0)
        elif time.monotonic() > deadline:
            self._fail(UiScriptError(f"gave up waiting for {step.what} after {step.limit_s} s"))
        else:
            Clock.schedule_once(lambda _dt: self._poll(step, deadline), 0)

    def abort(self, exc: BaseException) -> None:
        """Stop the script and the app, recording ``exc`` as the failure (e.g. a watchdog)."""
        if "ok" not in self.result:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self._failed = True
        self.result["error"] = "".join(traceback.format_exception(exc))
        logger.error("UI script failed: %s", exc)
        self._finish()

    def _finish(self) -> None:
        self.result["ok"] = not self._failed
        self.result["timings"]["script_end_since_driver_s"] = round(time.perf_counter() - self._perf_start, 3)
        (self.out_dir / "result.json").write_text(json.dumps(self.result, ensure_ascii=False, indent=2), encoding="utf-8")
        self.app.stop()

    # -- frames and screenshots --------------------------------------------------------------
    def _on_flip(self, window: Any) -> None:
        now = time.perf_counter()
        self.result["frames_drawn"] = self.result.get("frames_drawn", 0) + 1
        if self._first_frame_at is None:
            self._first_frame_at = now
            self.result["timings"]["first_frame_since_driver_s"] = round(now - self._perf_start, 3)
            if self._process_start is not None:
                self.result["timings"]["first_frame_since_process_start_s"] = round(time.time() - self._process_start, 3)
        if self._pending_shot is not None:
            self._save_back_buffer(self._pending_shot)
            self._pending_shot = None
            self._shot_done = True

    def _save_back_buffer(self, path: Path) -> None:
        from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
        from PIL import Image

        width, height = Window.size
        data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
        image = Image.frombytes("RGB", (width, height), bytes(data)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        image.save(path, compress_level=1)

    def frames(self, count: int = 1) -> Frames:
        return Frames(count)

    def settle(self, frames: int = 3) -> Generator[Step, None, None]:
        """Let ``frames`` clock ticks pass: layout, bindings and ``@mainthread`` hand-overs run.

        Kivy redraws only what changed, so quiet ticks cost little."""
        yield Frames(frames)

    def screenshot(self, name: str) -> Generator[Step, None, Path]:
        """Save what the window shows as ``<out_dir>/<name>.png``; returns the path."""
        yield from self.settle(2)
        path = self.out_dir / f"{name}.png"
        self._pending_shot = path
        self._shot_done = False
        Window.canvas.ask_update()
        yield Until(lambda: self._shot_done, f"screenshot {name}")
        self.result["screenshots"][name] = str(path)
        return path

    def wait_for(self, predicate: Callable[[], bool], what: str, limit_s: float = 10.0) -> Until:
        return Until(predicate, what, limit_s)

    # -- finding widgets ---------------------------------------------------------------------
    def widget(self, path: str) -> Widget:
        """``"welcome.start_button"`` (screen name, then ids) or ``"root.help_banner.cancel"``."""
        head, *ids = path.split(".")
        if head == "root":
            node: Widget = self.app.root
        else:
            node = self.app.screen(head)
        for key in ids:
            found = node.ids.get(key)
            if found is None:
                raise UiScriptError(f"no widget {key!r} in {path!r} (have {sorted(node.ids)})")
            node = found
        return node

    def text(self, path: str) -> str:
        return str(self.widget(path).text)

    def window_center(self, path: str) -> tuple[float, float]:
        widget = self.widget(path)
        return widget.to_window(*widget.center)

    def geometry(self, path: str) -> dict[str, float]:
        widget = self.widget(path)
        x, y = widget.to_window(widget.x, widget.y)
        return {"x": x, "y": y, "width": widget.width, "height": widget.height}

    # -- touching ----------------------------------------------------------------------------
    def tap_at(
        self, x: float, y: float, *, hold_frames: int = 1, settle_frames: int = 2
    ) -> Generator[Step, None, None]:
        """A finger down and up at window pixel ``(x, y)``."""
        touch = _DriverTouch(next(self._uids), x, y)
        EventLoop.post_dispatch_input("begin", touch)
        yield from self.settle(hold_frames)
        EventLoop.post_dispatch_input("end", touch)
        yield from self.settle(settle_frames)

    def tap(self, path: str, **kwargs: int) -> Generator[Step, None, None]:
        """Tap the centre of the widget at ``path``; it must be on screen, not hidden."""
        widget = self.widget(path)
        if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
            raise UiScriptError(f"{path} is not visible; a finger could not touch it")
        x, y = widget.to_window(*widget.center)
        yield from self.tap_at(x, y, **kwargs)
