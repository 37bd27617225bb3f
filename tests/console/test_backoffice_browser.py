"""The back office of the staff console in a real Chromium, against a seeded shop (a few
hundred products, stock, members, promotions, a month of sales through the real ingest):
catalogue import with row errors fixed in the page and a progress bar, an audited price edit,
stock and a stocktake typed by hand, members masked by role, promotion authoring with a sample
basket, reports with SVG charts and the Z report, a partial refund, Chinese, and a phone."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.backoffice_shop import PASSWORDS, BackOfficeShop, open_shop, serve

DESKTOP = (1280, 900)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackOfficeShop]:
    s = open_shop(tmp_path_factory.mktemp("backoffice"))
    try:
        serve(s)
        yield s
    finally:
        s.close()


@pytest.fixture
def signed_in(shop: BackOfficeShop, new_page: Callable[..., Any]) -> Callable[..., Any]:
    """``signed_in("olga", viewport=..., mobile=...)`` -> a page signed in, collecting script errors."""

    def make(user: str, viewport: tuple[int, int] = DESKTOP, *, mobile: bool = False) -> Any:
        page = new_page(viewport, mobile=mobile)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.script_errors = errors
        page.goto(shop.url + "/console/")
        page.fill("#username", user)
        page.fill("#password", PASSWORDS[user])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#live[data-state=on]")
        return page

    return make


def open_page(page: Any, name: str) -> None:
    page.click("#bo-toggle")
    page.click(f".bo-item[data-page={name}]")
    page.wait_for_selector(f"#panel-{name}:not([hidden])")


def no_script_errors(page: Any) -> None:
    assert page.script_errors == [], f"the page raised script errors: {page.script_errors}"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_catalogue_search_audited_price_edit_and_import_fixed_in_the_page(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path, tmp_path: Path) -> None:
    page = signed_in("olga")
    open_page(page, "catalogue")
    page.wait_for_selector("#cat-results tr[data-sku]")
    assert "1–50 of 300" in page.inner_text("#cat-page")
    page.screenshot(path=str(screenshot_dir / "01-catalogue.png"), full_page=True)

    # search by barcode (GTIN without its leading zero), then edit the price
    page.fill("#cat-q", "6901234567892")
    page.click("#cat-search button[type=submit]")
    page.wait_for_selector("#cat-page >> text=1–1 of 1")
    page.click("#cat-results tr[data-sku=tea-500] button[data-action=edit-price]")
    page.fill("#cat-results .price-edit .price-input", "3.80")
    page.screenshot(path=str(screenshot_dir / "02-price-edit.png"), full_page=True)
    page.click("#cat-results .price-edit button[type=submit]")
    page.wait_for_selector("#cat-results tr[data-sku=tea-500] >> text=¥3.80")
    assert shop.catalogue.get("tea-500").price.minor == 380
    entry = shop.staff.audit_entries(action="catalogue.price", target="product:tea-500")[0]
    assert (entry.actor, entry.before["price_minor"], entry.after["price_minor"]) == (shop.staff_ids["olga"], 350, 380)

    # an import with three bad rows: the errors show, are fixed in the page, then it is confirmed
    header = ["sku", "gtins", "name_en", "name_zh", "category", "price", "cost_price", "tax_class"]
    rows = [header] + [[f"imp-{i:03d}", "", f"Imported snack {i}", f"进口零食{i}", "snacks", f"{5 + i}.50", "3.00", "standard"]
                       for i in range(1, 41)]
    rows[5][4] = "sweets"         # unknown category (row 6)
    rows[12][5] = "twelve"        # not a price (row 13)
    rows[20][3] = ""              # no Chinese name (row 21)
    upload = tmp_path / "products.csv"
    upload.write_bytes(_csv(rows))
    page.set_input_files("#imp-file", str(upload))
    page.wait_for_selector("#imp-summary[data-errors='3']")
    errors = page.query_selector_all("#imp-errors table.errors tbody tr")
    assert sorted((e.get_attribute("data-row"), e.get_attribute("data-column")) for e in errors) == [
        ("13", "price"), ("21", "name_zh"), ("6", "category")]
    assert page.is_disabled("#imp-confirm"), "an import with row errors must not be confirmable as it stands"
    assert page.get_attribute("#imp-bar", "aria-valuenow") == "100"   # the check ran to the end
    page.screenshot(path=str(screenshot_dir / "03-import-row-errors.png"), full_page=True)

    page.fill(".fix-table tr[data-row='6'] input[data-col=category]", "snacks")
    page.fill(".fix-table tr[data-row='13'] input[data-col=price]", "12.00")
    page.fill(".fix-table tr[data-row='21'] input[data-col=name_zh]", "进口零食20")
    page.click("#imp-recheck")
    page.wait_for_selector("#imp-summary[data-errors='0']")
    assert not page.is_disabled("#imp-confirm")
    page.click("#imp-confirm")
    page.wait_for_selector("#imp-result:not([hidden])")
    assert page.get_attribute("#imp-bar", "aria-valuenow") == "100"
    assert page.get_attribute("#imp-progress", "data-phase") == "importing"
    assert "Imported 40 products" in page.inner_text("#imp-result")
    page.screenshot(path=str(screenshot_dir / "04-import-done.png"), full_page=True)
    # spreadsheet row n holds imp-(n-1): the header is row 1
    assert shop.catalogue.get("imp-005").category == "snacks"
    assert shop.catalogue.get("imp-012").price.minor == 1200
    assert shop.catalogue.get("imp-020").name_zh == "进口零食20"
    assert shop.catalogue.count() == 340
    no_script_errors(page)


def test_stock_levels_expiry_partial_receipt_and_a_typed_stocktake(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    page = signed_in("olga")
    open_page(page, "stock")
    page.wait_for_selector("#lv-table tr.is-low")
    low = {r.get_attribute("data-sku") for r in page.query_selector_all("#lv-table tr.is-low")}
    assert low == {lv.sku for lv, _ in shop.stock.low_stock()}
    page.screenshot(path=str(screenshot_dir / "01-levels.png"))

    page.click("#stock-seg button[data-sub=expiring]")
    row = page.wait_for_selector("#ex-table tr[data-sku=dai-0008]")
    assert "-30%" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "02-expiring.png"), full_page=True)

    page.click("#stock-seg button[data-sub=reorder]")
    page.wait_for_selector("#ro-table tr[data-sku]")
    page.screenshot(path=str(screenshot_dir / "03-reorder.png"))

    # receive part of the open purchase order
    page.click("#stock-seg button[data-sub=orders]")
    po = page.wait_for_selector(".po[data-po='1'][data-status=open]")
    po.query_selector("tr[data-sku=noodles] .rc-amount").fill("20")
    po.query_selector("tr[data-sku=tea-500] .rc-amount").fill("0")
    before = shop.stock.on_hand("noodles").amount
    po.query_selector("button[data-action=receive]").click()
    page.wait_for_selector(".po[data-po='1'][data-status=partial]")
    lines = {l.sku: l.received for l in shop.stock.purchase_order(1).lines}
    assert lines == {"noodles": 20, "tea-500": 0}
    assert shop.stock.on_hand("noodles").amount == before + 20
    page.screenshot(path=str(screenshot_dir / "04-purchase-order-partly-received.png"), full_page=True)

    # a stocktake counted by typing: a SKU set, a barcode added twice; the camera degrades to typing
    page.click("#stock-seg button[data-sub=count]")
    page.click("#stc-open")
    page.wait_for_selector("#stc-current[data-status=open]")
    assert page.is_disabled("#stc-scan"), "without BarcodeDetector the scan button must be off"
    assert page.is_visible("#stc-scan-hint") and "Type the code" in page.inner_text("#stc-scan-hint")
    take = int(page.get_attribute("#stc-current", "data-stocktake"))
    page.fill("#stc-code", "tea-500")
    page.fill("#stc-qty", "5")
    page.click("#stc-set")
    page.wait_for_selector("#stc-variance tr[data-sku=tea-500]")
    for total in (3, 6):
        page.fill("#stc-code", "6921168509256")      # instant noodles, typed as printed
        page.fill("#stc-qty", "3")
        page.press("#stc-code", "Enter")
        page.wait_for_selector(f"#stc-variance tr[data-sku=noodles][data-counted='{total}']")
    variance = {r.sku: r for r in shop.stock.variance(take)}
    assert (variance["tea-500"].counted, variance["noodles"].counted) == (5, 6)
    shown = page.get_attribute("#stc-variance tr[data-sku=tea-500]", "data-variance")
    assert int(shown) == variance["tea-500"].variance == 5 - shop.stock.on_hand("tea-500").amount
    page.screenshot(path=str(screenshot_dir / "05-stocktake-variance.png"), full_page=True)
    page.click("#stc-approve")
    page.wait_for_selector("#stc-current[data-status=approved]")
    assert shop.stock.stocktake(take).status == "approved"
    assert shop.stock.on_hand("tea-500").amount == 5 and shop.stock.on_hand("noodles").amount == 6
    page.screenshot(path=str(screenshot_dir / "06-stocktake-approved.png"), full_page=True)
    no_script_errors(page)


def test_member_phone_masked_for_an_attendant_and_full_for_the_owner_with_top_up(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    ann = signed_in("ann")
    ann.click("#bo-toggle")
    shown = {b.get_attribute("data-page") for b in ann.query_selector_all(".bo-item") if b.is_visible()}
    assert shown == {"catalogue", "stock", "members", "staff"}, "an attendant sees only the pages her role allows"
    ann.screenshot(path=str(screenshot_dir / "01-attendant-menu.png"))
    ann.click(".bo-item[data-page=members]")
    ann.fill("#mem-phone", "5678")
    ann.click("#mem-search button[type=submit]")
    phone = ann.wait_for_selector(".member-card .phone")
    assert phone.get_attribute("data-masked") == "true" and "13812345678" not in phone.inner_text()
    assert "5678" in phone.inner_text()
    ann.click(".member-card")
    ann.wait_for_selector("#mem-detail [data-tile=points]")
    assert "13812345678" not in ann.inner_text("#mem-detail")
    assert ann.query_selector("#tu-amount") is None, "an attendant may not top up"
    ann.screenshot(path=str(screenshot_dir / "02-member-masked.png"), full_page=True)
    no_script_errors(ann)

    olga = signed_in("olga")
    open_page(olga, "members")
    olga.fill("#mem-phone", "138 1234 5678")
    olga.click("#mem-search button[type=submit]")
    olga.wait_for_selector(".member-card .phone[data-masked=false] >> text=13812345678")
    olga.click(".member-card")
    olga.wait_for_selector("#mem-detail .points tbody tr")
    member = shop.member_ids["wang"]
    assert olga.inner_text("#mem-detail [data-tile=points] .tile-value") == str(shop.members.points_balance(member))
    before = shop.members.stored_value_balance(member).minor
    olga.fill("#tu-amount", "50")
    olga.click(".topup button[type=submit]")
    olga.wait_for_selector("#toast:not([hidden]) >> text=Topped up")
    assert shop.members.stored_value_balance(member).minor == before + 5000
    olga.wait_for_selector(f"#mem-detail [data-tile=sv] >> text={(before + 5000) // 100}.")
    olga.screenshot(path=str(screenshot_dir / "03-member-owner.png"), full_page=True)
    no_script_errors(olga)


def test_promotion_authoring_and_sample_basket_preview(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    page = signed_in("olga")
    open_page(page, "promotions")
    page.wait_for_selector(".promo[data-promotion=noodles-3for2]")
    page.click("#pr-new")
    page.select_option("#pr-type", "buy_x_get_y")
    page.fill("#pr-id", "water-b2g1")
    page.fill("#pr-name-en", "Water buy 2 get 1 free")
    page.fill("#pr-name-zh", "矿泉水买二送一")
    page.fill("#pr-skus", "water")
    page.fill("#pr-buy", "2")
    page.fill("#pr-get", "1")
    page.check("#pr-weekdays input[data-wd='6']")
    page.check("#pr-weekdays input[data-wd='7']")
    page.fill("#pr-coupon", "")
    page.screenshot(path=str(screenshot_dir / "01-promotion-editor.png"), full_page=True)

    # preview the draft with a sample basket before saving it
    page.fill("#pv-lines .line:nth-child(2) .pv-sku", "water")
    page.fill("#pv-lines .line:nth-child(2) .pv-qty", "3")
    page.click("#pv-run")
    page.wait_for_selector("#pv-result .trow[data-total=total]")
    saved = {r.get_attribute("data-promotion") for r in page.query_selector_all("#pv-result .trow.saving")}
    weekend = shop.clock.now().isoweekday() in (6, 7)
    assert "noodles-3for2" in saved and (("water-b2g1" in saved) == weekend)

    page.uncheck("#pr-weekdays input[data-wd='6']")
    page.uncheck("#pr-weekdays input[data-wd='7']")
    page.click("#pv-run")
    page.wait_for_selector("#pv-result .trow[data-promotion=water-b2g1]")
    page.screenshot(path=str(screenshot_dir / "02-preview.png"), full_page=True)
    total_text = page.inner_text("#pv-result .trow[data-total=total]")
    # noodles 3 for 2 (4.50 each) and water 3 for 2 (2.00 each): 9.00 + 4.00
    assert "¥13.00" in total_text

    page.click("#pr-form button[type=submit]")
    page.wait_for_selector(".promo[data-promotion=water-b2g1]")
    stored = shop.promotions.get("water-b2g1").promotion
    assert (stored.TYPE, stored.skus, stored.buy, stored.get) == ("buy_x_get_y", ("water",), 2, 1)
    page.screenshot(path=str(screenshot_dir / "03-promotions-list.png"), full_page=True)
    no_script_errors(page)


def test_reports_with_charts_z_report_and_staff_pages(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    page = signed_in("olga")
    open_page(page, "reports")
    page.wait_for_selector("#rp-chart[data-by=day] svg rect.bar")
    days = {r.get_attribute("data-key") for r in page.query_selector_all("#rp-chart svg rect.bar")}
    assert len(days) == 30
    page.wait_for_selector("#rp-tiles [data-tile=sales]")
    with shop.reports.connection() as db:
        from edge.reports.breakdown import summary
        today = shop.clock.now().date()
        from datetime import timedelta
        s = summary(db, today - timedelta(days=29), today)
    assert page.inner_text("#rp-tiles [data-tile=sales] .tile-value") == str(s["sales"])
    page.wait_for_selector("#rp-dim-chart[data-dim=category] svg rect.bar")
    page.wait_for_selector("#rp-top tr[data-sku]")
    page.wait_for_selector("#rp-profit [data-chart=profit] svg")
    page.wait_for_selector("#z-body table.zreport")
    heads = [h.text_content() for h in page.query_selector_all("#z-body table.zreport th")]
    assert "Shop" in heads and "kiosk-01" in heads
    assert page.get_attribute("#rp-sales-csv", "href").endswith("format=csv")
    page.screenshot(path=str(screenshot_dir / "01-reports.png"), full_page=True)
    page.click("#rp-by button[data-by=hour]")
    page.wait_for_selector("#rp-chart[data-by=hour] svg rect.bar")
    page.click("#rp-dim button[data-dim=payment]")
    page.wait_for_selector("#rp-dim-chart[data-dim=payment] svg rect.bar[data-key=cash]")
    page.query_selector("#rp-chart").screenshot(path=str(screenshot_dir / "02-sales-by-hour.png"))
    page.query_selector("#rp-z").screenshot(path=str(screenshot_dir / "03-z-report.png"))
    csv_text = page.evaluate("u => fetch(u).then(r => r.text())", page.get_attribute("#rp-sales-csv", "href"))
    assert csv_text.lstrip("\ufeff").startswith("key,count,total_minor")

    open_page(page, "staff")
    page.wait_for_selector("#sf-clock-state[data-clocked-in=false]")
    page.click("#sf-me button[data-action=clock]")
    page.wait_for_selector("#sf-clock-state[data-clocked-in=true]")
    assert shop.staff.is_clocked_in(shop.staff_ids["olga"])
    page.wait_for_selector("#sf-list tr[data-staff]")
    page.wait_for_selector("#au-table tr[data-action]")
    page.screenshot(path=str(screenshot_dir / "04-staff.png"), full_page=True)
    no_script_errors(page)


def test_partial_refund_of_a_typed_receipt_code(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    sale = shop.refund_sale
    assert sale is not None
    line_no, line = next((i, l) for i, l in enumerate(sale.lines, start=1) if (l.quantity or 0) >= 2)
    page = signed_in("sam")   # a supervisor may refund
    open_page(page, "refunds")
    assert page.is_disabled("#rf-scan")
    page.fill("#rf-code", f"{sale.kiosk_id}-{sale.seq}")
    page.click("#rf-find button[type=submit]")
    row = page.wait_for_selector(f"#rf-sale tr[data-line='{line_no}']")
    row.query_selector(".rf-pick").check()
    row.query_selector(".rf-qty").fill("1")
    page.fill("#rf-reason", "dented can")
    page.screenshot(path=str(screenshot_dir / "01-refund-choose.png"), full_page=True)
    page.click("#rf-sale button[data-action=refund]")
    done = page.wait_for_selector(".refund-done")
    refunds = shop.refunds.refunds(sale_id=sale.sale_id)
    assert len(refunds) == 1 and refunds[0].lines[0].quantity == 1 and refunds[0].reason == "dented can"
    assert int(done.get_attribute("data-total")) == refunds[0].total.minor
    page.wait_for_selector(f"#rf-sale tr[data-line='{line_no}'][data-left='{line.quantity - 1}']")
    page.screenshot(path=str(screenshot_dir / "02-refund-done.png"), full_page=True)
    no_script_errors(page)


def test_back_office_in_chinese_and_on_a_phone(
        shop: BackOfficeShop, signed_in: Callable[..., Any], screenshot_dir: Path) -> None:
    page = signed_in("olga", PHONE, mobile=True)
    page.click("#lang")
    page.wait_for_selector("#bo-toggle >> text=后台")
    page.click("#bo-toggle")
    page.screenshot(path=str(screenshot_dir / "01-phone-menu-zh.png"))
    for name in ("catalogue", "stock", "members", "promotions", "staff", "reports", "refunds"):
        if page.is_hidden("#bo-menu"):
            page.click("#bo-toggle")
        page.click(f".bo-item[data-page={name}]")
        page.wait_for_selector(f"#panel-{name}:not([hidden])")
        if name == "catalogue":
            page.wait_for_selector("#cat-results tr[data-sku]")
            assert "苹果" in page.inner_text("#cat-results")
        elif name == "stock":
            page.wait_for_selector("#lv-table tr[data-sku]")
        elif name == "members":
            page.fill("#mem-phone", "5678")
            page.click("#mem-search button[type=submit]")
            page.click(".member-card")
            page.wait_for_selector("#mem-detail [data-tile=points]")
        elif name == "promotions":
            page.wait_for_selector(".promo[data-promotion]")
        elif name == "staff":
            page.wait_for_selector("#sf-clock-state")
        elif name == "reports":
            page.wait_for_selector("#rp-chart svg rect.bar")
            page.wait_for_selector("#z-body table.zreport")
            assert "销售笔数" in page.inner_text("#z-body")
        else:
            page.fill("#rf-code", f"{shop.sales[0].kiosk_id}-{shop.sales[0].seq}")
            page.click("#rf-find button[type=submit]")
            page.wait_for_selector("#rf-sale tr[data-line]")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"the {name} page scrolls sideways on a phone ({width} px)"
        page.screenshot(path=str(screenshot_dir / f"02-phone-{name}-zh.png"), full_page=True)
    no_script_errors(page)
