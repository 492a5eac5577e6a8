"""The front channel: authorization, consent, sign-in through the upstream provider, sign-out."""

import html
from functools import cache
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from authlib.oauth2.rfc6749.errors import OAuth2Error

from oauth_server import browser
from oauth_server.authorization import (
    AUTHORIZE_PATH,
    CONSENT_PATH,
    AuthorizationEndpoint,
    ErrorPage,
    error_location,
)
from oauth_server.authorization_store import AuthorizationStore
from oauth_server.aws import ServiceUnavailable
from oauth_server.config import settings
from oauth_server.http import (
    BadRequest,
    form_pairs,
    html_page,
    is_local_path,
    query_pairs,
    redirect,
    single_values,
    strip_trailing_slash,
)
from oauth_server.log import defect, failure, observed, outcome
from oauth_server.signin import LOGIN_LIFETIME_SECONDS, SignInError, UpstreamSignIn

app = APIGatewayHttpResolver()

# Where a sign-in lands when it was not started from a page of this server.
CONSOLE_PATH = "/app/admin/oauth-client-apps/"


@cache
def upstream() -> UpstreamSignIn:
    return UpstreamSignIn(settings())


@cache
def endpoint() -> AuthorizationEndpoint:
    return AuthorizationEndpoint(AuthorizationStore(settings()))


def _return_to(params: dict[str, str]) -> str:
    target = params.get("return_to", "")
    return target if is_local_path(target) else CONSOLE_PATH


@app.get("/oauth/v1/login")
def login() -> Response:
    params, _ = single_values(query_pairs(app.current_event.raw_event))
    pending = upstream().start(_return_to(params))
    cookie = browser.login_cookie(pending.verifier, LOGIN_LIFETIME_SECONDS)
    outcome("signin.started")
    return redirect(pending.redirect_url, cookies=[cookie])


@app.get("/oauth/v1/callback")
def callback() -> Response:
    event = app.current_event.raw_event
    params, _ = single_values(query_pairs(event))
    session, return_to = upstream().finish(params, browser.login_binding(event))
    outcome("signin.completed", sub=session.sub, is_admin=session.is_admin)
    cookies = [browser.session_cookie(session), browser.expired_cookie(browser.LOGIN_COOKIE)]
    return redirect(return_to, status=303, cookies=cookies)


@app.post("/oauth/v1/logout")
def logout() -> Response:
    event = app.current_event.raw_event
    session = browser.read_session(event)
    form, _ = single_values(form_pairs(event))
    presented = form.get("csrf_token") or app.current_event.headers.get("x-csrf-token")
    # A forged cross-site POST must not sign anyone out; without a session there is nothing
    # to end, so it is safe to answer as if it worked.
    if session and not session.csrf_matches(presented):
        return html_page(403, "Sign-out refused", "The sign-out form has expired. Reload the "
                         "page and try again.")
    if session:
        outcome("signin.ended", sub=session.sub)
    cookies = [browser.expired_cookie(browser.SESSION_COOKIE)]
    return redirect("/oauth/v1/logout", status=303, cookies=cookies)


@app.get(AUTHORIZE_PATH)
def authorize() -> Response:
    event = app.current_event.raw_event
    location = endpoint().authorize(
        query_pairs(event), event.get("rawQueryString") or "", browser.read_session(event))
    return redirect(location)


@app.get(CONSENT_PATH)
def consent() -> Response:
    event = app.current_event.raw_event
    params, _ = single_values(query_pairs(event))
    request_id = params.get("request", "")
    session = browser.read_session(event)
    if session is None:
        # The session ended since the request was made: sign in and come back here.
        return redirect(browser.login_url(f"{CONSENT_PATH}?{urlencode({'request': request_id})}"))
    pending = endpoint().pending(request_id, session)
    from oauth_server.consent_page import consent_page  # this route alone renders it

    return consent_page(pending, request_id, session)


@app.post(CONSENT_PATH)
def decide() -> Response:
    event = app.current_event.raw_event
    session = browser.read_session(event)
    form, _ = single_values(form_pairs(event))
    # A cross-site POST carries the cookie but cannot know the token (SameSite=Lax aside).
    if session is None or not session.csrf_matches(form.get("csrf_token")):
        failure("consent.csrf_failed")
        return html_page(403, "Request refused", "This form has expired or did not come from "
                         "this server. Go back to the application and start again.")
    decision = form.get("decision")
    if decision not in ("approve", "deny"):
        return html_page(400, "Bad request", "Choose Approve or Deny.")
    request_id = form.get("request", "")
    pending = endpoint().pending(request_id, session)
    answer = endpoint().approve if decision == "approve" else endpoint().deny
    return redirect(answer(request_id, pending), status=303)


def sign_in_link(text: str) -> str:
    return f'<p><a href="{html.escape(browser.login_url(CONSOLE_PATH))}">{text}</a></p>'


@app.get("/oauth/v1/logout")
def signed_out() -> Response:
    return html_page(200, "Signed out", "You have signed out of the authorization server.",
                     extra=sign_in_link("Sign in"))


@app.exception_handler(SignInError)
def sign_in_failed(error: SignInError) -> Response:
    failure("signin.failed", reason=error.reason)
    link = sign_in_link("Sign in again")
    cookies = [browser.expired_cookie(browser.LOGIN_COOKIE)]
    return html_page(error.status, "Sign-in failed", str(error), cookies=cookies, extra=link)


@app.exception_handler(ErrorPage)
def error_page(error: ErrorPage) -> Response:
    return html_page(error.status, "Authorization failed", str(error))


@app.exception_handler(OAuth2Error)
def error_response(error: OAuth2Error) -> Response:
    """RFC 6749 §4.1.2.1: back to the client; a POST is answered with 303 (RFC 9700 §4.12)."""
    status = 303 if app.current_event.http_method == "POST" else 302
    return redirect(error_location(error), status=status)


@app.exception_handler(BadRequest)
def bad_request(error: BadRequest) -> Response:
    return html_page(400, "Bad request", str(error))


@app.exception_handler(ServiceUnavailable)
def unavailable(error: ServiceUnavailable) -> Response:
    failure("aws.unavailable", reason=str(error))
    return html_page(503, "Temporarily unavailable",
                     "The service is busy. Please try again in a moment.")


@app.exception_handler(Exception)
def unexpected(_error: Exception) -> Response:
    defect("request.failed")
    return html_page(500, "Something went wrong",
                     "The server could not complete this request. Please try again later.")


@app.not_found
def not_found(_error) -> Response:
    return html_page(404, "Not found", "There is no page at this address.")


@observed
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(strip_trailing_slash(event), context)
