"""The back channel: token, revocation, introspection and metadata (SPEC.md §2-3).

Every answer is JSON; OAuth errors render as RFC 6749 §5.2 bodies through one exception
handler. CORS is decided here, per path, because an API-level CORS configuration would
override it for every route (DESIGN.md, "API Gateway facts that bite").
"""

import json
from dataclasses import dataclass
from functools import cache

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError, UnsupportedGrantTypeError
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from oauth_server import client_auth
from oauth_server.aws import ServiceUnavailable
from oauth_server.client_secrets import SecretStore
from oauth_server.config import settings
from oauth_server.form_params import FormParams, check_media_type
from oauth_server.http import BadRequest, PayloadTooLarge, form_pairs, strip_trailing_slash
from oauth_server.introspection import IntrospectionEndpoint
from oauth_server.log import defect, failure, observed
from oauth_server.metadata import (INTROSPECT_PATH, PATH as METADATA_PATH, REVOKE_PATH,
                                   TOKEN_PATH, authorization_server_metadata)
from oauth_server.oauth_errors import ServerError, TemporarilyUnavailableError, log_event
from oauth_server.revocation import RevocationEndpoint
from oauth_server.token_endpoint import TokenEndpoint
from oauth_server.tokens import TokenStore

app = APIGatewayHttpResolver()

WELL_KNOWN = "/.well-known/"
ALLOWED_METHODS = {
    TOKEN_PATH: "POST, OPTIONS",
    REVOKE_PATH: "POST, OPTIONS",
    INTROSPECT_PATH: "POST",
    METADATA_PATH: "GET, OPTIONS",
}
# SPEC.md §3: metadata, token and revocation allow any origin, without credentials.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
    "Access-Control-Max-Age": "7200",  # the longest any browser honours
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REFUSED = {
    TOKEN_PATH: "token.refused",
    REVOKE_PATH: "revocation.refused",
    INTROSPECT_PATH: "introspection.refused",
}
METADATA_CACHE = {"Cache-Control": "public, max-age=300"}


@dataclass(frozen=True)
class Endpoints:
    token: TokenEndpoint
    revocation: RevocationEndpoint
    introspection: IntrospectionEndpoint


@cache
def endpoints() -> Endpoints:
    config = settings()
    store, secrets = TokenStore(config), SecretStore(config.client_secret_prefix)
    grace = config.refresh_reuse_grace_seconds
    return Endpoints(
        token=TokenEndpoint(store, secrets, grace),
        revocation=RevocationEndpoint(store, secrets),
        introspection=IntrospectionEndpoint(store, secrets, config.issuer, grace),
    )


GRANTS = {
    "authorization_code": TokenEndpoint.authorization_code,
    "refresh_token": TokenEndpoint.refresh_token,
}


def cors_headers() -> dict:
    path = app.current_event.path
    allowed = path in (TOKEN_PATH, REVOKE_PATH) or path.startswith(WELL_KNOWN)
    return CORS_HEADERS if allowed else {}


def json_response(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body),
        headers={**NO_STORE, **cors_headers(), **(headers or {})},
    )


def form() -> FormParams:
    """The parameters of a form POST (RFC 6749 §3.2), each known one at most once."""
    check_media_type(app.current_event.headers.get("content-type", ""))
    return FormParams(form_pairs(app.current_event.raw_event))


def credentials(params: FormParams) -> client_auth.Credentials:
    presented = client_auth.presented(app.current_event.headers, params)
    app.append_context(client_id=presented.client_id[:128])  # for the refusal's log line
    return presented


@app.post(TOKEN_PATH)
def token() -> Response:
    params = form()
    grant_type = params.required("grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantTypeError(grant_type)
    return json_response(200, grant(endpoints().token, params, credentials(params)))


@app.post(REVOKE_PATH)
def revoke() -> Response:
    params = form()
    endpoints().revocation.revoke(params, credentials(params))
    return Response(status_code=200, body="", headers={**NO_STORE, **cors_headers()})


@app.post(INTROSPECT_PATH)
def introspect() -> Response:
    params = form()
    return json_response(200, endpoints().introspection.introspect(params, credentials(params)))


@app.get(METADATA_PATH)
def metadata() -> Response:
    body = authorization_server_metadata(settings())
    return Response(status_code=200, content_type="application/json", body=json.dumps(body),
                    headers={**METADATA_CACHE, **CORS_HEADERS})


@app.route(TOKEN_PATH, method="OPTIONS")
@app.route(REVOKE_PATH, method="OPTIONS")
@app.route(METADATA_PATH, method="OPTIONS")
def preflight() -> Response:
    """A CORS preflight (Fetch standard §3.2.2): what a cross-origin POST or GET may send."""
    allowed = ALLOWED_METHODS[app.current_event.path]
    headers = {**CORS_HEADERS, **PREFLIGHT_HEADERS, "Access-Control-Allow-Methods": allowed}
    return Response(status_code=204, body="", headers=headers)


def error_response(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return json_response(status, body, dict(headers))


@app.exception_handler(OAuth2Error)
def oauth_error(error: OAuth2Error) -> Response:
    """RFC 6749 §5.2, logged as one line: the refusal's own event, or the endpoint's."""
    default = REFUSED.get(app.current_event.path, "request.refused")
    event, fields = log_event(error, default)
    fields = {"client_id": app.context.get("client_id"), **fields}
    failure(event, error=error.error, status=error.status_code, **fields)
    return error_response(error)


@app.exception_handler(PayloadTooLarge)
def too_large(error: PayloadTooLarge) -> Response:
    return oauth_error(InvalidRequestError(str(error), status_code=413))


@app.exception_handler(BadRequest)
def bad_request(error: BadRequest) -> Response:
    return oauth_error(InvalidRequestError(str(error)))


@app.exception_handler(ServiceUnavailable)
def unavailable(error: ServiceUnavailable) -> Response:
    failure("aws.unavailable", reason=str(error))
    return error_response(TemporarilyUnavailableError())


@app.exception_handler(Exception)
def server_error(_error: Exception) -> Response:
    defect("request.failed")
    return error_response(ServerError())


@app.not_found
def not_found(_error) -> Response:
    allowed = ALLOWED_METHODS.get(app.current_event.path)
    if allowed:
        return json_response(405, {
            "error": "method_not_allowed", "error_description": f"Use {allowed} on this path.",
        }, {"Allow": allowed})
    return json_response(404, {
        "error": "not_found", "error_description": "There is nothing at this path.",
    })


@observed
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(strip_trailing_slash(event), context)
