"""The pure parts of the authorization endpoint: its checks, response URLs and the page."""

import pytest
from authlib.oauth2.rfc6749.errors import InvalidRequestError, UnsupportedResponseTypeError

from oauth_server import authorization
from oauth_server.authorization import (
    AuthorizationRequest,
    ErrorPage,
    check_pkce,
    check_prompt,
    check_redirect_uri,
    check_response_type,
    error_location,
    response_location,
    without_prompt_login,
)
from oauth_server.clients import Client
from oauth_server.consent_page import destination

ISSUER = "https://auth.example.test"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture(autouse=True)
def issuer(monkeypatch):
    class Settings:
        issuer = ISSUER
        scopes_supported = ()

    monkeypatch.setattr(authorization, "settings", lambda: Settings)


def client(redirect_uris=("https://app.example.com/cb",), pkce_required=True) -> Client:
    return Client("c1", "App", "public", list(redirect_uris), 3600, 2_592_000, pkce_required,
                  "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


def request(pairs, **fields) -> AuthorizationRequest:
    parsed = AuthorizationRequest.parse(pairs)
    parsed.client = fields.get("client", client())
    return parsed


def test_empty_parameters_count_as_left_out():
    parsed = AuthorizationRequest.parse([("state", ""), ("scope", "a"), ("state", "x")])
    assert parsed.params == {"scope": "a", "state": "x"} and parsed.repeated == set()


def test_resources_are_kept_in_order_with_repeats():
    parsed = AuthorizationRequest.parse([("resource", "https://a"), ("resource", "https://b")])
    assert parsed.resource_values == ["https://a", "https://b"]
    assert parsed.repeated == {"resource"}


def test_left_out_redirect_uri_is_the_only_registered_one():
    parsed = request([])
    check_redirect_uri(parsed)
    assert parsed.redirect_uri == "https://app.example.com/cb"
    assert parsed.redirect_uri_sent is False


def test_left_out_redirect_uri_with_two_registered_is_a_page():
    parsed = request([], client=client(["https://a.example/cb", "https://b.example/cb"]))
    with pytest.raises(ErrorPage):
        check_redirect_uri(parsed)


@pytest.mark.parametrize("pairs", [
    [("code_challenge", CHALLENGE)],
    [("code_challenge", CHALLENGE), ("code_challenge_method", "plain")],
    [("code_challenge", CHALLENGE[1:]), ("code_challenge_method", "S256")],
    [("code_challenge", CHALLENGE[1:] + "/"), ("code_challenge_method", "S256")],
    [("code_challenge_method", "S256")],
    [],
])
def test_pkce_refused(pairs):
    with pytest.raises(InvalidRequestError):
        check_pkce(request(pairs))


def test_pkce_s256_accepted():
    parsed = request([("code_challenge", CHALLENGE), ("code_challenge_method", "S256")])
    check_pkce(parsed)
    assert parsed.code_challenge == CHALLENGE


def test_pkce_may_be_left_out_when_not_required():
    parsed = request([], client=client(pkce_required=False))
    check_pkce(parsed)
    assert parsed.code_challenge is None


def test_response_type_other_than_code():
    with pytest.raises(UnsupportedResponseTypeError):
        check_response_type(request([("response_type", "code id_token")]))
    with pytest.raises(InvalidRequestError):
        check_response_type(request([]))


@pytest.mark.parametrize("prompt", ["none login", "none consent", "bogus"])
def test_prompt_refused(prompt):
    with pytest.raises(InvalidRequestError):
        check_prompt(request([("prompt", prompt)]))


def test_prompt_values_are_a_set():
    parsed = request([("prompt", " login  consent ")])
    check_prompt(parsed)
    assert parsed.prompt == {"login", "consent"}


@pytest.mark.parametrize("raw, kept", [
    ("a=1&prompt=login&b=%2C", "a=1&b=%2C"),
    ("prompt=login+consent&x=y", "prompt=consent&x=y"),
    ("prompt=consent%20login", "prompt=consent"),
    ("state=prompt%3Dlogin", "state=prompt%3Dlogin"),
    ("prompt=none", "prompt=none"),
])
def test_without_prompt_login(raw, kept):
    assert without_prompt_login(raw) == kept


def test_response_location_appends_to_a_registered_query():
    assert response_location("https://a.example/cb?t=a%20b", [("code", "c")], None) == \
        f"https://a.example/cb?t=a%20b&code=c&iss={ISSUER.replace(':', '%3A').replace('/', '%2F')}"


def test_response_location_keeps_state_exactly():
    url = response_location("https://a.example/cb", [("code", "c")], "a,b c&d=é+")
    assert "state=a%2Cb%20c%26d%3D%C3%A9%2B&" in url


def test_error_location_sanitises_the_description():
    error = UnsupportedResponseTypeError('tok"en\\é')
    error.redirect_uri, error.state = "https://a.example/cb", None
    url = error_location(error)
    assert "error=unsupported_response_type" in url
    assert "error_description=response_type%3Dtok%3Fen%3F%3F%20is%20not%20supported" in url


@pytest.mark.parametrize("redirect_uri, shown", [
    ("https://claude.ai/api/mcp/auth_callback", "claude.ai"),
    ("https://app.example.com:8443/cb", "app.example.com:8443"),
    ("http://127.0.0.1:33418/", "an app on this computer"),
    ("http://localhost/cb", "an app on this computer"),
    ("cursor://anysphere.cursor-mcp/oauth/callback", "the app that opens cursor: links"),
    ("com.example.app:/oauth2redirect", "the app that opens com.example.app: links"),
])
def test_destination_in_words(redirect_uri, shown):
    assert destination(redirect_uri) == shown
