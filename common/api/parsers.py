import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON that is too deep, not UTF-8, or not JSON is a 400 that says so, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError(
                f"the body is not UTF-8 (byte {raw[error.start]:#04x} at offset {error.start})"
            ) from error
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as error:
            raise ParseError("the JSON is nested too deeply") from error
        except ValueError as error:
            raise ParseError(f"the body is not valid JSON: {error}") from error


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")
