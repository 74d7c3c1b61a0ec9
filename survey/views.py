"""The staff's survey API: lists, callback tasks, the shift lead's reviews, figures."""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web
from tortoise.queryset import QuerySet

from core.audit.service import record_read
from core.auth.const import CITIZEN, Role
from core.auth.models import Citizen
from core.auth.scope import CITYWIDE, restrict
from core.errors import NotFound
from core.export import MEDIA_TYPES
from core.privacy import mask_personal, mask_phone
from core.web.endpoint import ANY_STAFF, Call, endpoint
from core.web.keys import RUNTIME
from survey import answers, figures
from survey.const import STATUS_NAMES, Answer, Review, SurveyStatus, Via
from survey.delivery import phone_of
from survey.models import Survey, SurveyAttempt
from survey.schemas import (
    AttemptOut,
    CallIn,
    FigureQuery,
    FigureTable,
    ReviewIn,
    SurveyDetail,
    SurveyOut,
    SurveyPage,
    SurveyQuery,
)

routes = web.RouteTableDef()
TAGS = ("回访",)
ID = "{survey_id:[0-9]{1,10}}"
CALLERS = frozenset({Role.AGENT, Role.SHIFT_LEAD})  # who calls reporters back (sees phones)


@routes.get("/api/v1/surveys")
@endpoint(roles=ANY_STAFF, summary="回访列表", query=SurveyQuery, response=SurveyPage, tags=TAGS)
async def list_surveys(request: web.Request, call: Call) -> SurveyPage:
    """The surveys the caller may see (a department its cases', an inspector its grids')."""
    q = call.query(SurveyQuery)
    query = _visible(call)
    for name in ("status", "review", "via", "case_id"):
        value = getattr(q, name)
        if value is not None:
            query = query.filter(**{name: value})
    return await _page(query.order_by("-id"), q, call)


@routes.get(f"/api/v1/surveys/{ID}")
@endpoint(
    roles=ANY_STAFF,
    summary="回访详情（含每次联系记录）",
    response=SurveyDetail,
    tags=TAGS,
    errors=(404,),
)
async def survey_detail(request: web.Request, call: Call) -> SurveyDetail:
    """One survey the caller may see, with each try to reach the reporter."""
    query = _visible(call)
    survey = await query.filter(id=_id(request)).first()
    if survey is None:
        raise NotFound(f"survey {_id(request)} not visible", message="没有这条回访")
    tries = await SurveyAttempt.filter(survey_id=survey.id).order_by("id")
    (out,) = await _out([survey], call)
    return SurveyDetail(
        **out.model_dump(),
        attempts=[
            AttemptOut(
                via=a.via,
                reminder=a.reminder,
                outcome=a.outcome,
                detail=a.detail,
                at=a.created_at,
            )
            for a in tries
        ],
    )


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
    return await _page(query.order_by("asked_at", "id"), q, call)


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
    return await _page(query.order_by("answered_at", "id"), q, call)


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
    produces=MEDIA_TYPES,
)
async def figures_view(request: web.Request, call: Call) -> web.StreamResponse | FigureTable:
    """The figures per department, category, grid, source or period; CSV or XLSX too."""
    q = call.query(FigureQuery)
    table = await figures.figures(q, _visible(call))
    if q.format == "json":
        return table
    body, content_type = await asyncio.to_thread(functools.partial(figures.export, table, q.format))
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="survey-{q.by}.{q.format}"'},
    )


def _visible(call: Call) -> QuerySet[Survey]:
    """The surveys this caller may see: as their cases (a department its own, an inspector
    their grids')."""
    return restrict(Survey.all(), call.who, department="department_id", grid="grid_id")


async def _page(query: QuerySet[Survey], q: SurveyQuery, call: Call) -> SurveyPage:
    total = await query.count()
    rows = await query.offset((q.page - 1) * q.page_size).limit(q.page_size)
    return SurveyPage(items=await _out(rows, call), total=total)


def _id(request: web.Request) -> int:
    return int(request.match_info["survey_id"])


def _reveals(call: Call) -> bool:
    """Whether the caller sees citizens' numbers and comments in full (回访 agents)."""
    return call.who.kind != CITIZEN and call.who.has_any(frozenset({Role.AGENT}))


async def _out(rows: list[Survey], call: Call) -> list[SurveyOut]:
    people = {c.id: c for c in await Citizen.filter(id__in={r.citizen_id for r in rows})}
    reveal = _reveals(call)
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
                comment=r.comment if reveal else mask_personal(r.comment) or "",
                answered_at=r.answered_at,
                review=r.review,
                review_reason=r.review_reason,
                reopened=r.review == Review.JUSTIFIED,
            )
        )
    shown = [o.id for o in out if o.phone] if reveal else []
    if shown:  # citizens' phone numbers in full on this screen: on record
        await record_read(call.who, what="phone", target="survey", ids=shown)
    return out
