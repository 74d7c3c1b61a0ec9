"""The answer page, server-rendered for WeChat's in-app browser: Chinese, no script needed.

Jinja2 with autoescaping renders the templates in survey/templates; views.py serves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from core.errors import ValidationFailed
from survey.config import Questions
from survey.const import ANSWER_NAMES, Answer, Review
from survey.models import Survey
from survey.schemas import MAX_COMMENT, AnswerIn, Option

OPTIONS = [Option(value=a, name=ANSWER_NAMES[a]) for a in Answer]


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("survey", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def form_page(
    survey: Survey,
    questions: Questions,
    *,
    city: str,
    action: str,
    error: str = "",
    given: Mapping[str, Any] | None = None,
) -> str:
    """The form of an open survey (again with the error and what was given, if refused)."""
    return (
        _env()
        .get_template("answer.html")
        .render(
            title=questions.title,
            city=city,
            number=survey.number,
            questions=questions,
            intro=questions.intro.format(number=survey.number),
            options=[o.model_dump() for o in OPTIONS],
            action=action,
            error=error,
            given=given or {"answer": None, "aspects": {}, "comment": ""},
            max_comment=MAX_COMMENT,
        )
    )


def result_page(survey: Survey, *, city: str) -> str:
    """What an answered survey's link shows: the answer and the centre's decision."""
    lines = []
    if survey.review == Review.PENDING:
        lines.append("我们已收到您的意见，值班长将研判是否重新办理，结果将告知您。")
    elif survey.review == Review.JUSTIFIED:
        lines.append("经研判，该问题已安排重新办理，办结后将再次回访。")
    elif survey.review == Review.UNJUSTIFIED:
        lines.append("经研判，该问题已按规定处理完毕，暂不重新办理。")
        lines.append(f"说明：{survey.review_reason}")
    name = ANSWER_NAMES[Answer(survey.answer)] if survey.answer else None
    return message_page("评价已提交", lines, city=city, number=survey.number, answer_name=name)


def message_page(
    heading: str,
    lines: list[str],
    *,
    city: str,
    number: str = "",
    answer_name: str | None = None,
) -> str:
    """A page of a few lines: expired, invalid, closed."""
    return (
        _env()
        .get_template("result.html")
        .render(
            title=heading,
            heading=heading,
            lines=lines,
            city=city,
            number=number,
            answer_name=answer_name,
        )
    )


def read_form(form: Mapping[str, str], questions: Questions) -> AnswerIn:
    """The answer in a submitted form (aspect_<i> names the survey's i-th aspect)."""
    aspects = {}
    for index, aspect in enumerate(questions.aspects):
        grade = form.get(f"aspect_{index}")
        if grade:
            aspects[aspect] = grade
    try:
        return AnswerIn.model_validate(
            {
                "answer": form.get("answer") or None,
                "aspects": aspects,
                "comment": form.get("comment", ""),
            }
        )
    except ValidationError as err:
        fields = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
        message = (
            "请选择您对办理结果的评价" if "answer" in fields else "提交的内容有误，请检查后再提交"
        )
        raise ValidationFailed(f"survey form: {sorted(fields)}", message=message) from err
