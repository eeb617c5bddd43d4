"""Every API error has one shape: {"errors": [{"path": "...", "message": "..."}]}, with a
4xx status. The path says where in the request body the problem is (`items[3].kind`)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def flatten(detail, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat list of {path, message}."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            key = "" if key in ("non_field_errors", "__all__") else str(key)
            child = f"{path}.{key}" if path and key else (key or path)
            errors.extend(flatten(value, child))
        return errors
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"path": path, "message": str(item)} for item in detail]
        errors = []
        for index, item in enumerate(detail):
            if item:
                errors.extend(flatten(item, f"{path}[{index}]"))
        return errors
    return [{"path": path, "message": str(detail)}]


def error_response(errors: list[dict[str, str]], status_code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"errors": errors}, status=status_code)


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = exceptions.ParseError(
            f"the request body is too large (over {limit} bytes); send fewer items at a time"
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    response.data = {"errors": flatten(detail)}
    return response
