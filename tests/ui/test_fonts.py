"""Chinese renders with real glyphs, in Simplified Chinese forms."""

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from kiosk.ui.errors import FontError
from kiosk.ui.fonts import (
    SC_FAMILY,
    collection_face_names,
    extract_collection_face,
    find_cjk_fonts,
    prepare_fonts,
)
from tests.ui.images import load

COLLECTION = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _same_image(a: Path, b: Path) -> bool:
    ia, ib = Image.open(a).convert("RGBA"), Image.open(b).convert("RGBA")
    return ia.size == ib.size and ImageChops.difference(ia, ib).getbbox() is None


def _ink(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGBA")


@pytest.mark.ui
def test_chinese_text_renders_glyphs_not_missing_glyph_boxes(ui_run, screenshot_dir):
    run = ui_run("glyphs")
    glyphs = {name: Path(info["path"]) for name, info in run.result["glyphs"].items()}
    # the method can tell: with Kivy's own Roboto, 合计 is two missing-glyph boxes
    assert _same_image(glyphs["hanzi_roboto"], glyphs["unassigned_roboto"])
    # with the kiosk's default font it is not
    assert not _same_image(glyphs["hanzi_default"], glyphs["unassigned_default"])
    assert _ink(glyphs["hanzi_default"]).getbbox() is not None
    assert run.result["glyphs"]["hanzi_default"]["font"] == "Roboto"  # the default name, re-registered
    sheet = Image.new("RGB", (1000, 180), (40, 50, 80))
    x = 10
    for name in ("hanzi_default", "unassigned_default", "hanzi_roboto", "zhi_default", "zhi_collection_first_face"):
        glyph = _ink(glyphs[name])
        sheet.paste(glyph, (x, 20), glyph)
        x += glyph.width + 20
    sheet.save(screenshot_dir / "glyph_sheet.png")
    run.keep("welcome_zh_glyphs", screenshot_dir)
    assert load(run.png("welcome_zh_glyphs")).size == (1280, 800)


@pytest.mark.ui
def test_kivy_default_font_uses_simplified_not_japanese_forms(ui_run):
    glyphs = ui_run("glyphs").result["glyphs"]
    # the collection's first face is Japanese; 直 and 骨 are drawn differently there
    assert not _same_image(Path(glyphs["zhi_default"]["path"]), Path(glyphs["zhi_collection_first_face"]["path"]))


def _render(font_path: Path, index: int, text: str) -> bytes:
    font = ImageFont.truetype(str(font_path), 64, index=index)
    image = Image.new("L", (160, 90))
    ImageDraw.Draw(image).text((0, 0), text, font=font, fill=255)
    return image.tobytes()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    return extract_collection_face(COLLECTION, SC_FAMILY, tmp_path_factory.mktemp("font") / "sc.otf")


def test_collection_lists_its_faces_in_order():
    names = collection_face_names(COLLECTION)
    assert names[0] == "Noto Sans CJK JP" and SC_FAMILY in names


def test_extracted_face_draws_like_the_collections_sc_face(extracted):
    sc_index = collection_face_names(COLLECTION).index(SC_FAMILY)
    for text in ("直骨", "合计 Total ¥85.04"):
        assert _render(extracted, 0, text) == _render(COLLECTION, sc_index, text)
    assert _render(extracted, 0, "直骨") != _render(COLLECTION, 0, "直骨")


def test_extracting_a_face_that_is_not_there_is_a_font_error(tmp_path):
    with pytest.raises(FontError):
        extract_collection_face(COLLECTION, "No Such Face", tmp_path / "x.otf")
    assert list(tmp_path.iterdir()) == []
    not_a_collection = tmp_path / "plain.otf"
    not_a_collection.write_bytes(b"OTTO" + b"\0" * 64)
    with pytest.raises(FontError) as info:
        extract_collection_face(not_a_collection, SC_FAMILY, tmp_path / "y.otf")
    assert isinstance(info.value, OSError)


def test_prepare_fonts_extracts_once_into_the_cache(tmp_path):
    first = prepare_fonts(tmp_path)
    stamp = first.regular.stat().st_mtime_ns
    second = prepare_fonts(tmp_path)
    assert first == second and first.regular.parent == tmp_path
    assert second.regular.stat().st_mtime_ns == stamp
    assert first.regular != first.bold


def test_prepare_fonts_prefers_standalone_sc_files(tmp_path):
    (tmp_path / "NotoSansSC-Regular.otf").write_bytes(b"x")
    (tmp_path / "NotoSansSC-Bold.otf").write_bytes(b"x")
    standalone, collection = find_cjk_fonts((tmp_path,))
    assert collection is None and standalone.bold.name == "NotoSansSC-Bold.otf"
    assert prepare_fonts(tmp_path / "cache", dirs=(tmp_path,)) == standalone


def test_no_cjk_font_installed_is_a_font_error(tmp_path):
    with pytest.raises(FontError, match="fonts-noto-cjk"):
        prepare_fonts(tmp_path / "cache", dirs=(tmp_path,))
