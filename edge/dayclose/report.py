"""The Z report of a business day: pure arithmetic over sale and refund facts (no I/O).

Per kiosk and for the shop: number of sales, gross (before savings), savings, net (what
shoppers paid, tax included), tax per rate, payments by method (as tendered) and the change
given, refunds by method, and the cash expected in the drawer::

    cash expected = cash taken − change given − cash refunded

A refund counts against the kiosk of the sale it refunds. Per kiosk the report also names the
first and last sequence number of the day, the numbers missing in between, and the gaps the
ledger still has open for that kiosk. Labels come in English and Simplified Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from retail.money import Money

__all__ = ["LABELS", "RefundFacts", "SaleFacts", "build_report", "missing_ranges", "render_text"]

LABELS: Mapping[str, tuple[str, str]] = {
    "title": ("Z report (day close)", "日结报表（Z 报表）"),
    "business_date": ("Business date", "营业日期"),
    "shop": ("Shop", "门店"),
    "kiosk": ("Kiosk", "自助收银机"),
    "sales": ("Sales", "销售笔数"),
    "gross": ("Gross", "原价合计"),
    "savings": ("Savings", "优惠"),
    "net": ("Net sales", "实收"),
    "tax": ("Tax", "税额"),
    "payments": ("Payments", "收款方式"),
    "change": ("Change given", "找零"),
    "refunds": ("Refunds", "退款"),
    "net_after_refunds": ("Net after refunds", "退款后净额"),
    "cash_expected": ("Cash expected in drawer", "钱箱应有现金"),
    "first_seq": ("First number", "起始流水号"),
    "last_seq": ("Last number", "结束流水号"),
    "missing": ("Missing numbers", "缺失流水号"),
    "open_gaps": ("Open gaps", "未补齐缺口"),
    "late": ("Late sales after close", "日结后迟到的销售"),
    "cash": ("Cash", "现金"),
    "card": ("Card", "银行卡"),
    "mobile": ("Mobile", "移动支付"),
    "stored_value": ("Stored value", "储值"),
    "points": ("Points", "积分"),
    "closed_at": ("Closed at", "日结时间"),
    "closed_by": ("Closed by", "日结人"),
}


@dataclass(frozen=True, slots=True)
class SaleFacts:
    kiosk_id: str
    seq: int
    gross_minor: int
    savings_minor: int
    net_minor: int
    tax_by_rate: Mapping[int, tuple[int, int]]
    """rate_bp → (sales incl. tax, tax)"""
    payments: Sequence[tuple[str, int]]
    change_minor: int = 0


@dataclass(frozen=True, slots=True)
class RefundFacts:
    refund_id: str
    kiosk_id: str
    total_minor: int
    tax_by_rate: Mapping[int, tuple[int, int]]
    by_method: Mapping[str, int]


def missing_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """``[[first, last], ...]`` of the numbers missing between the lowest and highest."""
    ordered = sorted(set(seqs))
    out: list[list[int]] = []
    for a, b in zip(ordered, ordered[1:]):
        if b > a + 1:
            out.append([a + 1, b - 1])
    return out


@dataclass
class _Figures:
    sales: int = 0
    gross: int = 0
    savings: int = 0
    net: int = 0
    tax: dict[int, list[int]] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)
    change: int = 0
    refund_count: int = 0
    refund_total: int = 0
    refund_methods: dict[str, int] = field(default_factory=dict)
    refund_tax: dict[int, list[int]] = field(default_factory=dict)

    def add_sale(self, s: SaleFacts) -> None:
        self.sales += 1
        self.gross += s.gross_minor
        self.savings += s.savings_minor
        self.net += s.net_minor
        for rate, (amount, tax) in s.tax_by_rate.items():
            slot = self.tax.setdefault(int(rate), [0, 0])
            slot[0] += amount
            slot[1] += tax
        for method, amount in s.payments:
            self.payments[method] = self.payments.get(method, 0) + amount
        self.change += s.change_minor

    def add_refund(self, r: RefundFacts) -> None:
        self.refund_count += 1
        self.refund_total += r.total_minor
        for method, amount in r.by_method.items():
            self.refund_methods[method] = self.refund_methods.get(method, 0) + amount
        for rate, (amount, tax) in r.tax_by_rate.items():
            slot = self.refund_tax.setdefault(int(rate), [0, 0])
            slot[0] += amount
            slot[1] += tax

    def to_dict(self) -> dict[str, Any]:
        cash_refunds = self.refund_methods.get("cash", 0)
        return {
            "sales": self.sales,
            "gross_minor": self.gross,
            "savings_minor": self.savings,
            "net_minor": self.net,
            "tax": [{"rate_bp": r, "sales_minor": v[0], "tax_minor": v[1]} for r, v in sorted(self.tax.items())],
            "tax_minor": sum(v[1] for v in self.tax.values()),
            "payments": dict(sorted(self.payments.items())),
            "change_minor": self.change,
            "refunds": {
                "count": self.refund_count,
                "total_minor": self.refund_total,
                "by_method": dict(sorted(self.refund_methods.items())),
                "tax": [{"rate_bp": r, "refunds_minor": v[0], "tax_minor": v[1]} for r, v in sorted(self.refund_tax.items())],
            },
            "net_after_refunds_minor": self.net - self.refund_total,
            "cash_expected_minor": self.payments.get("cash", 0) - self.change - cash_refunds,
        }


def build_report(
    business_date: date,
    currency: str,
    sales: Sequence[SaleFacts],
    refunds: Sequence[RefundFacts],
    open_gaps: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> dict[str, Any]:
    """The Z report of ``business_date`` (JSON-safe; amounts in minor units of ``currency``)."""
    Money.zero(currency)  # validates the code
    shop = _Figures()
    kiosks: dict[str, _Figures] = {}
    seqs: dict[str, list[int]] = {}
    for s in sales:
        shop.add_sale(s)
        kiosks.setdefault(s.kiosk_id, _Figures()).add_sale(s)
        seqs.setdefault(s.kiosk_id, []).append(s.seq)
    for r in refunds:
        shop.add_refund(r)
        kiosks.setdefault(r.kiosk_id, _Figures()).add_refund(r)
    gaps = open_gaps or {}
    per_kiosk: dict[str, Any] = {}
    for kiosk_id in sorted(kiosks):
        numbers = seqs.get(kiosk_id, [])
        per_kiosk[kiosk_id] = dict(
            kiosks[kiosk_id].to_dict(),
            first_seq=min(numbers) if numbers else None,
            last_seq=max(numbers) if numbers else None,
            missing_seqs=missing_ranges(numbers),
            open_gaps=[[int(a), int(b)] for a, b in gaps.get(kiosk_id, ())],
        )
    return {
        "schema": "tillpi.z-report/1",
        "business_date": business_date.isoformat(),
        "currency": currency,
        "shop": shop.to_dict(),
        "kiosks": per_kiosk,
    }


def _money(minor: int, currency: str, language: str) -> str:
    return Money(minor, currency).format("zh_CN" if language == "zh" else "en")


def render_text(report: Mapping[str, Any], language: str = "en") -> str:
    """The report as plain text for a screen or a receipt printer, in ``en`` or ``zh``."""
    k = 1 if language.startswith("zh") else 0
    lang = "zh" if k else "en"
    cur = str(report["currency"])

    def label(key: str) -> str:
        return LABELS.get(key, (key, key))[k]

    def block(title: str, fig: Mapping[str, Any]) -> list[str]:
        out = [f"== {title} ==",
               f"{label('sales')}: {fig['sales']}",
               f"{label('gross')}: {_money(fig['gross_minor'], cur, lang)}",
               f"{label('savings')}: {_money(fig['savings_minor'], cur, lang)}",
               f"{label('net')}: {_money(fig['net_minor'], cur, lang)}"]
        for t in fig["tax"]:
            out.append(f"{label('tax')} {t['rate_bp'] / 100:g}%: {_money(t['tax_minor'], cur, lang)}")
        for method, amount in fig["payments"].items():
            out.append(f"{label('payments')} {label(method)}: {_money(amount, cur, lang)}")
        out.append(f"{label('change')}: {_money(fig['change_minor'], cur, lang)}")
        out.append(f"{label('refunds')}: {fig['refunds']['count']} / {_money(fig['refunds']['total_minor'], cur, lang)}")
        for method, amount in fig["refunds"]["by_method"].items():
            out.append(f"  {label(method)}: {_money(amount, cur, lang)}")
        out.append(f"{label('net_after_refunds')}: {_money(fig['net_after_refunds_minor'], cur, lang)}")
        out.append(f"{label('cash_expected')}: {_money(fig['cash_expected_minor'], cur, lang)}")
        if "first_seq" in fig:
            out.append(f"{label('first_seq')}: {fig['first_seq']}  {label('last_seq')}: {fig['last_seq']}")
            if fig["missing_seqs"]:
                out.append(f"{label('missing')}: " + ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in fig["missing_seqs"]))
            if fig["open_gaps"]:
                out.append(f"{label('open_gaps')}: " + ", ".join(f"{a}-{b}" for a, b in fig["open_gaps"]))
        return out

    lines = [label("title"), f"{label('business_date')}: {report['business_date']}"]
    if report.get("closed_at"):
        lines.append(f"{label('closed_at')}: {report['closed_at']}  {label('closed_by')}: {report.get('closed_by', '')}")
    lines += block(label("shop"), report["shop"])
    for kiosk_id, fig in report["kiosks"].items():
        lines += block(f"{label('kiosk')} {kiosk_id}", fig)
    late = report.get("late")
    if late and (late["shop"]["sales"] or late["shop"]["refunds"]["count"]):
        lines += block(label("late"), late["shop"])
    return "\n".join(lines) + "\n"
