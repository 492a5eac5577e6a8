import pytest

from oauth_server.client_models import parse_create, parse_patch
from oauth_server.field_problems import InvalidFields

VALID = {"name": "Claude", "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]}


def problems(parse, body) -> dict[str, str]:
    with pytest.raises(InvalidFields) as raised:
        parse(body)
    return {p.field: p.message for p in raised.value.problems}


def test_create_defaults():
    request = parse_create(VALID)
    assert request.client_type == "confidential"
    assert request.access_token_expiry == 3_600
    assert request.refresh_token_expiry == 2_592_000
    assert request.pkce_required is True


@pytest.mark.parametrize("value", [3_600, 259_200])
def test_access_token_expiry_bounds_accepted(value):
    assert parse_create({**VALID, "access_token_expiry": value}).access_token_expiry == value


@pytest.mark.parametrize("value", [3_599, 259_201, 0, -1])
def test_access_token_expiry_bounds_refused(value):
    found = problems(parse_create, {**VALID, "access_token_expiry": value})
    assert found == {"access_token_expiry": "must be between 3,600 and 259,200 seconds"}


@pytest.mark.parametrize("value", [259_200, 15_552_000])
def test_refresh_token_expiry_bounds_accepted(value):
    assert parse_create({**VALID, "refresh_token_expiry": value}).refresh_token_expiry == value


@pytest.mark.parametrize("value", [259_199, 15_552_001])
def test_refresh_token_expiry_bounds_refused(value):
    found = problems(parse_create, {**VALID, "refresh_token_expiry": value})
    assert found == {"refresh_token_expiry": "must be between 259,200 and 15,552,000 seconds"}


@pytest.mark.parametrize("value", [3600.5, 3600.0, "3600", True, None])
def test_expiry_must_be_whole_seconds(value):
    found = problems(parse_create, {**VALID, "access_token_expiry": value})
    assert "access_token_expiry" in found


def test_name_is_trimmed():
    assert parse_create({**VALID, "name": "  Claude Desktop \t"}).name == "Claude Desktop"


@pytest.mark.parametrize("name", ["x", "é" * 100, " " + "n" * 100 + " "])
def test_name_length_accepted(name):
    assert parse_create({**VALID, "name": name}).name == name.strip()


@pytest.mark.parametrize("name, message", [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("n" * 101, "must be at most 100 characters"),
    ("bad\x00name", "must not contain control characters"),
    ("line\nbreak", "must not contain control characters"),
    ("evil\u202eexe.txt", "must not contain control characters"),
    (42, "must be a string"),
])
def test_name_refused(name, message):
    assert problems(parse_create, {**VALID, "name": name}) == {"name": message}


@pytest.mark.parametrize("count", [1, 20])
def test_redirect_uri_count_accepted(count):
    uris = [f"https://app.example.com/cb{i}" for i in range(count)]
    assert parse_create({**VALID, "redirect_uris": uris}).redirect_uris == uris


@pytest.mark.parametrize("count", [0, 21])
def test_redirect_uri_count_refused(count):
    uris = [f"https://app.example.com/cb{i}" for i in range(count)]
    found = problems(parse_create, {**VALID, "redirect_uris": uris})
    assert found == {"redirect_uris": "must list 1 to 20 URIs"}


def test_each_bad_redirect_uri_is_named_by_position():
    uris = ["https://ok.example/cb", "http://evil.example/cb", "javascript:alert(1)"]
    found = problems(parse_create, {**VALID, "redirect_uris": uris})
    assert set(found) == {"redirect_uris[1]", "redirect_uris[2]"}


def test_duplicate_redirect_uris_refused():
    uris = ["https://ok.example/cb", "https://ok.example/cb"]
    assert "redirect_uris" in problems(parse_create, {**VALID, "redirect_uris": uris})


def test_public_client_must_require_pkce():
    body = {**VALID, "client_type": "public", "pkce_required": False}
    assert problems(parse_create, body) == {"pkce_required": "must be true for a public client"}


def test_confidential_client_may_skip_pkce():
    assert parse_create({**VALID, "pkce_required": False}).pkce_required is False


def test_every_failing_field_is_named_at_once():
    body = {
        "name": "",
        "client_type": "secretive",
        "redirect_uris": "https://one.example/cb",
        "access_token_expiry": 60,
        "refresh_token_expiry": 10**9,
        "pkce_required": "yes",
        "client_secret": "chosen-by-me",
    }
    assert set(problems(parse_create, body)) == {
        "name", "client_type", "redirect_uris", "access_token_expiry",
        "refresh_token_expiry", "pkce_required", "client_secret",
    }


def test_missing_required_fields_are_named():
    assert problems(parse_create, {}) == {
        "name": "is required", "redirect_uris": "is required",
    }


def test_patch_takes_any_subset():
    patch = parse_patch({"access_token_expiry": 7_200})
    assert patch.model_dump(exclude_none=True) == {"access_token_expiry": 7_200}


def test_patch_refuses_client_type_and_nulls():
    found = problems(parse_patch, {"client_type": "public", "name": None})
    assert found == {
        "client_type": "is fixed when the client is created", "name": "must not be null",
    }


def test_patch_applies_the_same_rules():
    found = problems(parse_patch, {"access_token_expiry": 259_201, "redirect_uris": []})
    assert set(found) == {"access_token_expiry", "redirect_uris"}
