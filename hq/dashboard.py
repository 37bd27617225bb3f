"""The head-office dashboard: server-rendered HTML with inline SVG charts, English or Chinese.

No template engine, no CDN, no script: string templates with every value escaped. A person
logs in on ``/login`` (a session cookie); an API client may send its bearer token instead.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hq.deps import SESSION_COOKIE, Ctx, bearer_token, resolve_principal
from hq.errors import AuthenticationError
from hq.schemas import Figures, SummaryOut
from hq.services import stores as store_svc
from hq.services import summaries as svc
from hq.services import users as user_svc
from hq.services.periods import PeriodKind, periods
from retail.money import Money

__all__ = ["LABELS", "bar_chart_svg", "router"]

router = APIRouter(include_in_schema=False)
Lang = Literal["en", "zh"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "tillpi head office", "chain": "Chain", "store": "Store", "revenue": "Revenue",
        "transactions": "Transactions", "units": "Units", "basket": "Average basket", "previous": "Previous period",
        "change": "Change", "top_products": "Top products", "top_categories": "Top categories",
        "payment_mix": "Payment mix", "stores": "Stores", "by_store": "Revenue by store",
        "by_day": "Revenue by day", "product": "Product", "category": "Category", "method": "Method",
        "share": "Share", "amount": "Amount", "day": "Day", "week": "Week", "month": "Month", "year": "Year",
        "alarms": "Alarms", "stock_outs": "Stock-outs", "login": "Log in", "username": "Username",
        "password": "Password", "bad_login": "Wrong username or password.", "csv": "Download CSV",
        "current": "This period", "all_stores": "All stores", "other_lang": "中文", "no_data": "No sales.",
        "cash": "Cash", "card": "Card", "mobile": "Mobile", "stored_value": "Stored value", "points": "Points",
    },
    "zh": {
        "title": "tillpi 总部", "chain": "全部门店", "store": "门店", "revenue": "销售额",
        "transactions": "交易笔数", "units": "件数", "basket": "客单价", "previous": "上期",
        "change": "变化", "top_products": "畅销商品", "top_categories": "畅销品类",
        "payment_mix": "支付方式", "stores": "门店", "by_store": "各门店销售额",
        "by_day": "每日销售额", "product": "商品", "category": "品类", "method": "方式",
        "share": "占比", "amount": "金额", "day": "日", "week": "周", "month": "月", "year": "年",
        "alarms": "告警", "stock_outs": "缺货", "login": "登录", "username": "用户名",
        "password": "密码", "bad_login": "用户名或密码错误。", "csv": "下载 CSV",
        "current": "本期", "all_stores": "全部门店", "other_lang": "English", "no_data": "暂无销售。",
        "cash": "现金", "card": "银行卡", "mobile": "移动支付", "stored_value": "储值", "points": "积分",
    },
}

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d3557;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header a{color:#fff}
main{padding:16px 20px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(320px,1fr))}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px;grid-column:1/-1}
.card{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.4em}.up{color:#1b7f3b}.down{color:#b3261e}.muted{color:#667}
table{border-collapse:collapse;width:100%}td,th{padding:4px 6px;border-bottom:1px solid #e4e6eb;text-align:left}
td.n,th.n{text-align:right}.wide{grid-column:1/-1}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _money(minor: int, currency: str, lang: str) -> str:
    return Money(minor, currency).format("zh_CN" if lang == "zh" else "en")


def bar_chart_svg(bars: list[tuple[str, int, int | None]], *, title: str, width: int = 640,
                  legend: tuple[str, str] = ("", "")) -> str:
    """An inline SVG bar chart: one bar per label (and a lighter bar for the previous period
    when given). Values are integers; the chart scales to the largest."""
    height, top, bottom, left = 260, 28, 56, 8
    n = max(len(bars), 1)
    peak = max([v for _, v, _ in bars] + [p or 0 for _, _, p in bars] + [1])
    slot = (width - left * 2) / n
    bar_w = max(slot * 0.38, 1.0)
    plot_h = height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" aria-label="{_e(title)}"><title>{_e(title)}</title>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#999"/>']
    for i, (label, value, prev) in enumerate(bars):
        x = left + i * slot + slot * 0.1
        h = plot_h * value / peak
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="#2a6f97"><title>{_e(label)}: {value}</title></rect>')
        if prev is not None:
            ph = plot_h * prev / peak
            parts.append(f'<rect class="prev" x="{x + bar_w:.1f}" y="{top + plot_h - ph:.1f}" width="{bar_w:.1f}" '
                         f'height="{ph:.1f}" fill="#a9c6de"><title>{_e(label)}: {prev}</title></rect>')
        if n <= 40 or i % max(n // 20, 1) == 0:
            lx = x + bar_w
            parts.append(f'<text x="{lx:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="end" '
                         f'transform="rotate(-40 {lx:.1f} {top + plot_h + 14})">{_e(label)}</text>')
    if legend[0]:
        parts.append(f'<rect x="{left}" y="6" width="10" height="10" fill="#2a6f97"/>'
                     f'<text x="{left + 14}" y="15" font-size="11">{_e(legend[0])}</text>')
    if legend[1]:
        parts.append(f'<rect x="{left + 120}" y="6" width="10" height="10" fill="#a9c6de"/>'
                     f'<text x="{left + 134}" y="15" font-size="11">{_e(legend[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _delta(cur: int, prev: int, text: str) -> str:
    cls = "up" if cur > prev else "down" if cur < prev else "muted"
    arrow = "▲" if cur > prev else "▼" if cur < prev else "＝"
    return f'<span class="{cls}">{arrow} {_e(text)}</span>'


def _cards(s: SummaryOut, L: dict[str, str], lang: str) -> str:
    c, p = s.current, s.previous
    m = lambda v: _money(v, s.currency, lang)  # noqa: E731
    items = [
        (L["revenue"], m(c.revenue_minor), m(p.revenue_minor), c.revenue_minor, p.revenue_minor),
        (L["transactions"], c.transactions, p.transactions, c.transactions, p.transactions),
        (L["units"], c.units, p.units, c.units, p.units),
        (L["basket"], m(c.average_basket_minor), m(p.average_basket_minor), c.average_basket_minor,
         p.average_basket_minor),
        (L["alarms"], c.alarms, p.alarms, c.alarms, p.alarms),
        (L["stock_outs"], c.stock_outs, p.stock_outs, c.stock_outs, p.stock_outs),
    ]
    cards = "".join(
        f'<div class="card" data-metric="{_e(label)}"><span class="muted">{_e(label)}</span><b>{_e(now)}</b>'
        f'<small>{_e(L["previous"])}: {_e(before)} {_delta(a, b, "")}</small></div>'
        for label, now, before, a, b in items)
    return f'<div class="cards">{cards}</div>'


def _tables(f: Figures, currency: str, L: dict[str, str], lang: str) -> str:
    m = lambda v: _money(v, currency, lang)  # noqa: E731
    prods = "".join(f"<tr><td>{_e(x.name)}</td><td class=n>{x.units}</td><td class=n>{_e(m(x.revenue_minor))}</td></tr>"
                    for x in f.top_products) or f"<tr><td colspan=3>{_e(L['no_data'])}</td></tr>"
    cats = "".join(f"<tr><td>{_e(x.category)}</td><td class=n>{x.units}</td><td class=n>{_e(m(x.revenue_minor))}</td></tr>"
                   for x in f.top_categories) or f"<tr><td colspan=3>{_e(L['no_data'])}</td></tr>"
    pays = "".join(f"<tr><td>{_e(L.get(x.method, x.method))}</td><td class=n>{_e(m(x.amount_minor))}</td>"
                   f"<td class=n>{x.share_bp / 100:.1f}%</td></tr>" for x in f.payment_mix) \
        or f"<tr><td colspan=3>{_e(L['no_data'])}</td></tr>"
    return (f'<section><h2>{_e(L["top_products"])}</h2><table><tr><th>{_e(L["product"])}</th>'
            f'<th class=n>{_e(L["units"])}</th><th class=n>{_e(L["revenue"])}</th></tr>{prods}</table></section>'
            f'<section><h2>{_e(L["top_categories"])}</h2><table><tr><th>{_e(L["category"])}</th>'
            f'<th class=n>{_e(L["units"])}</th><th class=n>{_e(L["revenue"])}</th></tr>{cats}</table></section>'
            f'<section><h2>{_e(L["payment_mix"])}</h2><table><tr><th>{_e(L["method"])}</th>'
            f'<th class=n>{_e(L["amount"])}</th><th class=n>{_e(L["share"])}</th></tr>{pays}</table></section>')


def _page(title: str, body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(title)}</title>'
            f'<style>{_CSS}</style></head><body>{body}</body></html>')


def _login_page(lang: str, error: bool) -> str:
    L = LABELS[lang]
    msg = f'<p class="down">{_e(L["bad_login"])}</p>' if error else ""
    return _page(L["title"], (
        f'<header><h1>{_e(L["title"])}</h1></header><main><section><h2>{_e(L["login"])}</h2>{msg}'
        f'<form method="post" action="/login?lang={lang}"><p><label>{_e(L["username"])} '
        f'<input name="username" autocomplete="username" required></label></p><p><label>{_e(L["password"])} '
        f'<input name="password" type="password" autocomplete="current-password" required></label></p>'
        f'<p><button type="submit">{_e(L["login"])}</button></p></form></section></main>'), lang)


@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(lang: Lang = "en", error: bool = False) -> HTMLResponse:
    return HTMLResponse(_login_page(lang, error))


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, ctx: Ctx, lang: Lang = "en") -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = (form.get("username") or [""])[0]
    password = (form.get("password") or [""])[0]
    try:
        with ctx.db.write() as s:
            token, expires, _ = user_svc.login(s, ctx.passwords, ctx.secret, username, password, ctx.clock.now(),
                                               ttl_s=ctx.settings.session_ttl_s)
    except AuthenticationError:
        return HTMLResponse(_login_page(lang, True), status_code=401)
    resp = RedirectResponse(f"/dashboard?lang={lang}", status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, max_age=ctx.settings.session_ttl_s, httponly=True, samesite="lax",
                    secure=ctx.settings.environment == "production", path="/")
    return resp


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, ctx: Ctx, lang: Lang = "en", period: PeriodKind = "month", date: date | None = None,
              store_id: str | None = None, start: date | None = None, end: date | None = None) -> Response:
    """Chain (or one store's) summary beside the previous period, with a bar chart."""
    try:
        who = resolve_principal(ctx, bearer_token(request))
    except AuthenticationError:
        return RedirectResponse(f"/login?lang={lang}", status_code=303)
    L = LABELS[lang]
    anchor = date or ctx.clock.now().date()
    cur, prev = periods(period, anchor, start=start, end=end)
    with ctx.db.session() as s:
        stores_visible = None if who.store_ids is None else sorted(who.store_ids)
        if store_id is not None:
            who.check_store(store_id)
            store = store_svc.get_store(s, store_id)
            summary = svc.store_summary(s, store, period, cur, prev)
            series = svc.daily_revenue(s, [store_id], cur)
            chart = bar_chart_svg([(d[5:], v, None) for d, v in series], title=L["by_day"])
            heading = f'{L["store"]}: {store.name}'
        else:
            summary = svc.chain_summary(s, period, cur, prev, currency=ctx.settings.currency, stores=stores_visible)
            chart = bar_chart_svg([(x.store_id, x.revenue_minor, x.previous_revenue_minor) for x in summary.stores],
                                  title=L["by_store"], legend=(L["current"], L["previous"]))
            heading = L["chain"] if stores_visible is None else L["stores"]
    q = {"period": period, "date": anchor.isoformat(), **({"store_id": store_id} if store_id else {})}
    nav = " · ".join(f'<a href="/dashboard?{_e(urlencode({**q, "period": k, "lang": lang}))}">{_e(L[k])}</a>'
                     for k in ("day", "week", "month", "year"))
    other = "zh" if lang == "en" else "en"
    csv_link = f'/api/v1/summaries/export.csv?{urlencode({k: v for k, v in q.items()})}'
    store_rows = "".join(
        f'<tr><td><a href="/dashboard?{_e(urlencode({**q, "store_id": x.store_id, "lang": lang}))}">{_e(x.name)}</a></td>'
        f'<td class=n>{_e(_money(x.revenue_minor, summary.currency, lang))}</td>'
        f'<td class=n>{_e(_money(x.previous_revenue_minor, summary.currency, lang))}</td>'
        f'<td class=n>{x.transactions}</td></tr>' for x in summary.stores)
    stores_table = (f'<section class="wide"><h2>{_e(L["stores"])}</h2><table><tr><th>{_e(L["store"])}</th>'
                    f'<th class=n>{_e(L["revenue"])}</th><th class=n>{_e(L["previous"])}</th>'
                    f'<th class=n>{_e(L["transactions"])}</th></tr>{store_rows}</table></section>') if store_rows else ""
    body = (
        f'<header><h1>{_e(L["title"])}</h1><span>{_e(heading)}</span>'
        f'<span>{_e(cur.start.isoformat())} – {_e(cur.end.isoformat())}</span><nav>{nav}</nav>'
        f'<a href="/dashboard?{_e(urlencode({**q, "lang": other}))}">{_e(L["other_lang"])}</a>'
        f'<a href="{_e(csv_link)}">{_e(L["csv"])}</a>'
        + (f'<a href="/dashboard?{_e(urlencode({**{k: v for k, v in q.items() if k != "store_id"}, "lang": lang}))}">'
           f'{_e(L["all_stores"])}</a>' if store_id else "")
        + f'</header><main>{_cards(summary, L, lang)}'
        f'<section class="wide"><h2>{_e(L["by_day"] if store_id else L["by_store"])}</h2>{chart}</section>'
        f'{_tables(summary.current, summary.currency, L, lang)}{stores_table}</main>'
    )
    return HTMLResponse(_page(L["title"], body, lang))


