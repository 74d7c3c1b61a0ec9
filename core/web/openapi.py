"""The OpenAPI 3.1 document, built from the routes and their @endpoint specs."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from core.web.endpoint import EndpointSpec, spec_of

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_ERROR_TEXT = {
    400: "请求格式不正确",
    401: "未登录或登录凭证无效",
    403: "角色无权操作",
    404: "未找到",
    409: "状态冲突",
    413: "内容过大",
    415: "类型不支持",
    422: "字段校验失败",
    429: "过于频繁",
}


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_params(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(spec: EndpointSpec | None, path: str, components: dict[str, Any]) -> dict[str, Any]:
    params = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in _PARAM.findall(path)
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
    elif spec.content == "multipart/form-data":
        op["requestBody"] = {"required": True, "content": {spec.content: {"schema": _UPLOAD}}}
    ok: dict[str, Any] = {"description": "OK"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": _schema_ref(spec.response, components)}}
    op["responses"] = {str(spec.status): ok}
    errors = set(spec.errors) | ({401, 403} if spec.roles else set())
    errors |= {400, 422} if spec.body or spec.query else set()
    for status in sorted(errors):
        op["responses"][str(status)] = {
            "description": _ERROR_TEXT.get(status, "错误"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
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
        op = _operation(spec_of(route.handler), path, components)
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
