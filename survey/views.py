"""The answer page (/survey/{token}), its JSON for the 小程序, and the staff's survey API."""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

from core.auth.const import CITIZEN, Role
from core.auth.models import Citizen
from core.auth.scope import CITYWIDE, restrict
from core.errors import CityloopError, PayloadTooLarge
from core.privacy import mask_phone
from core.web.endpoint import ANY_STAFF, PUBLIC, Call, endpoint, refuse_controls
from core.web.keys import RUNTIME
from survey import answers, figures, page
from survey.const import ANSWER_NAMES, STATUS_NAMES, Answer, Review, SurveyStatus, Via
from survey.delivery import phone_of
from survey.models import Survey
from survey.schemas import (
    AnswerIn,
    CallIn,
    FigureQuery,
    FigureTable,
    ReviewIn,
    SurveyForm,
    SurveyOut,
    SurveyPage,
    SurveyQuery,
)
from survey.tokens import MAX_TOKEN

routes = web.RouteTableDef()
TAGS = ("回访",)
TOKEN = "{token:[A-Za-z0-9._-]{1," + str(MAX_TOKEN) + "}}"
ID = "{survey_id:[0-9]{1,10}}"
MAX_FORM = 16 * 1024  # the form is a few radio buttons and 500 characters of comment
CALLERS = frozenset({Role.AGENT, Role.SHIFT_LEAD})  # who calls reporters back (sees phones)


# --- the reporter's page (no login: the token is the key) ---------------------------------


@routes.get("/survey/" + TOKEN)
@endpoint(roles=PUBLIC, summary="回访评价页（HTML，微信内打开）", tags=TAGS, errors=(400, 409, 410))
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
    errors=(400, 409, 410, 413, 422),
    content="application/x-www-form-urlencoded",
)
async def submit_page(request: web.Request, call: Call) -> web.Response:
    """The form sent: record the answer and show the thanks (POST, then redirect, then GET)."""
    runtime = request.app[RUNTIME]
    city = runtime.settings.profile.name
    if (request.content_length or 0) > MAX_FORM:
        raise PayloadTooLarge(f"survey form over {MAX_FORM} bytes", message="提交的内容过长")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
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


# --- staff -----------------------------------------------------------------------------


@routes.get("/api/v1/surveys")
@endpoint(roles=ANY_STAFF, summary="回访列表", query=SurveyQuery, response=SurveyPage, tags=TAGS)
async def list_surveys(request: web.Request, call: Call) -> SurveyPage:
    """The surveys the caller may see (a department its cases', an inspector its grids')."""
    q = call.query(SurveyQuery)
    query = restrict(Survey.all(), call.who, department="department_id", grid="grid_id")
    for name in ("status", "review", "via", "case_id"):
        value = getattr(q, name)
        if value is not None:
            query = query.filter(**{name: value})
    total = await query.count()
    rows = await query.order_by("-id").offset((q.page - 1) * q.page_size).limit(q.page_size)
    return SurveyPage(items=await _out(rows, call), total=total)


@routes.get("/api/v1/surveys/callbacks")
@endpoint(
    roles=CALLERS,
    summary="回访电话任务（话务员）",
    query=SurveyQuery,
    response=SurveyPage,
    tags=TAGS,
)
async def callbacks(request: web.Request, call: Call) -> SurveyPage:
    """Open callback tasks, oldest first, with the number to call."""
    q = call.query(SurveyQuery)
    query = Survey.filter(via=Via.CALLBACK, status=SurveyStatus.ASKED)
    total = await query.count()
    rows = (
        await query.order_by("asked_at", "id").offset((q.page - 1) * q.page_size).limit(q.page_size)
    )
    return SurveyPage(items=await _out(rows, call), total=total)


@routes.post(f"/api/v1/surveys/{ID}/call")
@endpoint(
    roles=CALLERS,
    summary="记录回访电话（接通与否、评价）",
    body=CallIn,
    response=SurveyOut,
    tags=TAGS,
    errors=(404, 409, 410, 422),
)
async def record_call(request: web.Request, call: Call) -> SurveyOut:
    """What the reporter said on the phone, or that nobody answered."""
    survey = await answers.call(
        request.app[RUNTIME], _id(request), call.body(CallIn), agent=call.who
    )
    return (await _out([survey], call))[0]


@routes.get("/api/v1/surveys/reviews")
@endpoint(
    roles={Role.SHIFT_LEAD, Role.ADMIN},
    summary="不满意待研判",
    query=SurveyQuery,
    response=SurveyPage,
    tags=TAGS,
)
async def reviews(request: web.Request, call: Call) -> SurveyPage:
    """不满意 answers waiting for the shift lead, oldest first."""
    q = call.query(SurveyQuery)
    query = Survey.filter(review=Review.PENDING)
    total = await query.count()
    rows = (
        await query.order_by("answered_at", "id")
        .offset((q.page - 1) * q.page_size)
        .limit(q.page_size)
    )
    return SurveyPage(items=await _out(rows, call), total=total)


@routes.post(f"/api/v1/surveys/{ID}/review")
@endpoint(
    roles={Role.SHIFT_LEAD},
    summary="研判不满意（重办或说明）",
    body=ReviewIn,
    response=SurveyOut,
    tags=TAGS,
    errors=(404, 409, 422),
)
async def review(request: web.Request, call: Call) -> SurveyOut:
    """Justified: 重办 (the case reopens to its department). Not: the reason goes to them."""
    survey = await answers.review(
        request.app[RUNTIME], _id(request), call.body(ReviewIn), lead=call.who
    )
    return (await _out([survey], call))[0]


@routes.get("/api/v1/surveys/figures")
@endpoint(
    roles=CITYWIDE | {Role.HANDLER},
    summary="回访统计（回访率、满意率、重办率）",
    query=FigureQuery,
    response=FigureTable,
    tags=TAGS,
)
async def figures_view(request: web.Request, call: Call) -> web.StreamResponse | FigureTable:
    """The figures per department, category, grid, source or period; CSV or XLSX too."""
    q = call.query(FigureQuery)
    base = restrict(Survey.all(), call.who, department="department_id", grid="grid_id")
    table = await figures.figures(q, base)
    if q.format == "json":
        return table
    body, content_type = await asyncio.to_thread(functools.partial(figures.export, table, q.format))
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="survey-{q.by}.{q.format}"'},
    )


def _id(request: web.Request) -> int:
    return int(request.match_info["survey_id"])


async def _out(rows: list[Survey], call: Call) -> list[SurveyOut]:
    people = {c.id: c for c in await Citizen.filter(id__in={r.citizen_id for r in rows})}
    reveal = call.who.kind != CITIZEN and call.who.has_any(frozenset({Role.AGENT}))
    out = []
    for r in rows:
        phone = phone_of(people[r.citizen_id]) if r.citizen_id in people else None
        out.append(
            SurveyOut(
                id=r.id,
                case_id=r.case_id,
                number=r.number,
                status=r.status,
                status_name=STATUS_NAMES[r.status],
                source=r.source,
                via=r.via,
                asks=r.asks,
                phone=phone if reveal else mask_phone(phone),
                department_id=r.department_id,
                category_code=r.category_code,
                closed_at=r.closed_at,
                due_at=r.due_at,
                asked_at=r.asked_at,
                expires_at=r.expires_at,
                answer=Answer(r.answer) if r.answer else None,
                aspects={k: Answer(v) for k, v in r.aspects.items()},
                comment=r.comment,
                answered_at=r.answered_at,
                review=r.review,
                review_reason=r.review_reason,
                reopened=r.reopen_event_id is not None,
            )
        )
    return out
