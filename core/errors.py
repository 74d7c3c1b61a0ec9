"""Our exception hierarchy; core.web maps it to HTTP status, a stable code and a Chinese message."""

from __future__ import annotations

from typing import Any, ClassVar


class CityloopError(Exception):
    """Base of every error we raise on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    message: ClassVar[str] = "服务器内部错误，请稍后再试"

    def __init__(
        self,
        detail: str = "",
        *,
        message: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        if message is not None:
            self.message = message  # type: ignore[misc]
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.extra = extra or {}


class ConfigError(CityloopError):
    """Configuration is invalid; names the setting."""

    code = "config_error"
    message = "配置错误"


class BadRequest(CityloopError):
    status = 400
    code = "bad_request"
    message = "请求格式不正确"


class ValidationFailed(CityloopError):
    status = 422
    code = "validation_error"
    message = "提交的内容有误"


def field_error(
    field: str, detail: str, message: str, code: str = "validation_error"
) -> ValidationFailed:
    """A 422 about one field: `detail` for the log (never the value), `message` for people."""
    return ValidationFailed(
        detail, code=code, message=message, extra={"fields": [{"field": field, "message": message}]}
    )


class Unauthorized(CityloopError):
    status = 401
    code = "unauthorized"
    message = "请先登录"


class Forbidden(CityloopError):
    status = 403
    code = "forbidden"
    message = "无权执行此操作"


class NotFound(CityloopError):
    status = 404
    code = "not_found"
    message = "未找到"


class Conflict(CityloopError):
    status = 409
    code = "conflict"
    message = "操作冲突，请刷新后重试"


class PayloadTooLarge(CityloopError):
    status = 413
    code = "payload_too_large"
    message = "文件过大"


class UnsupportedMedia(CityloopError):
    status = 415
    code = "unsupported_media_type"
    message = "不支持的文件类型"


class TooManyRequests(CityloopError):
    status = 429
    code = "too_many_requests"
    message = "操作过于频繁，请稍后再试"


class Unavailable(CityloopError):
    status = 503
    code = "unavailable"
    message = "服务暂不可用，请稍后再试"
