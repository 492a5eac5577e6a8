"""The authorization endpoint (RFC 6749 §4.1.1-4.1.2) and the person's answer on the consent page.

A request goes through CHECKS in order, each a small function named for the rule it holds.
Until the client and its redirect URI are known to belong together, a failure is a page shown
to the person and sent nowhere (RFC 6749 §4.1.2.1, RFC 9700 §4.11: no open redirector); from
then on every answer goes back to the client, errors included, with the exact `state` and the
issuer (RFC 9207 §2).

authlib's AuthorizationServer is not used: its grant reads the client, the consent and the
code through separate callbacks, where DESIGN.md allows one batch read and one write for a
person who approved before. Its error classes name the error codes.
"""

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urlencode

from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)

from . import clock, request_params
from .authorization_store import AlreadyAnswered, AuthorizationStore, PendingAuthorization
from .aws import ServiceUnavailable
from .browser import login_url
from .clients import Client, plausible_client_id
from .config import settings
from .grants import (
    CODE_LIFETIME_SECONDS,
    CODE_PREFIX,
    CONSENT_LIFETIME_SECONDS,
    AuthorizationCode,
    Consent,
    consent_key,
    new_secret_value,
)
from .http import single_values
from .log import failure, outcome
from .oauth_errors import (
    ConsentRequiredError,
    InvalidTargetError,
    LoginRequiredError,
    TemporarilyUnavailableError,
)
from .redirect_uris import is_registered
from .sessions import Session

AUTHORIZE_PATH = "/oauth/v1/authorize"
CONSENT_PATH = "/oauth/v1/consent"
PENDING_LIFETIME_SECONDS = 600

# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# OpenID Connect Core §3.1.2.1; select_account changes nothing with a single upstream account.
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
# RFC 6749 §4.1.2.1: error_description is limited to these characters.
_DESCRIPTION_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class ErrorPage(Exception):
    """A failure shown to the person as a page and never sent to a redirect URI."""

    def __init__(self, message: str, reason: str, status: int = 400):
        super().__init__(message)
        self.reason = reason  # for the log line only
        self.status = status


def describe(kind: type[OAuth2Error], description: str) -> OAuth2Error:
    """The error with a description cut down to the characters RFC 6749 allows in it."""
    return kind(description=_safe_description(description))


def invalid_request(description: str) -> InvalidRequestError:
    return describe(InvalidRequestError, description)


def _safe_description(text: str) -> str:
    return _DESCRIPTION_UNSAFE.sub("?", text)[:200]


@dataclass
class AuthorizationRequest:
    """The request as sent, and what the checks establish about it, one field each."""

    params: dict[str, str]
    repeated: set[str]
    resource_values: list[str]
    client: Client | None = None
    redirect_uri: str | None = None  # set once known to be registered for the client
    redirect_uri_sent: bool = False
    scopes: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    code_challenge: str | None = None
    prompt: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, pairs: list[tuple[str, str]]) -> "AuthorizationRequest":
        # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
        sent = [(name, value) for name, value in pairs if value]
        params, repeated = single_values(sent)
        return cls(params, repeated, [value for name, value in sent if name == "resource"])

    @property
    def client_id(self) -> str:
        return self.params.get("client_id", "")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    def for_person(self, sub: str, at: int) -> PendingAuthorization:
        """The checked request as `sub` is asked to approve it (or approved it before)."""
        return PendingAuthorization(
            sub=sub, client_id=self.client.client_id, client_name=self.client.name,
            redirect_uri=self.redirect_uri, redirect_uri_sent=self.redirect_uri_sent,
            scope=" ".join(self.scopes), resources=self.resources,
            code_challenge=self.code_challenge, state=self.state,
            created_at=at, expires_at=at + PENDING_LIFETIME_SECONDS,
        )


def check_client(request: AuthorizationRequest) -> None:
    """RFC 6749 §4.1.2.1: a missing or unknown client is told to the person, not redirected."""
    if "client_id" in request.repeated:
        raise ErrorPage("The request names more than one application.", "client_id repeated")
    if not request.client_id:
        raise ErrorPage("The request does not say which application is asking (client_id).",
                        "client_id missing")
    if request.client is None:
        raise ErrorPage("The application asking for access is not registered here.",
                        "unknown client")


def check_redirect_uri(request: AuthorizationRequest) -> None:
    """RFC 6749 §3.1.2.3: a registered URI, exactly; left out only when there is just one."""
    presented = request.params.get("redirect_uri")
    registered = request.client.redirect_uris
    if "redirect_uri" in request.repeated:
        raise ErrorPage("The request names more than one address to return to.",
                        "redirect_uri repeated")
    if presented is None and len(registered) != 1:
        raise ErrorPage("The request does not say where to return to (redirect_uri).",
                        "redirect_uri missing")
    if presented is not None and not is_registered(presented, registered):
        raise ErrorPage("The address to return to is not registered for this application.",
                        "redirect_uri not registered")
    request.redirect_uri = presented or registered[0]
    request.redirect_uri_sent = presented is not None


def check_no_repeats(request: AuthorizationRequest) -> None:
    """RFC 6749 §3.1: no parameter twice; RFC 8707 §2 lets `resource` repeat."""
    repeated = sorted(request.repeated - {"resource"})
    if repeated:
        raise invalid_request(f"parameter {repeated[0][:40]} is repeated")


def check_response_type(request: AuthorizationRequest) -> None:
    """RFC 6749 §4.1.1, §4.1.2.1: response_type is required, and only `code` is served."""
    response_type = request.params.get("response_type")
    if response_type is None:
        raise invalid_request("response_type is missing")
    if response_type != "code":
        # authlib's description names the response_type sent; error_location sanitises it.
        raise UnsupportedResponseTypeError(response_type)


def check_pkce(request: AuthorizationRequest) -> None:
    """RFC 7636 §4.3 as RFC 9700 §2.1.1 narrows it: S256 only, required where the client says."""
    challenge = request.params.get("code_challenge")
    method = request.params.get("code_challenge_method")
    if challenge is None and method is not None:
        raise invalid_request("code_challenge_method without code_challenge")
    if challenge is None and request.client.pkce_required:
        raise invalid_request("this client must use PKCE: send code_challenge and "
                              "code_challenge_method=S256")
    if challenge is None:
        return
    # Without a method RFC 7636 §4.3 means plain, which this server does not accept.
    if method != "S256":
        raise invalid_request("code_challenge_method must be S256")
    if not _S256_CHALLENGE.match(challenge):
        raise invalid_request("code_challenge must be 43 characters of base64url")
    request.code_challenge = challenge


def check_scope(request: AuthorizationRequest) -> None:
    """RFC 6749 §3.3: space-separated scopes, each one this server knows."""
    try:
        request.scopes = request_params.split_scope(request.params.get("scope"))
        request_params.check_scopes(request.scopes, settings().scopes_supported)
    except request_params.InvalidParameter as error:
        raise describe(InvalidScopeError, str(error)) from None


def check_resource(request: AuthorizationRequest) -> None:
    """RFC 8707 §2: absolute URIs without a fragment, possibly several."""
    try:
        request.resources = request_params.resources(request.resource_values)
    except request_params.InvalidParameter as error:
        raise describe(InvalidTargetError, str(error)) from None


def check_prompt(request: AuthorizationRequest) -> None:
    """OpenID Connect Core §3.1.2.1: known values only, and `none` alone."""
    prompt = frozenset(request.params.get("prompt", "").split())
    if prompt - _PROMPTS:
        raise invalid_request("prompt may hold none, login, consent or select_account")
    if "none" in prompt and len(prompt) > 1:
        raise invalid_request("prompt=none cannot be combined with other values")
    request.prompt = prompt


CHECKS = (
    check_client,
    check_redirect_uri,
    check_no_repeats,
    check_response_type,
    check_pkce,
    check_scope,
    check_resource,
    check_prompt,
)


def response_location(redirect_uri: str, params: list[tuple[str, str]],
                      state: str | None) -> str:
    """The redirect URI with the response, `state` as sent and `iss` (RFC 9207 §2) added.

    The registered URI is kept byte for byte: its own query comes first (RFC 6749 §3.1.2).
    """
    params = [*params, *([("state", state)] if state is not None else []),
              ("iss", settings().issuer)]
    separator = "&" if "?" in redirect_uri else "?"
    if redirect_uri.endswith(("?", "&")):
        separator = ""
    return redirect_uri + separator + urlencode(params, quote_via=quote)


def error_location(error: OAuth2Error) -> str:
    """RFC 6749 §4.1.2.1: the error response, at the redirect URI `error` was addressed to."""
    params = [("error", error.error)]
    description = error.get_error_description()
    if description:
        params.append(("error_description", _safe_description(description)))
    return response_location(error.redirect_uri, params, error.state)


def _addressed(error: OAuth2Error, redirect_uri: str, state: str | None) -> OAuth2Error:
    error.redirect_uri, error.state = redirect_uri, state
    return error


def without_prompt_login(raw_query: str) -> str:
    """The query with `login` taken out of `prompt`, the rest byte for byte.

    After signing in again the person comes back to this query: asking again would loop.
    """
    kept = []
    for piece in raw_query.split("&"):
        name, _, value = piece.partition("=")
        if unquote_plus(name) == "prompt":
            rest = [p for p in unquote_plus(value).split() if p != "login"]
            piece = f"prompt={quote(' '.join(rest))}" if rest else ""
        if piece:
            kept.append(piece)
    return "&".join(kept)


class AuthorizationEndpoint:
    def __init__(self, store: AuthorizationStore):
        self._store = store

    def authorize(self, pairs: list[tuple[str, str]], raw_query: str,
                  session: Session | None) -> str:
        """Where the browser goes next: back to the client, to sign in, or to consent."""
        request = AuthorizationRequest.parse(pairs)
        client_id = request.client_id if plausible_client_id(request.client_id) else None
        # The consent key is known before the checks: one read fetches the client with it.
        request.client, consent = self._store.client_and_consent(
            client_id, _consent_key(request, session), clock.now())
        try:
            for check in CHECKS:
                check(request)
            return self._decide(request, raw_query, session, consent)
        except ErrorPage as error:
            failure("authorization.refused", reason=error.reason, client_id=client_id)
            raise
        except OAuth2Error as error:
            failure("authorization.failed", error=error.error, client_id=client_id)
            raise _addressed(error, request.redirect_uri, request.state) from None
        except ServiceUnavailable as error:
            failure("aws.unavailable", reason=str(error), client_id=client_id)
            unavailable = TemporarilyUnavailableError(description="try again in a moment")
            raise _addressed(unavailable, request.redirect_uri, request.state) from error

    def _decide(self, request: AuthorizationRequest, raw_query: str,
                session: Session | None, consent: Consent | None) -> str:
        if session is None and "none" in request.prompt:
            raise LoginRequiredError()
        if session is None:
            return login_url(f"{AUTHORIZE_PATH}?{raw_query}")
        if "login" in request.prompt:
            return login_url(f"{AUTHORIZE_PATH}?{without_prompt_login(raw_query)}")
        if consent is not None and "consent" not in request.prompt:
            return self._issue(request, session.sub)
        if "none" in request.prompt:
            raise ConsentRequiredError()
        return self._ask(request, session.sub)

    def _issue(self, request: AuthorizationRequest, sub: str) -> str:
        """RFC 6749 §4.1.2: consent was given before, so the code goes out at once."""
        code, record = new_code(request.for_person(sub, clock.now()))
        self._store.put_code(code, record)
        outcome("code.issued", client_id=record.client_id, sub=sub, consent="remembered")
        return response_location(request.redirect_uri, [("code", code)], request.state)

    def _ask(self, request: AuthorizationRequest, sub: str) -> str:
        """Keep the checked request for the consent page, bound to this person."""
        request_id = secrets.token_urlsafe(32)
        self._store.put_pending(request_id, request.for_person(sub, clock.now()))
        outcome("consent.asked", client_id=request.client_id, sub=sub)
        return f"{settings().issuer}{CONSENT_PATH}?{urlencode({'request': request_id})}"

    def pending(self, request_id: str, session: Session) -> PendingAuthorization:
        """The request waiting for this person's decision, or an error page."""
        pending = self._store.pending(request_id) if request_id else None
        if pending is None or pending.expires_at <= clock.now():
            failure("consent.refused", reason="request gone", sub=session.sub)
            raise ErrorPage("This authorization request has expired or was already answered. "
                            "Go back to the application and start again.", "request gone")
        if pending.sub != session.sub:
            failure("consent.refused", reason="request of another person", sub=session.sub)
            raise ErrorPage("This authorization request was started by someone else. Go back "
                            "to the application and start again.", "request of another person")
        return pending

    def approve(self, request_id: str, pending: PendingAuthorization) -> str:
        """Remember the consent, issue the code and answer the request, in one transaction."""
        code, record = new_code(pending)
        consent = Consent(sub=pending.sub, client_id=pending.client_id, scope=pending.scope,
                          resources=pending.resources, granted_at=record.issued_at,
                          expires_at=record.issued_at + CONSENT_LIFETIME_SECONDS)
        with _answering(pending):
            self._store.approve(request_id, pending.sub, record.issued_at, code, record, consent)
        outcome("consent.approved", client_id=pending.client_id, sub=pending.sub)
        outcome("code.issued", client_id=pending.client_id, sub=pending.sub, consent="given")
        return response_location(pending.redirect_uri, [("code", code)], pending.state)

    def deny(self, request_id: str, pending: PendingAuthorization) -> str:
        """RFC 6749 §4.1.2.1: the person said no; the client hears access_denied."""
        with _answering(pending):
            self._store.deny(request_id, pending.sub, clock.now())
        outcome("consent.denied", client_id=pending.client_id, sub=pending.sub)
        denied = AccessDeniedError(description="the person denied the request")
        return error_location(_addressed(denied, pending.redirect_uri, pending.state))


@contextmanager
def _answering(pending: PendingAuthorization) -> Iterator[None]:
    """While answering a request: a replay is a page, an AWS failure a redirect to the client."""
    try:
        yield
    except AlreadyAnswered as error:
        failure("consent.refused", reason="request answered twice", sub=pending.sub)
        raise ErrorPage("This authorization request was already answered, and the application "
                        "has that answer. If it did not open, go back to it and start again.",
                        "request answered twice") from error
    except ServiceUnavailable as error:
        failure("aws.unavailable", reason=str(error), client_id=pending.client_id)
        unavailable = TemporarilyUnavailableError(description="try again in a moment")
        raise _addressed(unavailable, pending.redirect_uri, pending.state) from error


def new_code(grant: PendingAuthorization) -> tuple[str, AuthorizationCode]:
    """A new code for an approved request (RFC 6749 §4.1.2), and the record it is redeemed by."""
    issued_at = clock.now()
    record = AuthorizationCode(
        client_id=grant.client_id, sub=grant.sub, redirect_uri=grant.redirect_uri,
        redirect_uri_sent=grant.redirect_uri_sent, scope=grant.scope,
        resources=list(grant.resources), code_challenge=grant.code_challenge,
        issued_at=issued_at, expires_at=issued_at + CODE_LIFETIME_SECONDS,
    )
    return new_secret_value(CODE_PREFIX), record


def _consent_key(request: AuthorizationRequest, session: Session | None) -> dict | None:
    """The key of the consent this request needs; None when there is none to look up."""
    if session is None:
        return None
    try:
        scopes = request_params.split_scope(request.params.get("scope"))
        resources = request_params.resources(request.resource_values)
    except request_params.InvalidParameter:
        return None  # the checks refuse the request anyway
    return consent_key(session.sub, request.client_id, scopes, resources)
