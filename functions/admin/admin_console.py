"""The admin console: one page and its static files, served from this function's directory.

Signed out, the console sends the person to sign in and back; a person outside the admin
group gets a page saying so, with a way to sign out. Administrators get console/index.html,
whose script does everything else through the admin API (SPEC.md §4 and §5). The page's CSP
allows no inline script or style, so the page, its script and its stylesheet are files.
"""

import hashlib
import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from oauth_server import browser
from oauth_server.config import settings
from oauth_server.http import HTML_HEADERS, html_page, redirect
from oauth_server.sessions import Session

CONSOLE_PATH = "/app/admin/oauth-client-apps/"
CONSOLE_DIR = Path(__file__).resolve().parent / "console"

# The only files served: a name outside this table is a 404, so no path can leave the folder.
CONTENT_TYPES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "consent.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}

# The files change only with a deployment; the ETag lets browsers revalidate cheaply.
STATIC_HEADERS = {**HTML_HEADERS, "Cache-Control": "no-cache"}

@dataclass(frozen=True)
class StaticFile:
    body: str
    etag: str


@cache
def static_file(name: str) -> StaticFile:
    body = (CONSOLE_DIR / name).read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode()).hexdigest()[:32]
    return StaticFile(body, f'"{digest}"')


def serve_static(name: str, if_none_match: str | None) -> Response:
    if name not in CONTENT_TYPES:
        return not_found()
    file = static_file(name)
    headers = {**STATIC_HEADERS, "ETag": file.etag}
    if if_none_match and file.etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type=CONTENT_TYPES[name], body=file.body,
                    headers=headers)


def sign_in_first() -> Response:
    return redirect(browser.login_url(CONSOLE_PATH))


def sign_out_form(session: Session) -> str:
    token = html.escape(session.csrf_token)
    return ('<form class="actions" method="post" action="/oauth/v1/logout">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            '<button type="submit">Sign out</button></form>')


def not_an_admin(session: Session) -> Response:
    message = (f"You are signed in as {session.name}, who is not in the "
               f"{settings().admin_group} group. Ask an administrator for access, or sign "
               "out and sign in as someone else.")
    return html_page(403, "Not an administrator", message, extra=sign_out_form(session))


def console_page() -> Response:
    """index.html, told the issuer (for the URLs to copy) and where to sign in again."""
    values = {"issuer": settings().issuer, "login_url": browser.login_url(CONSOLE_PATH)}
    page = static_file("index.html").body
    for name, value in values.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page,
                    headers=HTML_HEADERS)


def not_found() -> Response:
    return html_page(404, "Not found", "There is no page at this address.")
