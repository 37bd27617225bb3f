"""Real barcode images for the camera simulator, self-tests and tests (zxing-cpp's writer)."""

from __future__ import annotations

import numpy as np

from kiosk.devices.scanner.model import CODE128, DATABAR, DATABAR_EXP, EAN8, EAN13, QRCODE, UPCA, UPCE

__all__ = ["place_in_frame", "render_barcode"]


def _format(symbology: str):  # noqa: ANN202 - zxingcpp type
    import zxingcpp

    f = zxingcpp.BarcodeFormat
    table = {
        EAN13: f.EAN13,
        EAN8: f.EAN8,
        UPCA: f.UPCA,
        UPCE: f.UPCE,
        CODE128: f.Code128,
        DATABAR: f.DataBar,
        DATABAR_EXP: f.DataBarExp,
        QRCODE: f.QRCode,
    }
    if symbology not in table:
        raise ValueError(f"cannot render symbology {symbology!r}")
    return table[symbology]


def render_barcode(text: str, symbology: str = EAN13, *, module_px: int = 3, bar_height_px: int | None = None) -> np.ndarray:
    """A clean 8-bit grayscale image of the code with its quiet zones.

    Linear codes are drawn ``bar_height_px`` tall (default: about 0.6 of their width).
    """
    import zxingcpp

    barcode = zxingcpp.create_barcode(text, _format(symbology))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=module_px, add_quiet_zones=True), dtype=np.uint8)
    if image.ndim == 3:
        image = image[:, :, 0]
    if symbology != QRCODE and image.shape[0] < image.shape[1] // 3:
        height = bar_height_px or int(image.shape[1] * 0.6)
        row = image[image.shape[0] // 2]
        image = np.repeat(row[np.newaxis, :], height, axis=0)
    return np.ascontiguousarray(image)


def place_in_frame(
    code: np.ndarray | None,
    *,
    size: tuple[int, int] = (640, 480),
    background: int = 200,
    noise_sigma: float = 4.0,
    seed: int = 0,
    at: tuple[int, int] | None = None,
) -> np.ndarray:
    """A BGR camera-sized frame (``size`` = width, height) with ``code`` on a white label.

    The background is a grey, lightly noisy surface so frames look like a camera's, not a
    blank page. ``code`` None gives a frame with nothing in view.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    frame = np.full((height, width), background, dtype=np.float32)
    frame += rng.normal(0, noise_sigma, frame.shape)
    if code is not None:
        ch, cw = code.shape[:2]
        if ch > height or cw > width:
            raise ValueError("the barcode image is larger than the frame")
        x, y = at if at is not None else ((width - cw) // 2, (height - ch) // 2)
        frame[y : y + ch, x : x + cw] = code.astype(np.float32)
    gray = np.clip(frame, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([gray, gray, gray]))
