"""One decorator per route: who may call it, what it takes and returns (also feeds OpenAPI)."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from core.auth.callers import authenticate
from core.auth.const import CITIZEN, STAFF_ROLES
from core.auth.service import Principal
from core.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from core.web.body import MAX_JSON_BODY, read_body
from core.web.keys import PRINCIPAL

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request, "Call"], Awaitable[Any]]
WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC: Final[frozenset[str]] = frozenset()  # no token needed
ANY_STAFF: Final[frozenset[str]] = frozenset(STAFF_ROLES)
CITIZEN_ONLY: Final[frozenset[str]] = frozenset({CITIZEN})

_PYDANTIC_ZH: Final = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "datetime_parsing": "时间格式不正确",
    "date_parsing": "日期格式不正确",
}


@dataclass(frozen=True)
class EndpointSpec:
    """What OpenAPI needs to know about a route."""

    roles: frozenset[str]
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    content: str = "application/json"  # request body media type (multipart for uploads)
    replay: bool = False  # an idempotent replay answers 200 with the first answer's body
    produces: tuple[str, ...] = ()  # success media types besides JSON (exports, pages, images)
    error_media: str = "application/json"  # pages answer their errors as pages
    # A multipart body's parts (default: one `file`). With `body` too, the route also takes
    # the body as a form with files beside it: a multipart request reaches the handler
    # unparsed (it reads the parts), a JSON one parsed as `body`.
    form: dict[str, Any] | None = None
    before_password_change: bool = False  # open to a one-time password (me, logout, change)


@dataclass
class Call:
    """What the decorator hands to a handler: the caller and the parsed input."""

    principal: Principal | None
    _body: BaseModel | None = None
    _query: BaseModel | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self, model: type[M]) -> M:
        """Return the validated body as the given model."""
        if not isinstance(self._body, model):
            raise TypeError(f"endpoint did not declare body={model.__name__}")
        return self._body

    def query(self, model: type[M]) -> M:
        """Return the validated query parameters as the given model."""
        if not isinstance(self._query, model):
            raise TypeError(f"endpoint did not declare query={model.__name__}")
        return self._query

    @property
    def who(self) -> Principal:
        """Return the authenticated caller (endpoints that are not PUBLIC always have one)."""
        if self.principal is None:
            raise Unauthorized("no principal")
        return self.principal


def validation_error(err: ValidationError, where: str) -> ValidationFailed:
    """Turn a pydantic error into our 422, naming each field in English and Chinese."""
    fields = []
    for item in err.errors(include_url=False):
        name = ".".join(str(p) for p in item["loc"]) or where
        fields.append(
            {
                "field": name,
                "message": _PYDANTIC_ZH.get(item["type"], "格式不正确"),
                "type": item["type"],
            }
        )
    names = "、".join(f["field"] for f in fields)
    return ValidationFailed(
        f"invalid {where}: {err.error_count()} error(s): {names}",
        message=f"提交的内容有误：{names}",
        extra={"fields": fields},
    )


# Control characters no person types (tab, newline and carriage return are text): PostgreSQL
# refuses NUL in text columns where SQLite keeps it, so refuse them all, on every database.
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"} | {"\x7f"}


def _controls(value: Any, path: str = "") -> list[str]:
    """The paths of string values (and keys) that hold control characters."""
    if isinstance(value, str):
        return [path or "body"] if any(ch in _CONTROL for ch in value) else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if any(ch in _CONTROL for ch in str(key)):
                found.append(path or "body")
            else:
                found += _controls(item, where)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _controls(item, f"{path}.{i}")]
    return []


def refuse_controls(data: Any, where: str) -> None:
    """422 naming each field whose text holds a control character (before any model sees it)."""
    bad = _controls(data)
    if bad:
        fields = [
            {"field": f, "message": "含有不允许的控制字符", "type": "control_character"}
            for f in bad
        ]
        raise ValidationFailed(
            f"control characters in {where}: {', '.join(bad)}",
            message=f"提交的内容有误：{'、'.join(bad)}",
            extra={"fields": fields},
        )


async def _parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    raw = await read_body(request, min(MAX_JSON_BODY, request.client_max_size))
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # nesting bombs too
        raise BadRequest(
            f"malformed JSON: {err}", code="malformed_json", message="请求内容不是有效的 JSON"
        ) from err
    if isinstance(data, dict):
        refuse_controls(data, "body")
    if not isinstance(data, dict):
        raise ValidationFailed(
            "body must be a JSON object",
            message="请求内容应为 JSON 对象",
            extra={"fields": [{"field": "body", "message": "应为对象", "type": "dict_type"}]},
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, "body") from err


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        data[key] = values if len(values) > 1 else values[0]
    refuse_controls(data, "query")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, "query") from err


async def resolve_principal(request: web.Request) -> Principal | None:
    """Authenticate the Authorization header, if any."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("bad Authorization header", code="token_invalid", message="登录凭证无效")
    return await authenticate(token.strip())


def _check_roles(principal: Principal | None, roles: frozenset[str]) -> None:
    if not roles:
        return
    if principal is None:
        raise Unauthorized("no token", code="token_missing", message="请先登录")
    allowed = principal.has_any(roles) or (CITIZEN in roles and principal.kind == CITIZEN)
    if not allowed:
        raise Forbidden(
            f"{principal.kind} {principal.id} lacks {sorted(roles)}",
            code="role_forbidden",
            message="当前账号的角色无权执行此操作",
        )


def endpoint(
    *,
    roles: Iterable[str],
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tags: Iterable[str] = (),
    errors: Iterable[int] = (),
    content: str = "application/json",
    replay: bool = False,
    produces: Iterable[str] = (),
    error_media: str = "application/json",
    form: dict[str, Any] | None = None,
    before_password_change: bool = False,
) -> Callable[[Handler], WebHandler]:
    """Guard a handler by role, parse its input, and serialise its pydantic result."""
    spec = EndpointSpec(
        frozenset(roles),
        summary,
        body,
        query,
        response,
        status,
        tuple(tags),
        tuple(errors),
        content,
        replay,
        tuple(produces),
        error_media,
        form,
        before_password_change,
    )

    def wrap(handler: Handler) -> WebHandler:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            principal = await resolve_principal(request) if spec.roles else None
            _check_roles(principal, spec.roles)
            if principal and principal.must_change_password and not spec.before_password_change:
                raise Forbidden(
                    f"staff {principal.id} must change the one-time password first",
                    code="password_change_required",
                    message="请先修改初始密码",
                )
            if principal is not None:
                request[PRINCIPAL] = principal
            as_form = spec.form is not None and request.content_type == "multipart/form-data"
            call = Call(
                principal,
                await _parse_body(request, spec.body) if spec.body and not as_form else None,
                _parse_query(request, spec.query) if spec.query else None,
            )
            result = await handler(request, call)
            if isinstance(result, web.StreamResponse):
                return result
            if isinstance(result, BaseModel):
                return web.json_response(
                    result.model_dump(mode="json"), status=spec.status, dumps=_dumps
                )
            return web.json_response(result, status=spec.status, dumps=_dumps)

        run.__endpoint__ = spec  # type: ignore[attr-defined]
        return run

    return wrap


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def spec_of(handler: object) -> EndpointSpec | None:
    """Return the EndpointSpec attached to a handler by @endpoint, if any."""
    spec = getattr(handler, "__endpoint__", None)
    return spec if isinstance(spec, EndpointSpec) else None
