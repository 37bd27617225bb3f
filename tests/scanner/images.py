"""Test images: rendered barcodes, degraded with a fixed seed (no files from /work/shared)."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.devices.scanner.render import render_barcode


def perspective(img: np.ndarray, rng: np.random.Generator, amount: float = 0.12) -> np.ndarray:
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-amount, amount, (4, 2)) * np.float32([w, h])
    dst = np.float32(src + jitter)
    dst -= dst.min(axis=0)
    size = (int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, size, borderValue=255)


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), borderValue=255)


def low_contrast(img: np.ndarray, lo: int = 90, hi: int = 170) -> np.ndarray:
    return (lo + img.astype(np.float32) / 255.0 * (hi - lo)).astype(np.uint8)


def noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return np.clip(img.astype(np.float32) + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def cluttered_scene(rng: np.random.Generator, size: tuple[int, int] = (800, 600)) -> np.ndarray:
    w, h = size
    scene = np.full((h, w), 160, np.uint8)
    for _ in range(30):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        cv2.rectangle(scene, (x, y), (x + int(rng.integers(10, 150)), y + int(rng.integers(10, 100))), int(rng.integers(0, 255)), -1)
    for i in range(8):
        cv2.putText(scene, "Organic bananas 1kg", (int(rng.integers(0, w // 3)), 40 + i * 70), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 30, 2)
    return scene


def place(scene: np.ndarray, code: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = scene.copy()
    h, w = code.shape
    if h > out.shape[0] or w > out.shape[1]:
        raise ValueError("code larger than scene")
    y = int(rng.integers(0, out.shape[0] - h + 1))
    x = int(rng.integers(0, out.shape[1] - w + 1))
    out[y : y + h, x : x + w] = code
    return out


def degraded_photo(text: str, symbology: str, seed: int) -> np.ndarray:
    """A rendered code, warped, rotated, blurred, low contrast, noisy, in a cluttered scene."""
    rng = np.random.default_rng(seed)
    code = render_barcode(text, symbology, module_px=3)
    code = perspective(code, rng, 0.08)
    code = rotate(code, float(rng.uniform(-12, 12)))
    code = low_contrast(code, int(rng.integers(40, 90)), int(rng.integers(170, 230)))
    scene = cluttered_scene(rng)
    photo = place(scene, code, rng)
    photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.6, 1.4)))
    return noise(photo, rng, float(rng.uniform(3, 9)))
