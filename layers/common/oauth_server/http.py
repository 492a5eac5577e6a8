"""What both the front-channel and admin functions need from an API Gateway v2 event."""

import base64
import binascii
import html
from urllib.parse import parse_qsl, urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

MAX_BODY_BYTES = 64 * 1024

# One look for every page: the admin function serves these, linked from the same origin.
STATIC_PATH = "/app/admin/oauth-client-apps/static/"
STYLESHEET_PATH = STATIC_PATH + "console.css"
ICON_PATH = STATIC_PATH + "icon.svg"
CONSENT_SCRIPT_PATH = STATIC_PATH + "consent.js"

# Sent with every HTML page: no framing, no third-party content, no caching, no referrer.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class BadRequest(Exception):
    """The request itself is malformed (not a rule of a particular endpoint)."""


class PayloadTooLarge(BadRequest):
    pass


def strip_trailing_slash(event: dict) -> dict:
    """Route `/x/` like `/x`: API Gateway cannot declare routes that end in a slash.

    The template sends `/x/` through the sibling route `/x/{proxy+}`; from here on the
    function sees one path, so the resolver's routes are written once, without the slash.
    """
    path = event.get("rawPath", "")
    if len(path) > 1 and path.endswith("/"):
        event = {**event, "rawPath": path.rstrip("/") or "/"}
    return event


def query_pairs(event: dict) -> list[tuple[str, str]]:
    """The query string as sent, in order, repeats kept (API Gateway comma-joins them)."""
    return parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True)


def single_values(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """The first value of each parameter, and the names that were sent more than once."""
    values: dict[str, str] = {}
    repeated = set()
    for name, value in pairs:
        if name in values:
            repeated.add(name)
        values.setdefault(name, value)
    return values, repeated


def body_bytes(event: dict) -> bytes:
    """The request body, base64-decoded when API Gateway encoded it."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("The request body is not valid base64.") from None
    else:
        raw = body.encode()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    return raw


def form_pairs(event: dict) -> list[tuple[str, str]]:
    try:
        text = body_bytes(event).decode()
    except UnicodeDecodeError:
        raise BadRequest("The form body is not valid UTF-8.") from None
    return parse_qsl(text, keep_blank_values=True)


def request_cookies(event: dict) -> dict[str, str]:
    """The cookies of the request (API Gateway passes them apart from the headers)."""
    jar: dict[str, str] = {}
    for entry in event.get("cookies") or []:
        name, _, value = entry.partition("=")
        jar.setdefault(name.strip(), value.strip())
    return jar


def cookie_name(base: str, secure: bool) -> str:
    # The __Host- prefix pins a cookie to this origin, path / and Secure (RFC 6265bis).
    return f"__Host-{base}" if secure else base


def make_cookie(name: str, value: str, secure: bool, max_age: int) -> Cookie:
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=secure,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def is_local_path(target: str) -> bool:
    """Whether `target` stays on this server: a path, never a scheme or another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def redirect(location: str, status: int = 302, cookies: list[Cookie] | None = None) -> Response:
    return Response(
        status_code=status,
        headers={"Location": location, "Cache-Control": "no-store"},
        cookies=cookies or [],
    )


def html_page(status: int, title: str, message: str, cookies=None, extra: str = "") -> Response:
    """A small HTML page in the console's look; `message` is text, `extra` already-safe markup."""
    page = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>"
        f"<link rel=\"icon\" href=\"{ICON_PATH}\" type=\"image/svg+xml\">"
        f"<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\"></head>"
        "<body class=\"page\"><main class=\"card\">"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{extra}"
        "</main></body></html>"
    )
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=page,
        headers=HTML_HEADERS,
        cookies=cookies or [],
    )
