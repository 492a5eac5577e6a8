"""The admin API's request and response models for OAuth client applications (SPEC.md §4)."""

import unicodedata
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from . import redirect_uris
from .field_problems import FieldProblem, InvalidFields

ACCESS_TOKEN_EXPIRY = (3_600, 259_200)
REFRESH_TOKEN_EXPIRY = (259_200, 15_552_000)
NAME_MAX_LENGTH = 100

# Bidirectional overrides and isolates can make a name read differently on the consent page.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValueError("must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"must be at most {NAME_MAX_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in name):
        raise ValueError("must not contain control characters")
    return name


def _check_redirect_uri(uri: str) -> str:
    if problem := redirect_uris.problem(uri):
        raise ValueError(problem)
    return uri


def _check_redirect_uris(uris: list[str]) -> list[str]:
    if not 1 <= len(uris) <= redirect_uris.MAX_COUNT:
        raise ValueError(f"must list 1 to {redirect_uris.MAX_COUNT} URIs")
    if len(set(uris)) != len(uris):
        raise ValueError("lists the same URI more than once")
    return uris


def _within(low: int, high: int):
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:,} and {high:,} seconds")
        return value
    return check


Name = Annotated[StrictStr, AfterValidator(_check_name)]
RedirectUri = Annotated[StrictStr, AfterValidator(_check_redirect_uri)]
RedirectUris = Annotated[list[RedirectUri], AfterValidator(_check_redirect_uris)]
AccessTokenExpiry = Annotated[StrictInt, AfterValidator(_within(*ACCESS_TOKEN_EXPIRY))]
RefreshTokenExpiry = Annotated[StrictInt, AfterValidator(_within(*REFRESH_TOKEN_EXPIRY))]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    client_type: Literal["confidential", "public"] = "confidential"
    redirect_uris: RedirectUris
    access_token_expiry: AccessTokenExpiry = 3_600
    refresh_token_expiry: RefreshTokenExpiry = 2_592_000
    pkce_required: StrictBool = True


class ClientPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    redirect_uris: RedirectUris | None = None
    access_token_expiry: AccessTokenExpiry | None = None
    refresh_token_expiry: RefreshTokenExpiry | None = None
    pkce_required: StrictBool | None = None


# Messages for pydantic's error types, phrased for the person reading the API response.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of a client",
    "int_type": "must be a whole number of seconds",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list of strings",
    "too_long": "is too long",
    "literal_error": 'must be "confidential" or "public"',
}


def _field(location: tuple) -> str:
    field = str(location[0]) if location else "body"
    return field + "".join(f"[{part}]" for part in location[1:])


def _problem(error: dict) -> FieldProblem:
    message = _MESSAGES.get(error["type"]) or error["msg"].removeprefix("Value error, ")
    return FieldProblem(field=_field(error["loc"]), message=message)


def _problems(error: ValidationError) -> list[FieldProblem]:
    return [_problem(item) for item in error.errors(include_url=False)]


def parse_create(body: dict) -> ClientCreate:
    problems = []
    try:
        request = ClientCreate.model_validate(body)
    except ValidationError as error:
        problems = _problems(error)
        request = None
    if body.get("client_type") == "public" and body.get("pkce_required") is False:
        problems.append(FieldProblem(
            field="pkce_required", message="must be true for a public client",
        ))
    if problems:
        raise InvalidFields(problems)
    return request


def parse_patch(body: dict) -> ClientPatch:
    """The changes a PATCH asks for; a field sent as null is refused, not cleared."""
    problems = []
    try:
        request = ClientPatch.model_validate(body)
    except ValidationError as error:
        problems = _problems(error)
        request = None
    problems += [
        FieldProblem(field=field, message="must not be null")
        for field, value in body.items()
        if value is None and field in ClientPatch.model_fields
    ]
    if "client_type" in body:
        problems = [p for p in problems if p.field != "client_type"]
        problems.append(FieldProblem(
            field="client_type", message="is fixed when the client is created",
        ))
    if problems:
        raise InvalidFields(problems)
    return request
