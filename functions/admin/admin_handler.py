"""The admin JSON API for OAuth client applications (SPEC.md §4)."""

import json
import re
from functools import cache

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

import admin_console
from oauth_server import browser
from oauth_server.aws import ServiceUnavailable
from oauth_server.client_admin import ClientAdmin
from oauth_server.client_secrets import SecretStore
from oauth_server.clients import ClientNotFound, ClientStore, ConcurrentChange, NameTaken
from oauth_server.config import settings
from oauth_server.field_problems import InvalidFields
from oauth_server.http import BadRequest, PayloadTooLarge, body_bytes, strip_trailing_slash
from oauth_server.log import defect, failure, observed
from oauth_server.sessions import Session

app = APIGatewayHttpResolver()

CLIENTS = "/api/v1/oauth-clients"
CLIENT = CLIENTS + "/<client_id>"

# Paths this function serves and their methods, to tell 405 from 404.
_ALLOWED = [
    (re.compile(r"^/api/v1/session$"), "GET"),
    (re.compile(r"^/api/v1/oauth-clients$"), "GET, POST"),
    (re.compile(r"^/api/v1/oauth-clients/[^/]+$"), "GET, PATCH, DELETE"),
    (re.compile(r"^/api/v1/oauth-clients/[^/]+/rotate-secret$"), "POST"),
]


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, details=(), headers=None):
        super().__init__(message)
        self.status, self.error, self.details = status, error, list(details)
        self.headers = headers or {}


@cache
def admin() -> ClientAdmin:
    config = settings()
    return ClientAdmin(ClientStore(config.clients_table), SecretStore(config.client_secret_prefix))


def json_response(status: int, body: dict, headers=None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body),
        # Client secrets travel in these bodies: no cache may keep them.
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def signed_in() -> Session:
    session = browser.read_session(app.current_event.raw_event)
    if session is None:
        raise ApiError(401, "unauthorized", "Sign in first: no valid session was sent.")
    return session


def administrator() -> Session:
    """The signed-in administrator; changes must also carry the session's CSRF token."""
    session = signed_in()
    if not session.is_admin:
        raise ApiError(403, "forbidden",
                       f"You are not in the {settings().admin_group} group.")
    if app.current_event.http_method != "GET":
        if not session.csrf_matches(app.current_event.headers.get("x-csrf-token")):
            raise ApiError(403, "csrf_failed", "The X-CSRF-Token header is missing or wrong: "
                           "read csrf_token from GET /api/v1/session.")
    return session


def json_body() -> dict:
    content_type = app.current_event.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        body = json.loads(body_bytes(app.current_event.raw_event) or b"null")
    except ValueError:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


@app.get("/api/v1/session")
def get_session() -> Response:
    session = signed_in()
    return json_response(200, {
        "user": session.user(), "is_admin": session.is_admin, "csrf_token": session.csrf_token,
    })


def client_models():
    """The request models, imported by the first write. They bring pydantic, a fifth of this
    function's cold start, which the console, reads and deletes never need."""
    from oauth_server import client_models
    return client_models


@app.get(CLIENTS)
def list_clients() -> Response:
    administrator()
    return json_response(200, {"items": [c.view() for c in admin().newest_first()]})


@app.post(CLIENTS)
def create_client() -> Response:
    actor = administrator()
    created = admin().create(client_models().parse_create(json_body()), actor.sub)
    body = created.client.view()
    if created.client_secret:
        body["client_secret"] = created.client_secret
    location = f"{CLIENTS}/{created.client.client_id}"
    return json_response(201, body, headers={"Location": location})


@app.get(CLIENT)
def get_client(client_id: str) -> Response:
    administrator()
    return json_response(200, admin().get(client_id).view())


@app.patch(CLIENT)
def patch_client(client_id: str) -> Response:
    actor = administrator()
    patch = client_models().parse_patch(json_body())
    return json_response(200, admin().update(client_id, patch, actor.sub).view())


@app.post(CLIENT + "/rotate-secret")
def rotate_secret(client_id: str) -> Response:
    actor = administrator()
    secret = admin().rotate_secret(client_id, actor.sub)
    return json_response(200, {"client_id": client_id, "client_secret": secret})


@app.delete(CLIENT)
def delete_client(client_id: str) -> Response:
    actor = administrator()
    admin().delete(client_id, actor.sub)
    return Response(status_code=204, body="", headers={"Cache-Control": "no-store"})


@app.get("/app/admin/oauth-client-apps")
def console() -> Response:
    session = browser.read_session(app.current_event.raw_event)
    if session is None:
        return admin_console.sign_in_first()
    if not session.is_admin:
        return admin_console.not_an_admin(session)
    return admin_console.console_page()


@app.get("/app/admin/oauth-client-apps/static/<name>")
def console_static(name: str) -> Response:
    # No session needed: the sign-in, consent and signed-out pages use the stylesheet too.
    return admin_console.serve_static(name, app.current_event.headers.get("if-none-match"))


def error_response(error: ApiError) -> Response:
    body = {"error": error.error, "message": str(error), "details": error.details}
    return json_response(error.status, body, headers=error.headers)


@app.exception_handler(ApiError)
def api_error(error: ApiError) -> Response:
    return error_response(error)


@app.exception_handler(InvalidFields)
def invalid_fields(error: InvalidFields) -> Response:
    details = [problem.as_json() for problem in error.problems]
    return error_response(ApiError(
        422, "validation_failed", "Some fields are not valid: see details.", details,
    ))


@app.exception_handler(NameTaken)
def name_taken(error: NameTaken) -> Response:
    details = [{"field": "name", "message": "is already used by another client"}]
    return error_response(ApiError(
        409, "name_taken", f"A client named {str(error)!r} already exists.", details,
    ))


@app.exception_handler(ClientNotFound)
def client_not_found(_error: ClientNotFound) -> Response:
    return error_response(ApiError(404, "not_found", "No client has this client_id."))


@app.exception_handler(ConcurrentChange)
def concurrent_change(_error: ConcurrentChange) -> Response:
    return error_response(ApiError(
        409, "conflict", "The client was changed at the same time. Reload it and try again.",
    ))


@app.exception_handler(PayloadTooLarge)
def too_large(error: PayloadTooLarge) -> Response:
    return error_response(ApiError(413, "payload_too_large", str(error)))


@app.exception_handler(BadRequest)
def bad_request(error: BadRequest) -> Response:
    return error_response(ApiError(400, "invalid_request", str(error)))


@app.exception_handler(ServiceUnavailable)
def unavailable(error: ServiceUnavailable) -> Response:
    failure("aws.unavailable", reason=str(error))
    return error_response(ApiError(
        503, "temporarily_unavailable", "A storage service is busy. Try again in a moment.",
        headers={"Retry-After": "1"},
    ))


@app.exception_handler(Exception)
def server_error(_error: Exception) -> Response:
    defect("request.failed")
    return error_response(ApiError(500, "server_error", "Something went wrong on our side."))


@app.not_found
def not_found(_error) -> Response:
    path, method = app.current_event.path, app.current_event.http_method
    if path.startswith("/app/"):
        return admin_console.not_found()
    for pattern, methods in _ALLOWED:
        if pattern.match(path) and method not in methods.split(", "):
            return error_response(ApiError(
                405, "method_not_allowed", f"Use {methods} on this path.",
                headers={"Allow": methods},
            ))
    return error_response(ApiError(404, "not_found", "There is nothing at this path."))


@observed
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(strip_trailing_slash(event), context)
