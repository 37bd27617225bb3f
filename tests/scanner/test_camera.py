"""CameraBarcodeScanner over real frame sources: a video file, an image folder, a generated
camera; and its health states with a fake clock."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.devices.health import DeviceStatus
from kiosk.devices.scanner import (
    CameraBarcodeScanner,
    FrameSourceUnavailableError,
    GeneratedFrameSource,
    ImageFolderFrameSource,
    OpenCvFrameSource,
    Scan,
    place_in_frame,
    render_barcode,
)
from retail.clock import FakeClock

MILK = "4006381333931"
BREAD = "5901234123457"


def write_video(path: Path, plan: list[str | None], size: tuple[int, int] = (640, 480)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, size)
    if not writer.isOpened():
        pytest.skip("OpenCV cannot write MJPG video here")
    frames = {code: place_in_frame(None if code is None else render_barcode(code, "EAN13", module_px=2), size=size) for code in set(plan)}
    for code in plan:
        writer.write(frames[code])
    writer.release()


def collect(scanner: CameraBarcodeScanner) -> list[Scan]:
    scans: list[Scan] = []
    scanner.on_scan = scans.append
    return scans


def test_scans_from_a_video_file_each_product_once_and_rescanned_after_removal(tmp_path: Path, screenshot_dir: Path) -> None:
    video = tmp_path / "lane.avi"
    plan = [None] * 3 + [MILK] * 8 + [None] * 6 + [BREAD] * 8 + [None] * 6 + [MILK] * 8 + [None] * 2
    write_video(video, plan)
    clock = FakeClock()
    source = OpenCvFrameSource(video)
    with CameraBarcodeScanner(source, clock=clock, leave_seconds=0.0) as scanner:
        scans = collect(scanner)
        scanner.start()
        assert scanner.wait_stopped(timeout=60)
        assert [s.text for s in scans] == [MILK, BREAD, MILK]
        assert all(s.symbology == "EAN13" and s.at.tzinfo is not None for s in scans)
        assert scanner.health().status == DeviceStatus.FAULT  # the video ended: no more frames
    cap = cv2.VideoCapture(str(video))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 5)
    ok, frame = cap.read()
    cap.release()
    assert ok
    cv2.imwrite(str(screenshot_dir / "video-frame.png"), frame)


def test_scans_from_an_image_folder_played_once(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, code in enumerate([MILK, BREAD]):
        cv2.imwrite(str(folder / f"{i:02}.png"), place_in_frame(render_barcode(code, "EAN13", module_px=2)))
    source = ImageFolderFrameSource(folder, loop=False, repeat=3, blank_between=4)
    with CameraBarcodeScanner(source, leave_seconds=0.0) as scanner:
        scans = collect(scanner)
        scanner.start()
        assert scanner.wait_stopped(timeout=30)
    assert [s.text for s in scans] == [MILK, BREAD]


def test_a_generated_camera_yields_real_images() -> None:
    camera = GeneratedFrameSource(fps=0)
    camera.open()
    camera.hold(MILK)
    frame = camera.read()
    assert isinstance(frame, np.ndarray) and frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    camera.remove()
    blank = camera.read()
    assert blank is not None and not np.array_equal(frame, blank)


def test_an_absent_camera_device_is_reported_absent(tmp_path: Path) -> None:
    scanner = CameraBarcodeScanner(OpenCvFrameSource(tmp_path / "video9"))
    scanner.start()
    assert not scanner.running
    health = scanner.health()
    assert health.status == DeviceStatus.ABSENT and health.code == "not_found"
    assert scanner.self_test().status == DeviceStatus.ABSENT
    scanner.close()
    scanner.close()  # idempotent


def test_an_empty_or_missing_image_folder_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(FrameSourceUnavailableError):
        ImageFolderFrameSource(tmp_path).open()
    with pytest.raises(FrameSourceUnavailableError):
        ImageFolderFrameSource(tmp_path / "missing").open()


class _SilentSource:
    """A camera that opens but never delivers a frame."""

    name = "silent"
    ended = False

    def open(self) -> None:
        pass

    def read(self) -> None:
        return None

    def close(self) -> None:
        pass


def test_health_is_fault_when_no_frames_arrive() -> None:
    clock = FakeClock()
    scanner = CameraBarcodeScanner(_SilentSource(), clock=clock, no_frame_seconds=2.0)
    assert scanner.open()
    assert scanner.health().status == DeviceStatus.OK
    clock.advance(2.5)
    health = scanner.health()
    assert health.status == DeviceStatus.FAULT and health.code == "no_frames"
    assert scanner.self_test().status == DeviceStatus.FAULT


def test_health_is_degraded_on_a_low_frame_rate_and_recovers() -> None:
    clock = FakeClock()
    scanner = CameraBarcodeScanner(_SilentSource(), clock=clock, min_fps=10, fps_window_seconds=2.0, no_frame_seconds=5.0)
    scanner.open()
    blank = place_in_frame(None, size=(160, 120))
    for _ in range(12):  # 4 frames per second
        scanner.process_frame(blank)
        clock.advance(0.25)
    degraded = scanner.health()
    assert degraded.status == DeviceStatus.DEGRADED and degraded.code == "low_frame_rate"
    for _ in range(80):  # 25 frames per second
        scanner.process_frame(blank)
        clock.advance(0.04)
    recovered = scanner.health()
    assert recovered.status == DeviceStatus.OK
    assert recovered.since > degraded.since
    assert scanner.frame_rate() == pytest.approx(25, rel=0.05)


def test_frame_agreement_and_held_in_view_through_process_frame() -> None:
    clock = FakeClock()
    scanner = CameraBarcodeScanner(_SilentSource(), clock=clock, min_agreeing_frames=2, leave_frames=3, leave_seconds=0.3)
    scanner.open()
    milk = place_in_frame(render_barcode(MILK, "EAN13", module_px=2))
    blank = place_in_frame(None)
    results = []
    for frame in [milk] + [milk] * 20 + [blank] * 2 + [milk] * 5 + [blank] * 12 + [milk] * 3:
        results += [s.text for s in scanner.process_frame(frame)]
        clock.advance(1 / 30)
    assert results == [MILK, MILK]


def test_a_failing_listener_does_not_stop_the_camera() -> None:
    camera = GeneratedFrameSource(fps=200)
    scanner = CameraBarcodeScanner(camera, leave_seconds=0.0)
    got = threading.Event()

    def listener(scan: Scan) -> None:
        if scan.text == BREAD:
            got.set()
        raise RuntimeError("a buggy screen")

    scanner.on_scan = listener
    with scanner:
        scanner.start()
        camera.show(MILK, frames=4)
        camera.show(None, frames=5)
        camera.show(BREAD, frames=4)
        assert got.wait(timeout=30)
        assert scanner.running
