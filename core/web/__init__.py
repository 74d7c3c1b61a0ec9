"""The web layer: app factory, endpoint decorator, error boundary, OpenAPI document."""

from core.web.app import create_app
from core.web.endpoint import ANY_STAFF, CITIZEN_ONLY, PUBLIC, Call, endpoint

__all__ = ["ANY_STAFF", "CITIZEN_ONLY", "PUBLIC", "Call", "create_app", "endpoint"]
