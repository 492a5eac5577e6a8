"""The cookies a browser carries: the session, and the binding of a sign-in in progress."""

from functools import cache
from urllib.parse import urlencode

from aws_lambda_powertools.shared.cookies import Cookie

from . import sessions
from .config import settings
from .http import cookie_name, make_cookie, request_cookies
from .sessions import Session

SESSION_COOKIE = "oauth_session"
LOGIN_COOKIE = "oauth_login"


@cache
def signing_key() -> sessions.SigningKey:
    return sessions.SigningKey(settings().session_key_secret_arn)


def _name(base: str) -> str:
    return cookie_name(base, settings().secure_cookies)


def read_session(event: dict) -> Session | None:
    value = request_cookies(event).get(_name(SESSION_COOKIE))
    if not value:
        return None
    return sessions.decode(value, signing_key().get())


def session_cookie(session: Session) -> Cookie:
    value = sessions.encode(session, signing_key().get())
    lifetime = settings().session_lifetime_seconds
    return make_cookie(_name(SESSION_COOKIE), value, settings().secure_cookies, lifetime)


def login_binding(event: dict) -> str | None:
    return request_cookies(event).get(_name(LOGIN_COOKIE))


def login_cookie(verifier: str, lifetime: int) -> Cookie:
    return make_cookie(_name(LOGIN_COOKIE), verifier, settings().secure_cookies, lifetime)


def expired_cookie(base: str) -> Cookie:
    return make_cookie(_name(base), "", settings().secure_cookies, 0)


def login_url(return_to: str) -> str:
    return f"{settings().issuer}/oauth/v1/login?{urlencode({'return_to': return_to})}"
