"""What keeps the kiosk window small (scenario "welcome"): screens are built when first shown,
every text is drawn in one of the theme's type sizes, since each size and weight in use holds
its own Noto Sans CJK face (about 2.4 MB) for as long as the app runs, and no label keeps a
second copy of its pixels once its texture holds them."""

import pytest

from kiosk.ui.theme import DEFAULT_THEME as T

pytestmark = pytest.mark.ui


def test_screens_are_built_when_first_shown(ui_run):
    run = ui_run("welcome")
    assert run.result["screens_at_start"] == ["welcome"]
    assert run.result["screens_after_start"] == ["welcome", "scan"]


def test_every_sale_screen_draws_text_only_in_the_theme_type_sizes(ui_run):
    run = ui_run("welcome")
    sizes = {size for size, _bold in run.result["type_faces"]}
    assert sizes and sizes <= T.type_sizes()


def test_labels_keep_no_copy_of_their_pixels_once_drawn(ui_run):
    run = ui_run("welcome")
    assert run.result["labels_drawn"] > 100
    assert run.result["labels_keeping_text_surface"] == 0
