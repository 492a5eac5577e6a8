"""The consent page: who asks, for what, on whose behalf, and where the answer goes.

Everything shown comes from the client's registration or the request, so all of it is escaped
(a client's name may hold markup). The form works without script; one small file of the
server's own origin (CSP default-src 'self') keeps a second click from sending a second
answer. The page's look comes from the stylesheet every page of this server shares.
"""

from html import escape
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response

from .authorization import CONSENT_PATH
from .authorization_store import PendingAuthorization
from .http import CONSENT_SCRIPT_PATH, HTML_HEADERS, html_page
from .redirect_uris import is_loopback
from .sessions import Session

# Chrome and Safari hold form-action against every redirect that follows a submission, and
# this form's answer is a redirect to the client (which may redirect on to a custom scheme):
# under form-action 'self' the browser would drop the code (w3c/webappsec-csp#8). The form
# posts to this page's own origin; default-src 'self' still keeps everything else in.
CONSENT_POLICY = "; ".join(
    directive for directive in HTML_HEADERS["Content-Security-Policy"].split("; ")
    if not directive.startswith("form-action")
)


def destination(redirect_uri: str) -> str:
    """Where the person's browser goes after answering, in words a person can check."""
    if is_loopback(redirect_uri):
        return "an app on this computer"
    parts = urlsplit(redirect_uri)
    if parts.scheme.lower() in ("https", "http"):
        return parts.netloc
    return f"the app that opens {parts.scheme}: links"  # RFC 8252 §7.1 private-use scheme


def consent_page(pending: PendingAuthorization, request_id: str, session: Session) -> Response:
    title = f"Allow {pending.client_name} to act for you?"
    message = (f"{pending.client_name} asks to use this server's APIs on your behalf, "
               "with the access listed below.")
    body = "".join([
        _person(session),
        _section("Access asked for", "consent-scopes", pending.scope.split(),
                 "No specific scopes."),
        _section("For use with", "consent-resources", pending.resources,
                 "Any service that accepts this server's tokens."),
        '<p class="consent-destination">After you answer you will be sent to '
        f"<strong>{escape(destination(pending.redirect_uri))}</strong>.</p>",
        _decision_form(request_id, session.csrf_token),
    ])
    page = html_page(200, title, message, extra=body)
    page.headers["Content-Security-Policy"] = CONSENT_POLICY
    return page


def _person(session: Session) -> str:
    who = escape(session.name or session.sub)
    email = f" ({escape(session.email)})" if session.email and session.email != session.name \
        else ""
    return f'<p class="consent-person">Signed in as <strong>{who}</strong>{email}.</p>'


def _section(heading: str, css_class: str, values: list[str], none: str) -> str:
    if values:
        items = "".join(f"<li><code>{escape(value)}</code></li>" for value in values)
        listed = f"<ul>{items}</ul>"
    else:
        listed = f"<p>{escape(none)}</p>"
    return f'<section class="{css_class}"><h2>{escape(heading)}</h2>{listed}</section>'


def _decision_form(request_id: str, csrf_token: str) -> str:
    return (
        f'<form class="consent-decision" method="post" action="{CONSENT_PATH}">'
        f'<input type="hidden" name="request" value="{escape(request_id)}">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        '<button type="submit" name="decision" value="approve">Approve</button> '
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form>"
        f'<script src="{CONSENT_SCRIPT_PATH}" defer></script>'
    )
