"""Staff-facing words for notifications, in English and Simplified Chinese. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from edge.alarms.model import STORE_SCOPE, Alarm, Notification, Severity, Transition

__all__ = ["batch_text", "notification_text"]

_SEVERITY = {
    Severity.CRITICAL: ("CRITICAL", "严重"),
    Severity.MAJOR: ("MAJOR", "重要"),
    Severity.MINOR: ("minor", "一般"),
    Severity.INFO: ("info", "提示"),
}


def _where(alarm: Alarm) -> tuple[str, str]:
    if alarm.kiosk_id is None or alarm.kiosk_id == STORE_SCOPE:
        return "store", "门店"
    return alarm.kiosk_id, alarm.kiosk_id


def _phrase(transition: Transition, alarm: Alarm, who: str, comment: str) -> tuple[str, str]:
    by_en = f" by {who}" if who else ""
    by_zh = f"（{who}）" if who else ""
    note_en = f": {comment}" if comment else ""
    note_zh = f"：{comment}" if comment else ""
    match transition:
        case Transition.RAISED | Transition.ANNOUNCED:
            if alarm.occurrences > 1:
                return f"raised ({alarm.occurrences} times)", f"告警（第{alarm.occurrences}次）"
            return "raised", "告警"
        case Transition.CLEARED:
            return "cleared", "已恢复"
        case Transition.RESOLVED:
            return f"resolved{by_en}{note_en}", f"已处理{by_zh}{note_zh}"
        case Transition.ACKNOWLEDGED:
            return f"acknowledged{by_en}{note_en}", f"已确认{by_zh}{note_zh}"
        case Transition.ACK_EXPIRED:
            return "acknowledgement expired, still active", "确认已过期，告警仍存在"
        case Transition.ESCALATED:
            return (f"still not acknowledged (escalation level {alarm.escalation_level})",
                    f"仍未确认（升级至第{alarm.escalation_level}级）")
        case Transition.FLAPPING:
            return "flapping: coming and going repeatedly", "频繁波动：反复出现和恢复"
        case Transition.FLAPPING_ENDED:
            return "no longer flapping", "已停止波动"
        case _:
            return transition.value, transition.value


def notification_text(alarm: Alarm, label_en: str, label_zh: str, transition: Transition,
                      *, who: str = "", comment: str = "") -> tuple[str, str]:
    """``("[MAJOR] kiosk-03 printer: Receipt paper out - raised", "[重要] kiosk-03 printer：小票纸已用完 - 告警")``."""
    sev_en, sev_zh = _SEVERITY[alarm.effective_severity]
    where_en, where_zh = _where(alarm)
    what_en, what_zh = _phrase(transition, alarm, who, comment)
    en = f"[{sev_en}] {where_en} {alarm.device}: {label_en} - {what_en}"
    zh = f"[{sev_zh}] {where_zh} {alarm.device}：{label_zh} - {what_zh}"
    if alarm.detail and transition in (Transition.RAISED, Transition.ANNOUNCED, Transition.ESCALATED):
        en += f" ({alarm.detail})"
        zh += f"（{alarm.detail}）"
    return en, zh


def batch_text(batch: Sequence[Notification]) -> tuple[str, str]:
    """One message for several notifications: a headline and one line each."""
    if len(batch) == 1:
        return batch[0].text_en, batch[0].text_zh
    kiosks = sorted({n.kiosk_id or "store" for n in batch})
    raised = sum(1 for n in batch if n.transition in (Transition.RAISED, Transition.ANNOUNCED))
    cleared = sum(1 for n in batch if n.transition in (Transition.CLEARED, Transition.RESOLVED))
    head_en = f"{len(batch)} alarm updates ({raised} raised, {cleared} cleared) at {', '.join(kiosks)}"
    head_zh = f"{len(batch)}条告警更新（{raised}条新告警，{cleared}条已恢复）：{'、'.join(kiosks)}"
    return (head_en + "\n" + "\n".join(n.text_en for n in batch),
            head_zh + "\n" + "\n".join(n.text_zh for n in batch))
