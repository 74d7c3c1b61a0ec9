"""What a reporter opens from the link: the answer page (/survey/{token}) and its JSON for
the 小程序's page. No login: the signed token is the key."""

from __future__ import annotations

import urllib.parse

from aiohttp import web

from core.errors import BadRequest, CityloopError, UnsupportedMedia
from core.web.body import read_body
from core.web.endpoint import PUBLIC, Call, endpoint, refuse_controls
from core.web.keys import RUNTIME
from survey import answers, page
from survey.const import ANSWER_NAMES, STATUS_NAMES, Answer, Review, SurveyStatus
from survey.models import Survey
from survey.schemas import AnswerIn, SurveyForm
from survey.tokens import MAX_TOKEN

routes = web.RouteTableDef()
TAGS = ("回访",)
TOKEN = "{token:[A-Za-z0-9._-]{1," + str(MAX_TOKEN) + "}}"
MAX_FORM = 16 * 1024  # the form is a few radio buttons and 500 characters of comment
FORM_TYPE = "application/x-www-form-urlencoded"
HTML = "text/html"


@routes.get("/survey/" + TOKEN)
@endpoint(
    roles=PUBLIC,
    summary="回访评价页（HTML，微信内打开）",
    tags=TAGS,
    errors=(400, 404, 409, 410),
    produces=(HTML,),
    error_media=HTML,
)
async def answer_page(request: web.Request, call: Call) -> web.Response:
    """The survey form, or what became of it."""
    runtime = request.app[RUNTIME]
    city = runtime.settings.profile.name
    try:
        survey = await answers.by_token(runtime, request.match_info["token"])
    except CityloopError as err:
        return _html(page.message_page("无法评价", [err.message], city=city), err.status)
    if survey.status == SurveyStatus.ANSWERED:
        return _html(page.result_page(survey, city=city))
    if survey.status != SurveyStatus.ASKED:
        return _closed(survey, city)
    questions = answers.questions_of(runtime, survey)
    return _html(page.form_page(survey, questions, city=city, action=request.path))


@routes.post("/survey/" + TOKEN)
@endpoint(
    roles=PUBLIC,
    summary="提交回访评价页的表单（HTML）",
    tags=TAGS,
    status=303,
    errors=(400, 404, 409, 410, 413, 415, 422),
    content=FORM_TYPE,
    produces=(HTML,),
    error_media=HTML,
)
async def submit_page(request: web.Request, call: Call) -> web.Response:
    """The form sent: record the answer and show the thanks (POST, then redirect, then GET)."""
    runtime = request.app[RUNTIME]
    city = runtime.settings.profile.name
    try:
        form = await _read_form(request)
        survey = await answers.by_token(runtime, request.match_info["token"])
        if survey.status == SurveyStatus.ANSWERED:
            return _html(page.result_page(survey, city=city), 409)
        questions = answers.questions_of(runtime, survey)
        try:
            refuse_controls(form, "form")
            given = page.read_form(form, questions)
            await answers.answer(runtime, survey, given)
        except CityloopError as err:
            if err.status != 422:
                raise
            html = page.form_page(
                survey,
                questions,
                city=city,
                action=request.path,
                error=err.message,
                given=_echo(form, questions.aspects),
            )
            return _html(html, 422)
    except CityloopError as err:
        return _html(page.message_page("无法评价", [err.message], city=city), err.status)
    raise web.HTTPSeeOther(request.path)


async def _read_form(request: web.Request) -> dict[str, str]:
    """The posted form's text fields: urlencoded only (what a browser sends for this form)."""
    if request.content_type != FORM_TYPE:
        raise UnsupportedMedia(
            f"survey form as {request.content_type}",
            code="unsupported_content_type",
            message="请通过评价页面提交",
        )
    body = await read_body(request, MAX_FORM, message="提交的内容过长")
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=64
        )
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest(
            f"malformed form ({type(err).__name__})",
            code="malformed_form",
            message="提交的内容格式不正确",
        ) from None
    return dict(pairs)


def _echo(form: dict[str, str], aspects: tuple[str, ...]) -> dict[str, object]:
    graded = {a: form.get(f"aspect_{i}") for i, a in enumerate(aspects)}
    return {"answer": form.get("answer"), "aspects": graded, "comment": form.get("comment", "")}


def _closed(survey: Survey, city: str) -> web.Response:
    why = {
        SurveyStatus.VOIDED: "该案件已重新办理，办结后将再次邀请您评价。",
        SurveyStatus.EXPIRED: "该回访已过期，感谢您的关注。",
    }.get(survey.status, "该回访已结束，感谢您的关注。")
    status = 410 if survey.status == SurveyStatus.EXPIRED else 409
    return _html(page.message_page("回访已结束", [why], city=city, number=survey.number), status)


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


# --- the same as JSON (the 小程序's survey page) ------------------------------------------


@routes.get("/api/v1/surveys/answer/" + TOKEN)
@endpoint(
    roles=PUBLIC,
    summary="回访问卷（凭链接）",
    response=SurveyForm,
    tags=TAGS,
    errors=(400, 410),
)
async def form_json(request: web.Request, call: Call) -> SurveyForm:
    """The questions of a survey, and its answer once given."""
    runtime = request.app[RUNTIME]
    survey = await answers.by_token(runtime, request.match_info["token"])
    return _form(request, survey)


@routes.post("/api/v1/surveys/answer/" + TOKEN)
@endpoint(
    roles=PUBLIC,
    summary="提交回访评价（凭链接）",
    body=AnswerIn,
    response=SurveyForm,
    tags=TAGS,
    errors=(400, 409, 410, 422),
)
async def answer_json(request: web.Request, call: Call) -> SurveyForm:
    """Answer once: a second answer is 409, a late one 410, and nothing changes."""
    runtime = request.app[RUNTIME]
    survey = await answers.by_token(runtime, request.match_info["token"])
    return _form(request, await answers.answer(runtime, survey, call.body(AnswerIn)))


def _form(request: web.Request, survey: Survey) -> SurveyForm:
    questions = answers.questions_of(request.app[RUNTIME], survey)
    answer = Answer(survey.answer) if survey.answer else None
    return SurveyForm(
        number=survey.number,
        status=survey.status,
        status_name=STATUS_NAMES[survey.status],
        title=questions.title,
        intro=questions.intro.format(number=survey.number),
        question=questions.question,
        aspects=list(questions.aspects),
        comment=questions.comment,
        options=page.OPTIONS,
        answer=answer,
        answer_name=ANSWER_NAMES[answer] if answer else None,
        review=survey.review,
        review_reason=survey.review_reason if survey.review == Review.UNJUSTIFIED else None,
    )
