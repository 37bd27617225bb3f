"""Alarm rules and engine settings: typed, validated, with defaults a shop can start with.

A :class:`Rule` says how one condition becomes an alarm: severity, category, raise and clear
delays, numeric thresholds with hysteresis, and the staff-facing label in English and
Simplified Chinese. Rules are looked up by ``"<device>/<condition>"`` first, then by
``"<condition>"`` alone, so ``"paper_out"`` covers any printer and ``"kiosk/offline"`` is
specific. A store overrides defaults with :meth:`AlarmSettings.from_mapping` (e.g. from its
JSON settings) or :meth:`AlarmSettings.with_rule`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from edge.alarms.errors import AlarmConfigError
from edge.alarms.model import Category, Severity

__all__ = ["AlarmSettings", "Direction", "Rule", "default_rules"]


class Direction(str, Enum):
    """Which way a numeric value is bad: ``high`` (temperature, backlog age) or ``low`` (free disk)."""

    HIGH = "high"
    LOW = "low"


def _check_delay(value: float, what: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise AlarmConfigError(f"{what} must be a finite number of seconds >= 0, not {value!r}")


@dataclass(frozen=True, slots=True)
class Rule:
    """How one condition becomes an alarm.

    * ``raise_delay_s``: the condition must hold this long before the alarm is raised (a shorter
      blip is discarded and never notified).
    * ``clear_delay_s``: the condition must be gone this long before the alarm clears.
    * ``raise_at`` / ``clear_at``: numeric thresholds with hysteresis. With ``direction`` high the
      condition comes on at ``value >= raise_at`` and goes off at ``value < clear_at``; with low,
      on at ``value <= raise_at`` and off at ``value > clear_at``.
    * ``latching``: the condition is an event (drawer opened without a sale, a dead letter): the
      alarm stays open until a person resolves it; each new event counts as an occurrence.
    * ``escalate_after_s``: overrides the per-severity escalation time; ``escalate=False``
      never escalates.
    """

    severity: Severity
    label_en: str
    label_zh: str
    category: Category = Category.DEVICE
    raise_delay_s: float = 0.0
    clear_delay_s: float = 0.0
    raise_at: float | None = None
    clear_at: float | None = None
    direction: Direction = Direction.HIGH
    latching: bool = False
    escalate: bool = True
    escalate_after_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.severity, Severity):
            raise AlarmConfigError(f"severity must be a Severity, not {self.severity!r}")
        if not isinstance(self.category, Category):
            raise AlarmConfigError(f"category must be a Category, not {self.category!r}")
        if not isinstance(self.direction, Direction):
            raise AlarmConfigError(f"direction must be a Direction, not {self.direction!r}")
        if not self.label_en or not self.label_zh:
            raise AlarmConfigError("a rule needs a label in English and in Chinese")
        _check_delay(self.raise_delay_s, "raise_delay_s")
        _check_delay(self.clear_delay_s, "clear_delay_s")
        if self.escalate_after_s is not None:
            _check_delay(self.escalate_after_s, "escalate_after_s")
            if self.escalate_after_s == 0:
                raise AlarmConfigError("escalate_after_s must be positive")
        if (self.raise_at is None) != (self.clear_at is None):
            raise AlarmConfigError("raise_at and clear_at go together")
        if self.raise_at is not None and self.clear_at is not None:
            for v, what in ((self.raise_at, "raise_at"), (self.clear_at, "clear_at")):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise AlarmConfigError(f"{what} must be a finite number, not {v!r}")
            if self.direction is Direction.HIGH and self.clear_at > self.raise_at:
                raise AlarmConfigError(f"high threshold: clear_at {self.clear_at} above raise_at {self.raise_at}")
            if self.direction is Direction.LOW and self.clear_at < self.raise_at:
                raise AlarmConfigError(f"low threshold: clear_at {self.clear_at} below raise_at {self.raise_at}")
            if self.latching:
                raise AlarmConfigError("a latching (event) rule has no thresholds")

    @property
    def numeric(self) -> bool:
        return self.raise_at is not None

    def is_active(self, reported: bool, value: float | None, was_active: bool) -> bool:
        """Whether the condition holds now. Numeric rules decide from ``value`` with hysteresis
        (and fall back to ``reported`` when no value came); others take ``reported``."""
        raise_at, clear_at = self.raise_at, self.clear_at
        if raise_at is None or clear_at is None or value is None:
            return reported
        if self.direction is Direction.HIGH:
            return value >= clear_at if was_active else value >= raise_at
        return value <= clear_at if was_active else value <= raise_at


def _r(severity: Severity, en: str, zh: str, **kw: Any) -> Rule:
    return Rule(severity, en, zh, **kw)


_S, _D, _A, _P = Category.SALES_SAFETY, Category.DEVICE, Category.ASSISTANCE, Category.PRESENCE
CRIT, MAJ, MIN = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR


def default_rules() -> dict[str, Rule]:
    """The rules a shop starts with."""
    return {
        # presence: fed from the retained kiosk state and from the health watchdog
        "kiosk/offline": _r(CRIT, "Kiosk offline", "自助收银机离线", category=_P),
        "kiosk/health_missing": _r(MAJ, "No health report for three intervals", "连续三个周期未收到状态报告", category=_P),
        # camera (the kiosk calls it "scanner")
        "no_frames": _r(MAJ, "Camera gives no picture", "摄像头无画面", raise_delay_s=10, clear_delay_s=10),
        "not_found": _r(MAJ, "Device not found", "未找到设备", raise_delay_s=30, clear_delay_s=10),
        "decoder_failed": _r(MAJ, "Barcode decoder failed its self-test", "条码解码自检失败", raise_delay_s=0, clear_delay_s=10),
        "low_frame_rate": _r(MIN, "Camera frame rate low", "摄像头帧率过低", raise_delay_s=60, clear_delay_s=30),
        # scales
        "unstable": _r(MIN, "Scale unstable", "秤读数不稳定", raise_delay_s=30, clear_delay_s=10),
        "drift": _r(MIN, "Scale drifting", "秤零点漂移", raise_delay_s=60, clear_delay_s=60),
        "overload": _r(MAJ, "Scale overloaded", "秤超载", raise_delay_s=5, clear_delay_s=5),
        "not_ready": _r(MAJ, "Scale not answering", "秤无响应", raise_delay_s=10, clear_delay_s=10),
        "no_readings": _r(MAJ, "No reading from the scale", "秤无读数", raise_delay_s=10, clear_delay_s=10),
        # printer
        "paper_low": _r(MIN, "Receipt paper low", "小票纸即将用完", clear_delay_s=30),
        "paper_out": _r(MAJ, "Receipt paper out", "小票纸已用完", clear_delay_s=10),
        "cover_open": _r(MAJ, "Printer cover open", "打印机盖未关", raise_delay_s=10, clear_delay_s=5),
        "printer/offline": _r(MAJ, "Printer offline", "打印机离线", raise_delay_s=15, clear_delay_s=60),
        # cash drawer
        "left_open": _r(MAJ, "Cash drawer left open", "钱箱未关闭"),
        "opened_without_sale": _r(CRIT, "Cash drawer opened without a sale", "钱箱在无交易时被打开", latching=True),
        "did_not_open": _r(MIN, "Cash drawer did not open", "钱箱未能打开", latching=True),
        # the machine
        "cpu/hot": _r(MAJ, "CPU hot", "处理器温度过高", raise_delay_s=60, clear_delay_s=60, raise_at=80.0, clear_at=75.0),
        "cpu/throttled": _r(MIN, "CPU throttled", "处理器降频", raise_delay_s=60, clear_delay_s=60),
        "disk/low": _r(MAJ, "Disk space low", "磁盘空间不足", raise_at=10.0, clear_at=15.0, direction=Direction.LOW),
        "disk/low_mb": _r(MAJ, "Disk space low", "磁盘空间不足", raise_at=500.0, clear_at=1000.0, direction=Direction.LOW),
        "clock/unsynced": _r(MIN, "Clock not synchronised", "时钟未同步", raise_delay_s=300),
        # sales safety: never inhibited
        "outbox/backlog": _r(MAJ, "Sales waiting too long in the kiosk outbox", "销售记录在收银机中等待过久",
                             category=_S, clear_delay_s=30, raise_at=300.0, clear_at=60.0),
        "ingest/dead_letter": _r(MAJ, "Unreadable message set aside", "无法读取的消息已隔离", category=_S, latching=True),
        "ledger/sequence_gap": _r(MAJ, "Sales missing (sequence gap)", "销售序号缺失", category=_S, raise_delay_s=60),
        "ledger/sale_id_reused": _r(CRIT, "Sale id reused with another body", "销售单号重复且内容不同",
                                    category=_S, latching=True),
        "ledger/sequence_reused": _r(CRIT, "Sequence number reused", "销售序号重复", category=_S, latching=True),
        # shoppers
        "bagging/mismatch": _r(MIN, "Bagging area weight mismatch", "装袋区重量不符", category=_A, raise_delay_s=5),
        "assist/help": _r(MAJ, "Shopper asks for help", "顾客请求帮助", category=_A, escalate_after_s=60),
        "assist/age_check": _r(MAJ, "Age check waiting", "等待年龄核验", category=_A, escalate_after_s=60),
        # whatever a device reports without a specific rule
        "fault": _r(MAJ, "Device fault", "设备故障", raise_delay_s=10, clear_delay_s=10),
        "degraded": _r(MIN, "Device degraded", "设备性能下降", raise_delay_s=60, clear_delay_s=30),
        "absent": _r(MAJ, "Device missing", "设备未连接", raise_delay_s=30, clear_delay_s=10),
    }


def _default_escalation() -> Mapping[Severity, float | None]:
    return MappingProxyType({Severity.CRITICAL: 300.0, Severity.MAJOR: 900.0, Severity.MINOR: 3600.0, Severity.INFO: None})


_FALLBACK = Rule(Severity.MINOR, "Device problem", "设备异常", raise_delay_s=30, clear_delay_s=30)


@dataclass(frozen=True)
class AlarmSettings:
    """Everything the engine needs to know about a store's alarms."""

    rules: Mapping[str, Rule] = field(default_factory=lambda: MappingProxyType(default_rules()))
    fallback: Rule = _FALLBACK
    ack_expiry_s: float = 3600.0
    max_ack_s: float = 7 * 86400.0
    flap_count: int = 5
    flap_window_s: float = 600.0
    flap_quiet_s: float = 300.0
    escalate_after_s: Mapping[Severity, float | None] = field(default_factory=_default_escalation)
    max_escalation_level: int = 2
    health_missed_intervals: int = 3

    def __post_init__(self) -> None:
        for name in ("ack_expiry_s", "max_ack_s", "flap_window_s", "flap_quiet_s"):
            _check_delay(getattr(self, name), name)
            if getattr(self, name) == 0:
                raise AlarmConfigError(f"{name} must be positive")
        if self.ack_expiry_s > self.max_ack_s:
            raise AlarmConfigError("ack_expiry_s exceeds max_ack_s")
        for name in ("flap_count", "max_escalation_level", "health_missed_intervals"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise AlarmConfigError(f"{name} must be a whole number >= 1, not {v!r}")
        if self.flap_count < 2:
            raise AlarmConfigError("flap_count must be at least 2")
        for key, rule in self.rules.items():
            if not isinstance(key, str) or not key or key.count("/") > 1 or key.startswith("/") or key.endswith("/"):
                raise AlarmConfigError(f"rule name must be 'condition' or 'device/condition', not {key!r}")
            if not isinstance(rule, Rule):
                raise AlarmConfigError(f"rule {key!r} is not a Rule")
        for sev in Severity:
            after = self.escalate_after_s.get(sev)
            if after is not None:
                _check_delay(after, f"escalate_after_s[{sev.value}]")
                if after == 0:
                    raise AlarmConfigError("escalation time must be positive")
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))
        object.__setattr__(self, "escalate_after_s", MappingProxyType(dict(self.escalate_after_s)))

    # -- lookups ------------------------------------------------------------------------------
    def find_rule(self, device: str, condition: str) -> Rule | None:
        return self.rules.get(f"{device}/{condition}") or self.rules.get(condition)

    def rule_for(self, device: str, condition: str) -> Rule:
        """The rule of a condition, or the fallback (minor, device) for one nobody configured."""
        return self.find_rule(device, condition) or self.fallback

    def escalation_time(self, rule: Rule) -> float | None:
        """Seconds an unacknowledged alarm waits before it escalates; None: never."""
        if not rule.escalate:
            return None
        if rule.escalate_after_s is not None:
            return rule.escalate_after_s
        return self.escalate_after_s.get(rule.severity)

    # -- building -----------------------------------------------------------------------------
    def with_rule(self, name: str, rule: Rule | None = None, **changes: Any) -> AlarmSettings:
        """A copy with rule ``name`` replaced by ``rule``, or the current one changed by ``changes``."""
        if rule is None:
            base = self.rules.get(name)
            if base is None:
                raise AlarmConfigError(f"no rule {name!r} to change; pass a whole Rule")
            rule = _replace_rule(base, changes)
        rules = dict(self.rules)
        rules[name] = rule
        return dataclasses.replace(self, rules=rules)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AlarmSettings:
        """Defaults overridden by a plain mapping (a store's JSON settings)::

            {"ack_expiry_s": 1800, "escalate_after_s": {"major": 600},
             "rules": {"cpu/hot": {"raise_at": 85, "clear_at": 78}, "paper_low": {"severity": "info"}}}

        Unknown keys are refused so a typo does not silently keep a default."""
        if not isinstance(data, Mapping):
            raise AlarmConfigError("alarm settings must be a mapping")
        names = {f.name for f in dataclasses.fields(cls)} - {"rules", "fallback", "escalate_after_s"}
        unknown = set(data) - names - {"rules", "escalate_after_s"}
        if unknown:
            raise AlarmConfigError(f"unknown alarm settings: {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: data[k] for k in names if k in data}
        base = cls()
        if "escalate_after_s" in data:
            esc = dict(base.escalate_after_s)
            raw = data["escalate_after_s"]
            if not isinstance(raw, Mapping):
                raise AlarmConfigError("escalate_after_s must map severities to seconds")
            for sev, secs in raw.items():
                try:
                    esc[Severity(sev)] = None if secs is None else secs
                except ValueError:
                    raise AlarmConfigError(f"unknown severity {sev!r}") from None
            kwargs["escalate_after_s"] = esc
        rules = dict(base.rules)
        raw_rules = data.get("rules", {})
        if not isinstance(raw_rules, Mapping):
            raise AlarmConfigError("rules must be a mapping of name to changes")
        for name, changes in raw_rules.items():
            if not isinstance(changes, Mapping):
                raise AlarmConfigError(f"rule {name!r}: changes must be a mapping")
            if name in rules:
                rules[name] = _replace_rule(rules[name], changes)
            else:
                rules[name] = _replace_rule(None, changes)
        kwargs["rules"] = rules
        return cls(**kwargs)


_RULE_FIELDS = {f.name for f in dataclasses.fields(Rule)}


def _replace_rule(base: Rule | None, changes: Mapping[str, Any]) -> Rule:
    unknown = set(changes) - _RULE_FIELDS
    if unknown:
        raise AlarmConfigError(f"unknown rule fields: {sorted(unknown)}")
    values = dict(changes)
    try:
        for name, enum in (("severity", Severity), ("category", Category), ("direction", Direction)):
            if name in values and not isinstance(values[name], enum):
                values[name] = enum(values[name])
    except ValueError as exc:
        raise AlarmConfigError(str(exc)) from None
    if base is None:
        if "severity" not in values or "label_en" not in values or "label_zh" not in values:
            raise AlarmConfigError("a new rule needs severity, label_en and label_zh")
        try:
            return Rule(**values)
        except TypeError as exc:
            raise AlarmConfigError(str(exc)) from None
    return dataclasses.replace(base, **values)
