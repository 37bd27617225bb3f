"""The decoding pipeline on rendered and degraded images (generated here, fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.devices.scanner.decoding import DecodePipeline, RawRead, ZbarDecoder, code_key, to_gray
from kiosk.devices.scanner.gtin import canonical_gtin
from kiosk.devices.scanner.render import place_in_frame, render_barcode
from tests.scanner.images import cluttered_scene, degraded_photo, noise

CODES = [
    ("4006381333931", "EAN13"),
    ("5901234123457", "EAN13"),
    ("96385074", "EAN8"),
    ("036000291452", "UPCA"),
    ("01234565", "UPCE"),
    ("https://tillpi.example/member/8841", "QRCODE"),
    ("TILL-42-ABC", "CODE128"),
]


def expected_key(text: str, symbology: str) -> tuple[str, str]:
    key = code_key(text, symbology)
    assert key is not None
    return key


@pytest.fixture(scope="module")
def pipeline() -> DecodePipeline:
    return DecodePipeline()


@pytest.mark.parametrize(("text", "symbology"), CODES)
def test_clean_rendered_codes_are_read_with_their_symbology(pipeline: DecodePipeline, text: str, symbology: str) -> None:
    found = pipeline.decode_image(place_in_frame(render_barcode(text, symbology)))
    assert [code_key(d.text, d.symbology) for d in found] == [expected_key(text, symbology)]
    if symbology in ("EAN13", "UPCA", "UPCE"):
        assert found[0].text == canonical_gtin(text, symbology)


def test_degraded_photos_are_read_and_never_give_a_wrong_code(pipeline: DecodePipeline, screenshot_dir: Path) -> None:
    read = 0
    total = 0
    for seed in range(28):
        text, symbology = CODES[seed % len(CODES)]
        photo = degraded_photo(text, symbology, seed)
        if seed < 4:
            cv2.imwrite(str(screenshot_dir / f"degraded-{seed}-{symbology}.png"), photo)
        found = {code_key(d.text, d.symbology) for d in pipeline.decode_image(photo)}
        total += 1
        assert found <= {expected_key(text, symbology)}, f"seed {seed}: wrong code {found}"
        read += expected_key(text, symbology) in found
    assert read / total >= 0.9


def test_a_code_rotated_by_90_degrees_is_read(pipeline: DecodePipeline) -> None:
    code = np.ascontiguousarray(np.rot90(render_barcode("4006381333931", "EAN13")))
    found = pipeline.decode_image(place_in_frame(code))
    assert [d.text for d in found] == ["4006381333931"]


def test_a_code_that_one_decoder_misses_is_still_confirmed_by_the_cascade(pipeline: DecodePipeline) -> None:
    code = render_barcode("5901234123457", "EAN13", module_px=1, bar_height_px=40)
    frame = to_gray(cv2.GaussianBlur(place_in_frame(code, size=(320, 240)), (0, 0), 0.7))
    assert ZbarDecoder().decode(frame) == []  # the precondition: zbar alone cannot read it
    assert [d.text for d in pipeline.decode_image(frame)] == ["5901234123457"]


@pytest.mark.parametrize("kind", ["noise", "text", "stripes", "blank"])
def test_images_without_a_barcode_give_no_code(pipeline: DecodePipeline, kind: str, screenshot_dir: Path) -> None:
    rng = np.random.default_rng(11)
    if kind == "noise":
        image = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    elif kind == "text":
        image = cluttered_scene(rng, (640, 480))
    elif kind == "stripes":  # bars of random widths: barcode-like, but no symbol
        widths = rng.integers(1, 6, 200)
        row = np.repeat(np.arange(len(widths)) % 2 * 255, widths)[:600].astype(np.uint8)
        image = np.full((480, 640), 255, np.uint8)
        image[100:300, 20 : 20 + len(row)] = row
        image = noise(image, rng, 5)
    else:
        image = np.full((480, 640), 128, np.uint8)
    cv2.imwrite(str(screenshot_dir / f"no-barcode-{kind}.png"), image)
    assert pipeline.decode_image(image) == []
    assert pipeline.decode_frame(image) == []


def test_two_codes_in_one_image_are_both_read(pipeline: DecodePipeline) -> None:
    a = render_barcode("4006381333931", "EAN13", module_px=2)
    b = render_barcode("https://tillpi.example/c/1", "QRCODE", module_px=4)
    frame = place_in_frame(a, size=(800, 600), at=(20, 40))
    frame[300 : 300 + b.shape[0], 400 : 400 + b.shape[1]] = b[:, :, None]
    texts = {d.text for d in pipeline.decode_image(frame)}
    assert texts == {"4006381333931", "https://tillpi.example/c/1"}


def test_colour_and_grayscale_inputs_are_both_accepted(pipeline: DecodePipeline) -> None:
    frame = place_in_frame(render_barcode("96385074", "EAN8"))
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert [d.text for d in pipeline.decode_image(frame)] == [d.text for d in pipeline.decode_image(gray)] == ["96385074"]


def test_live_frame_decoding_reads_a_code_in_view(pipeline: DecodePipeline) -> None:
    frame = place_in_frame(render_barcode("4006381333931", "EAN13", module_px=2))
    assert [d.text for d in pipeline.decode_frame(frame)] == ["4006381333931"]


def test_a_custom_validator_can_refuse_codes() -> None:
    strict = DecodePipeline(validate=lambda text, symbology: not text.startswith("400"))
    frame = place_in_frame(render_barcode("4006381333931", "EAN13"))
    assert strict.decode_image(frame) == []


class _ScriptedDecoder:
    """A decoder that answers what the test says, to exercise the evidence rule."""

    def __init__(self, name: str, reads: list[RawRead]) -> None:
        self.name = name
        self._reads = reads

    def decode(self, image: np.ndarray) -> list[RawRead]:
        return list(self._reads)


def _scripted(zxing: list[RawRead], zbar: list[RawRead]) -> DecodePipeline:
    p = DecodePipeline()
    p._decoders = {"zxing": _ScriptedDecoder("zxing", zxing), "zbar": _ScriptedDecoder("zbar", zbar)}  # noqa: SLF001
    return p


BOX = (10, 10, 200, 100)


def test_an_ean_read_by_one_decoder_in_one_stage_only_is_not_accepted() -> None:
    p = DecodePipeline(stages=[("raw", "zxing")])
    p._decoders = {"zxing": _ScriptedDecoder("zxing", [RawRead("4006381333931", "EAN13", None)]), "zbar": _ScriptedDecoder("zbar", [])}  # noqa: SLF001
    assert p.decode_image(np.zeros((120, 240), np.uint8)) == []


def test_an_ean_confirmed_by_both_decoders_is_accepted() -> None:
    p = _scripted([RawRead("4006381333931", "EAN13", BOX)], [RawRead("4006381333931", "EAN13", BOX)])
    assert [d.text for d in p.decode_image(np.zeros((120, 240), np.uint8))] == ["4006381333931"]


def test_conflicting_ean_reads_give_no_code_rather_than_a_guess() -> None:
    # each decoder insists on a different, check-digit-valid GTIN in every stage
    p = _scripted([RawRead("4006381333931", "EAN13", BOX)], [RawRead("5901234123457", "EAN13", BOX)])
    assert p.decode_image(np.zeros((120, 240), np.uint8)) == []


def test_a_read_with_a_bad_check_digit_is_dropped() -> None:
    p = _scripted([RawRead("4006381333932", "EAN13", BOX)], [RawRead("4006381333932", "EAN13", BOX)])
    assert p.decode_image(np.zeros((120, 240), np.uint8)) == []


def test_a_qr_code_is_accepted_on_one_read() -> None:
    p = _scripted([RawRead("coupon:7", "QRCODE", BOX)], [])
    assert [d.text for d in p.decode_image(np.zeros((120, 240), np.uint8))] == ["coupon:7"]


def test_a_databar_read_by_zbar_alone_is_not_accepted() -> None:
    p = _scripted([], [RawRead("0198898765432106", "DATABAR_EXP", BOX)])
    assert p.decode_image(np.zeros((120, 240), np.uint8)) == []
