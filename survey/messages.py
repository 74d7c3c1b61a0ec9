"""What the reporter reads: the invitation, its reminder, the SMS, the centre's decision."""

from __future__ import annotations

from survey.config import Questions

SMS_SIGNATURE = "【城市管理】"


def invitation(questions: Questions, number: str, *, reminder: bool) -> str:
    """The words of an invitation (each channel adds its link its own way)."""
    intro = questions.intro.format(number=number)
    lead = "温馨提醒：您尚未评价。" if reminder else ""
    return f"{lead}{intro}{questions.question}"


def sms(text: str, url: str) -> str:
    """An SMS: the words and the link."""
    return f"{SMS_SIGNATURE}{text}请点击 {url} 评价。"


def review(number: str, reason: str) -> str:
    """What the centre decided about a 不满意 it did not send back (不予重办)."""
    return (
        f"关于您对案件 {number} 的不满意评价，经核实，该问题已按规定处理完毕，暂不重新办理。"
        f"说明：{reason}"
    )
