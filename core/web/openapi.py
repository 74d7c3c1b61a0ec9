"""The OpenAPI 3.1 document, built from the routes and their @endpoint specs."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from core.web.endpoint import EndpointSpec, spec_of

_PARAM = re.compile(r"\{(\w+)\}")
_GROUP = re.compile(r"\(\?P<(\w+)>")
_DIGITS = re.compile(r"^(?:\\d|\[0-9\])\{1,(\d+)\}$")
_CHOICES = re.compile(r"^\w+(?:\|\w+)*$")
_ERROR_TEXT = {
    400: "请求格式不正确",
    401: "未登录或登录凭证无效",
    403: "角色无权操作",
    404: "未找到",
    409: "状态冲突",
    413: "请求内容过大（每个请求体都有上限）",
    415: "类型不支持",
    422: "字段校验失败",
    429: "过于频繁",
}


def _put(components: dict[str, Any], name: str, schema: Any) -> None:
    # Components are named by class: two packages' classes of one name (a `Health` enum and
    # the health check's `Health`) would silently document one route with the other's shape.
    if components.get(name, schema) != schema:
        raise ValueError(f"two schemas are named {name!r} in the OpenAPI: rename one class")
    components[name] = schema


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        _put(components, name, sub)
    _put(components, model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_params(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        _put(components, name, sub)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _group_patterns(regex: str) -> dict[str, str]:
    """The pattern of each named group in the router's compiled path (balanced parentheses)."""
    found: dict[str, str] = {}
    for match in _GROUP.finditer(regex):
        depth, i, in_class = 1, match.end(), False
        while i < len(regex) and depth:
            ch = regex[i]
            if ch == "\\":
                i += 1
            elif in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
            elif ch in "()":
                depth += 1 if ch == "(" else -1
            i += 1
        found[match.group(1)] = regex[match.end() : i - 1]
    return found


def _path_schema(pattern: str) -> dict[str, Any]:
    """What the router accepts for a path parameter, as JSON Schema (ids are integers)."""
    if not pattern:
        return {"type": "string"}
    digits = _DIGITS.match(pattern)
    if digits:
        return {"type": "integer", "minimum": 0, "maximum": 10 ** int(digits.group(1)) - 1}
    if _CHOICES.match(pattern):
        return {"type": "string", "enum": pattern.split("|")}
    return {"type": "string", "pattern": f"^(?:{pattern})$"}


def _error_statuses(spec: EndpointSpec, has_path_params: bool) -> set[int]:
    """Every error status the route can answer, beyond the ones its handler declares."""
    errors = set(spec.errors)
    if spec.roles:
        errors |= {401, 403}  # no or a bad token; a role outside x-roles
    if spec.body is not None or spec.content == "multipart/form-data":
        errors |= {400, 413, 422}  # malformed body; every body has a size limit; bad fields
    if spec.query is not None:
        errors |= {422}
    if has_path_params:
        errors |= {404}
    return errors


def _responses(
    spec: EndpointSpec, has_path_params: bool, components: dict[str, Any]
) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    content: dict[str, Any] = {}
    if spec.response is not None:
        content["application/json"] = {"schema": _schema_ref(spec.response, components)}
    for media in spec.produces:
        content[media] = {"schema": {"type": "string"} if media.startswith("text/") else _BINARY}
    if content:
        ok["content"] = content
    responses: dict[str, Any] = {str(spec.status): ok}
    if spec.replay and spec.status != 200:
        responses["200"] = {
            "description": "幂等重放：同一 Idempotency-Key 再次提交，返回首次提交的结果",
            "content": content,
        }
    for status in sorted(_error_statuses(spec, has_path_params)):
        shapes = {spec.error_media: {"schema": _error_body(spec.error_media)}}
        if status == 404:  # a path the router cannot match gets its JSON 404, pages too
            shapes["application/json"] = {"schema": _error_body("application/json")}
        responses[str(status)] = {"description": _ERROR_TEXT.get(status, "错误"), "content": shapes}
    return responses


def _operation(
    spec: EndpointSpec | None, path: str, regex: str, components: dict[str, Any]
) -> dict[str, Any]:
    found, patterns = _PARAM.findall(path), _group_patterns(regex)
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _path_schema(patterns.get(name, "")),
        }
        for name in found
    ]
    if spec is None:
        return {"summary": "", "parameters": params, "responses": {"200": {"description": "OK"}}}
    op: dict[str, Any] = {"summary": spec.summary, "tags": list(spec.tags)}
    if spec.query is not None:
        params += _query_params(spec.query, components)
    op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {spec.content: {"schema": _schema_ref(spec.body, components)}},
        }
        if spec.form is not None:  # the same body as a form, with files beside it
            op["requestBody"]["content"]["multipart/form-data"] = {"schema": spec.form}
    elif spec.content == "multipart/form-data":
        form = spec.form or _UPLOAD
        op["requestBody"] = {"required": True, "content": {spec.content: {"schema": form}}}
    elif spec.content != "application/json":  # a text file the handler reads itself (TOML)
        text = {"type": "string"}
        op["requestBody"] = {"required": True, "content": {spec.content: {"schema": text}}}
    op["responses"] = _responses(spec, bool(found), components)
    if spec.roles:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = sorted(spec.roles)
    return op


def build_openapi(app: web.Application, *, title: str, version: str) -> dict[str, Any]:
    """Describe every route of the app (HEAD aliases aside)."""
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        if route.method in {"HEAD", "*"}:
            continue
        info = route.resource.get_info() if route.resource else {}
        path = str(info.get("path") or info.get("formatter") or info.get("prefix", ""))
        regex = info.get("pattern")
        pattern = regex.pattern if isinstance(regex, re.Pattern) else ""
        op = _operation(spec_of(route.handler), path, pattern, components)
        paths.setdefault(path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _error_body(media: str) -> dict[str, Any]:
    return (
        {"$ref": "#/components/schemas/Error"}
        if media == "application/json"
        else {"type": "string"}
    )


_BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
# Our uploads are one part named "file" (core/media/views.py).
_UPLOAD: dict[str, Any] = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "request_id"],
    "properties": {
        "code": {"type": "string", "description": "stable machine-readable code"},
        "message": {"type": "string", "description": "中文说明，可直接展示给用户"},
        "request_id": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
