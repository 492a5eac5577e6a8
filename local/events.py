"""HTTP requests as API Gateway's payload format 2.0 events, and Lambda results as responses.

The quirks reproduced here are the ones handlers must cope with in production: lower-cased and
comma-joined headers, cookies moved out of the headers into their own array, query parameters
decoded and comma-joined beside the untouched rawQueryString, form bodies base64-encoded, and
results without a statusCode sent as a JSON body with status 200.
"""

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from local.resources import ACCOUNT_ID, API_ID
from local.routes import Match


@dataclass
class HttpRequest:
    method: str
    target: str  # the request-target as sent: path and query, still percent-encoded
    headers: list[tuple[str, str]] = field(default_factory=list)  # in order, repeats kept
    body: bytes = b""
    source_ip: str = "127.0.0.1"  # the socket's peer: API Gateway ignores X-Forwarded-For
    protocol: str = "HTTP/1.1"
    port: int = 8000  # the port the request arrived on

    @property
    def path(self) -> str:
        """The path, URL-decoded: routes match it, and rawPath carries it."""
        return unquote(self.target.partition("?")[0])


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


class InvalidResponse(Exception):
    """The handler returned something API Gateway cannot turn into a response (a 500)."""


def build_event(request: HttpRequest, match: Match, request_id: str | None = None,
                now: float | None = None) -> dict:
    """The event API Gateway hands the integration of `match` for `request`."""
    request_id = request_id or new_request_id()
    now = time.time() if now is None else now
    raw_query = request.target.partition("?")[2]
    event = {
        "version": "2.0",
        "routeKey": match.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "cookies": _cookies(request.headers),
        "headers": _headers(request, request_id),
        "queryStringParameters": _query_parameters(raw_query),
        "pathParameters": match.path_parameters,
        "requestContext": _request_context(request, match, request_id, now),
        "isBase64Encoded": False,
    }
    event = {key: value for key, value in event.items() if value or key in _ALWAYS}
    if request.body:
        event["body"], event["isBase64Encoded"] = _body(request)
    return event


# Keys present even when empty; the others are left out, as API Gateway leaves them out.
_ALWAYS = frozenset({"version", "routeKey", "rawPath", "rawQueryString", "headers",
                     "requestContext", "isBase64Encoded"})


def new_request_id() -> str:
    # The shape of API Gateway's ids (e.g. "JKJaXmPLvHcESHA="): 10 random bytes, base64.
    return base64.b64encode(secrets.token_bytes(10)).decode()


def _cookies(headers: list[tuple[str, str]]) -> list[str]:
    cookies = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies += [item for item in value.split("; ") if item]
    return cookies


def _headers(request: HttpRequest, request_id: str) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in request.headers:
        name = name.lower()
        if name != "cookie":
            joined[name] = f"{joined[name]},{value}" if name in joined else value
    # What API Gateway adds: the peer appended to X-Forwarded-For (so a spoofed value shows up
    # first, where only sourceIp is to be trusted), the scheme and port, and a trace id.
    forwarded = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded \
        else request.source_ip
    joined["x-forwarded-proto"] = "http"
    joined["x-forwarded-port"] = str(request.port)
    joined["x-amzn-trace-id"] = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return joined


def _query_parameters(raw_query: str) -> dict[str, str]:
    """Decoded and comma-joined. "+" stays "+": API Gateway percent-decodes only."""
    parameters: dict[str, str] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name, value = unquote(name), unquote(value)
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _request_context(request: HttpRequest, match: Match, request_id: str, now: float) -> dict:
    host = _header(request, "host").rsplit(":", 1)[0]  # API Gateway's domainName has no port
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": _header(request, "user-agent"),
        },
        "requestId": request_id,
        "routeKey": match.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def _header(request: HttpRequest, name: str) -> str:
    return next((value for key, value in request.headers if key.lower() == name), "")


def _body(request: HttpRequest) -> tuple[str, bool]:
    """JSON and text/* as text; everything else, form bodies included, base64-encoded."""
    media_type = _header(request, "content-type").split(";", 1)[0].strip().lower()
    textual = media_type.startswith("text/") or media_type == "application/json" \
        or media_type.endswith("+json")
    if textual:
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def to_response(result) -> Response:
    """The HTTP response API Gateway makes of a handler's result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway sends the whole result as a JSON body, status 200.
        return Response(200, [("Content-Type", "application/json")],
                        json.dumps(result).encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponse(f"statusCode must be an HTTP status, not {status!r}")
    headers = [(str(k), _header_text(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    return Response(status, headers, _response_body(result))


def _header_text(value) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidResponse(f"a header value must be text, not {value!r}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _response_body(result: dict) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidResponse(f"body must be a string, not {type(body).__name__}")
    if not result.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise InvalidResponse(f"isBase64Encoded is set but body is not base64: {error}") from None


def error_response(status: int, message: str) -> Response:
    """API Gateway's own answers: a bare JSON message, e.g. {"message":"Not Found"}."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, [("Content-Type", "application/json")], body)
