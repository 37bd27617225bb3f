"""The decoding pipeline: two decoders, cheap preprocessing first, and an evidence rule.

Measured on the development set (see the report in tests/bench/bench_scanner.py) and kept
because it paid:

* zxing-cpp restricted to retail formats is the first and cheapest stage; pyzbar is second.
  They fail on different photos, so running both reads more than either.
* CLAHE (local contrast) and a 2x upscale with unsharp masking recover blurred and small
  codes. Binarisation (Otsu, adaptive), rotations by 15-45 degrees and downscaling read
  fewer codes than the stages above and produced misreads, so they are not used.
* EAN/UPC codes are protected only by a mod-10 check digit; both decoders were seen to
  return a wrong but check-digit-valid GTIN (mostly UPC-E read out of other codes, and on
  sharpened images). So an EAN/UPC read is accepted only with **agreement**: read by both
  decoders (a cropped region of interest around the first read is decoded again by the other
  decoder), or by two different stages with no conflicting EAN/UPC read in the image. QR,
  Code 128 and DataBar carry strong checks (Reed-Solomon, mod-103, mod-211/89) and are
  accepted on one read.

Two entry points: :meth:`DecodePipeline.decode_image` (single image, the whole cascade, for
the CLI) and :meth:`DecodePipeline.decode_frame` (a live frame on a per-frame budget; frame
agreement on top is :mod:`kiosk.devices.scanner.agreement`'s job).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from kiosk.devices.scanner.gtin import Validator, canonical_gtin, default_validator
from kiosk.devices.scanner.model import (
    CODE128,
    DATABAR,
    DATABAR_EXP,
    EAN8,
    EAN13,
    EAN_UPC,
    QRCODE,
    UPCA,
    UPCE,
)

__all__ = [
    "Box",
    "DecodePipeline",
    "Decoded",
    "Decoder",
    "RawRead",
    "Validator",
    "ZbarDecoder",
    "ZxingDecoder",
    "code_key",
    "default_validator",
    "to_gray",
]

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in the coordinates of the image that was decoded."""


@dataclass(frozen=True, slots=True)
class RawRead:
    """One decoder's answer, before any agreement."""

    text: str
    symbology: str
    box: Box | None


@dataclass(frozen=True, slots=True)
class Decoded:
    """An accepted code. ``text`` in the form described on :class:`~.model.Scan`."""

    text: str
    symbology: str
    box: Box | None = None


class Decoder(Protocol):
    """One barcode library behind a common face. ``image`` is 8-bit grayscale."""

    name: str

    def decode(self, image: np.ndarray) -> list[RawRead]: ...


# --------------------------------------------------------------------------- decoders

_ZXING_NAMES = {
    "EAN13": EAN13,
    "EAN8": EAN8,
    "UPCA": UPCA,
    "UPCE": UPCE,
    "Code128": CODE128,
    "QRCode": QRCODE,
}


def _zxing_symbology(name: str) -> str:
    if name.startswith("DataBarExp"):
        return DATABAR_EXP
    if name.startswith("DataBar"):
        return DATABAR
    return _ZXING_NAMES.get(name, name.upper())


class ZxingDecoder:
    """zxing-cpp restricted to the retail formats (EAN/UPC, Code 128, DataBar, QR)."""

    name = "zxing"

    def __init__(self, *, try_rotate: bool = True, try_invert: bool = True, try_downscale: bool = True) -> None:
        import zxingcpp

        self._zx = zxingcpp
        f = zxingcpp.BarcodeFormat
        self._formats = [f.EAN13, f.EAN8, f.UPCA, f.UPCE, f.Code128, f.DataBar, f.DataBarExp, f.QRCode]
        self._kw = {"try_rotate": try_rotate, "try_invert": try_invert, "try_downscale": try_downscale}

    def decode(self, image: np.ndarray) -> list[RawRead]:
        reads = []
        for r in self._zx.read_barcodes(image, formats=self._formats, **self._kw):
            if not r.valid:
                continue
            p = r.position
            xs = (p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x)
            ys = (p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y)
            reads.append(RawRead(r.text, _zxing_symbology(r.format.name), (min(xs), min(ys), max(xs) + 1, max(ys) + 1)))
        return reads


class ZbarDecoder:
    """pyzbar (zbar 0.23) restricted to the same retail symbologies."""

    name = "zbar"

    def __init__(self) -> None:
        from pyzbar import pyzbar
        from pyzbar.pyzbar import ZBarSymbol

        self._pyzbar = pyzbar
        self._symbols = [
            ZBarSymbol.EAN13,
            ZBarSymbol.EAN8,
            ZBarSymbol.UPCA,
            ZBarSymbol.UPCE,
            ZBarSymbol.CODE128,
            ZBarSymbol.DATABAR,
            ZBarSymbol.DATABAR_EXP,
            ZBarSymbol.QRCODE,
        ]

    def decode(self, image: np.ndarray) -> list[RawRead]:
        image = np.ascontiguousarray(image)
        reads = []
        for r in self._pyzbar.decode(image, symbols=self._symbols):
            try:
                text = r.data.decode("utf-8")
            except UnicodeDecodeError:
                text = r.data.decode("latin-1")
            left, top, width, height = r.rect
            reads.append(RawRead(text, str(r.type), (left, top, left + width, top + height)))
        return reads


# --------------------------------------------------------------------------- helpers


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit grayscale from a grayscale, BGR or BGRA array."""
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        gray = image[:, :, 0]
    else:
        raise ValueError(f"not an image array: shape {image.shape}")
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.ascontiguousarray(gray)


def code_key(text: str, symbology: str) -> tuple[str, str] | None:
    """What two reads must share to be the same code, or None for an invalid EAN/UPC.

    EAN/UPC compare as GTIN-13 (EAN-8 as itself), GS1 codes without parentheses and GS.
    """
    if symbology in EAN_UPC:
        gtin = canonical_gtin(text, symbology)
        return None if gtin is None else ("GTIN", gtin)
    if symbology in (DATABAR, DATABAR_EXP, CODE128):
        flat = text.replace("(", "").replace(")", "").replace("\x1d", "")
        if symbology == DATABAR and len(flat) == 14 and flat.isdigit():
            flat = "01" + flat
        return ("GS1" if symbology != CODE128 else CODE128, flat)
    return (symbology, text)


def _clahe(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def _sharpen(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 1.8, blurred, -0.8, 0)


def _scale(gray: np.ndarray, factor: float) -> np.ndarray:
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp)


@dataclass(frozen=True, slots=True)
class _Variant:
    """A preprocessed image and the factor from original to variant coordinates."""

    image: np.ndarray
    factor: float


class _Variants:
    """Preprocessed images of one input, each made once, on demand."""

    def __init__(self, gray: np.ndarray, max_upscaled_side: int) -> None:
        self._gray = gray
        self._cache: dict[str, _Variant | None] = {}
        self._max_side = max_upscaled_side

    def get(self, name: str) -> _Variant | None:
        if name not in self._cache:
            self._cache[name] = self._make(name)
        return self._cache[name]

    def _make(self, name: str) -> _Variant | None:
        g = self._gray
        if name == "raw":
            return _Variant(g, 1.0)
        if name == "clahe":
            return _Variant(_clahe(g), 1.0)
        if name in ("up", "upsharp"):
            factor = min(2.0, self._max_side / max(g.shape))
            if factor < 1.25:
                return None
            up = _scale(g, factor)
            return _Variant(_sharpen(up) if name == "upsharp" else up, factor)
        raise ValueError(f"unknown preprocessing {name!r}")


# --------------------------------------------------------------------------- evidence


@dataclass(slots=True)
class _Candidate:
    key: tuple[str, str]
    text: str
    symbology: str
    box: Box | None
    decoders: set[str] = field(default_factory=set)
    stages: set[str] = field(default_factory=set)
    order: int = 0
    from_zxing: bool = False


class _Evidence:
    """Collects reads of one image and applies the acceptance rule."""

    def __init__(self, validate: Validator, min_votes: int) -> None:
        self._validate = validate
        self._min_votes = min_votes
        self.candidates: dict[tuple[str, str], _Candidate] = {}

    def add(self, read: RawRead, decoder: str, stage: str, factor: float, offset: tuple[int, int] = (0, 0)) -> None:
        if not self._validate(read.text, read.symbology):
            logger.debug("rejected %s %r: failed validation", read.symbology, read.text)
            return
        key = code_key(read.text, read.symbology)
        if key is None:
            return
        box = None
        if read.box is not None:
            x0, y0, x1, y1 = read.box
            ox, oy = offset
            box = (int(x0 / factor) + ox, int(y0 / factor) + oy, int(np.ceil(x1 / factor)) + ox, int(np.ceil(y1 / factor)) + oy)
        cand = self.candidates.get(key)
        if cand is None:
            text = canonical_gtin(read.text, read.symbology) if read.symbology in EAN_UPC else read.text
            cand = _Candidate(key, text or read.text, read.symbology, box, order=len(self.candidates))
            self.candidates[key] = cand
        elif decoder == "zxing" and not cand.from_zxing:
            # prefer zxing's naming (zbar reports UPC-A as EAN-13) and its "(AI)value" GS1 form
            cand.symbology = read.symbology
            if read.symbology not in EAN_UPC:
                cand.text = read.text
        if decoder == "zxing":
            cand.from_zxing = True
        if cand.box is None and box is not None:
            cand.box = box
        cand.decoders.add(decoder)
        cand.stages.add(stage)

    @staticmethod
    def _needs_agreement(cand: _Candidate) -> bool:
        """EAN/UPC always; DataBar when only zbar read it (zbar 0.23 misreads stacked DataBar)."""
        if cand.key[0] == "GTIN":
            return True
        return cand.symbology in (DATABAR, DATABAR_EXP) and "zxing" not in cand.decoders

    def is_accepted(self, cand: _Candidate) -> bool:
        if not self._needs_agreement(cand):
            return True
        if len(cand.decoders) >= 2:
            return True
        if cand.key[0] != "GTIN":
            return False  # a zbar-only DataBar read needs zxing's word
        conflict = any(k != cand.key and k[0] == cand.key[0] for k in self.candidates)
        return not conflict and len(cand.stages) >= self._min_votes

    def accepted(self) -> list[Decoded]:
        found = [c for c in self.candidates.values() if self.is_accepted(c)]
        found.sort(key=lambda c: c.order)
        return [Decoded(c.text, c.symbology, c.box) for c in found]

    def unconfirmed(self) -> list[_Candidate]:
        return [c for c in self.candidates.values() if not self.is_accepted(c) and c.box is not None]


# --------------------------------------------------------------------------- pipeline

_IMAGE_STAGES: tuple[tuple[str, str], ...] = (
    ("raw", "zxing"),
    ("raw", "zbar"),
    ("clahe", "zxing"),
    ("clahe", "zbar"),
    ("upsharp", "zxing"),
    ("upsharp", "zbar"),
    ("up", "zxing"),
    ("up", "zbar"),
)


class DecodePipeline:
    """The cascade. Thread-compatible: one pipeline per thread (decoders hold no state).

    :param validate: extra check on every read (default: GTIN check digit); the place for
        retail's variable-measure rules.
    :param min_votes: distinct stages that must agree on an EAN/UPC read by one decoder.
    :param enhance_every: in live mode, the enhanced (CLAHE) pass runs on every n-th frame that
        read nothing, keeping the average frame cost near one zxing call.
    :param confirm_memory_frames: in live mode, a code confirmed by both decoders stays
        confirmed while zxing keeps reading it, until it is unseen for this many frames; so
        only the first frames of a product pay for the second decoder.
    :param stages: single-image cascade as (preprocessing, decoder) pairs, cheap first.
    """

    def __init__(
        self,
        *,
        validate: Validator = default_validator,
        min_votes: int = 2,
        enhance_every: int = 4,
        max_upscaled_side: int = 1600,
        confirm_memory_frames: int = 30,
        stages: Sequence[tuple[str, str]] = _IMAGE_STAGES,
    ) -> None:
        if min_votes < 1:
            raise ValueError("min_votes must be at least 1")
        if enhance_every < 0:
            raise ValueError("enhance_every must be 0 (never) or more")
        self._validate = validate
        self._min_votes = min_votes
        self._enhance_every = enhance_every
        self._max_side = max_upscaled_side
        self._stages = tuple(stages)
        self._decoders: dict[str, Decoder] = {"zxing": ZxingDecoder(), "zbar": ZbarDecoder()}
        # live frames: no inverted search (retail labels are dark on light), and an enhanced
        # pass that scans one orientation per frame, alternating.
        self._live = ZxingDecoder(try_invert=False)
        self._live_enhanced = ZxingDecoder(try_invert=False, try_rotate=False, try_downscale=False)
        self._frames_without_read = 0
        self._frame_no = 0
        self._confirm_memory_frames = confirm_memory_frames
        self._confirmed: dict[tuple[str, str], int] = {}

    # -- single image -----------------------------------------------------------------

    def decode_image(self, image: np.ndarray) -> list[Decoded]:
        """Every accepted code in one still image (no frame agreement)."""
        gray = to_gray(image)
        variants = _Variants(gray, self._max_side)
        evidence = _Evidence(self._validate, self._min_votes)
        for prep, dec in self._stages:
            variant = variants.get(prep)
            if variant is None:
                continue
            for read in self._decoders[dec].decode(variant.image):
                evidence.add(read, dec, f"{prep}/{dec}", variant.factor)
            self._confirm_regions(gray, evidence)
            accepted = evidence.accepted()
            if accepted:
                return accepted
        return []

    # -- live frames ------------------------------------------------------------------

    def decode_frame(self, image: np.ndarray) -> list[Decoded]:
        """Codes accepted in one live frame, on a budget near one zxing call per frame."""
        gray = to_gray(image)
        evidence = _Evidence(self._validate, self._min_votes)
        for read in self._live.decode(gray):
            evidence.add(read, "zxing", "raw/zxing", 1.0)
        if not evidence.candidates:
            self._frames_without_read += 1
            n = self._enhance_every
            if n and self._frames_without_read % n == 0:
                enhanced = _clahe(gray)
                transposed = (self._frames_without_read // n) % 2 == 1
                if transposed:
                    for read in self._live_enhanced.decode(np.ascontiguousarray(enhanced.T)):
                        flipped = None if read.box is None else (read.box[1], read.box[0], read.box[3], read.box[2])
                        evidence.add(RawRead(read.text, read.symbology, flipped), "zxing", "clahe/zxing", 1.0)
                else:
                    for read in self._live_enhanced.decode(enhanced):
                        evidence.add(read, "zxing", "clahe/zxing", 1.0)
        else:
            self._frames_without_read = 0
        self._frame_no += 1
        for key, cand in evidence.candidates.items():
            if key in self._confirmed:
                cand.decoders.add("confirmed-earlier")
        self._confirm_regions(gray, evidence)
        accepted = evidence.accepted()
        for cand in evidence.candidates.values():
            if evidence.is_accepted(cand):
                self._confirmed[cand.key] = self._frame_no
        stale = [k for k, seen in self._confirmed.items() if self._frame_no - seen > self._confirm_memory_frames]
        for key in stale:
            del self._confirmed[key]
        return accepted

    # -- region of interest -----------------------------------------------------------

    def _confirm_regions(self, gray: np.ndarray, evidence: _Evidence) -> None:
        """Decode a crop around each unconfirmed EAN/UPC read with the other decoder."""
        for cand in evidence.unconfirmed():
            if cand.box is None:
                continue
            crop, offset = _crop(gray, cand.box)
            if crop is None:
                continue
            others = [d for d in ("zbar", "zxing") if d not in cand.decoders] or ["zxing"]
            for name in others:
                for read in self._decoders[name].decode(crop):
                    evidence.add(read, name, f"roi/{name}", 1.0, offset)
                if evidence.is_accepted(cand):
                    break
                small = max(crop.shape) < 400
                if small:
                    up = _sharpen(_scale(crop, 2.0))
                    for read in self._decoders[name].decode(up):
                        evidence.add(read, name, f"roiup/{name}", 2.0, offset)
                    if evidence.is_accepted(cand):
                        break


def _crop(gray: np.ndarray, box: Box) -> tuple[np.ndarray | None, tuple[int, int]]:
    """The box widened by its quiet zones and made tall enough for a linear scan."""
    h, w = gray.shape
    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 1), max(y1 - y0, 1)
    side = max(bw, bh)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = max(bw, side * 0.5) / 2 + side * 0.2
    half_h = max(bh, side * 0.5) / 2 + side * 0.2
    nx0, ny0 = max(int(cx - half_w), 0), max(int(cy - half_h), 0)
    nx1, ny1 = min(int(cx + half_w) + 1, w), min(int(cy + half_h) + 1, h)
    if nx1 - nx0 < 8 or ny1 - ny0 < 8:
        return None, (0, 0)
    return np.ascontiguousarray(gray[ny0:ny1, nx0:nx1]), (nx0, ny0)

