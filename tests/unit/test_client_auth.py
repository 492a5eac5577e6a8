"""Reading and checking client credentials (RFC 6749 §2.3)."""

import base64

import pytest
from authlib.oauth2.rfc6749.errors import InvalidRequestError

from oauth_server.client_auth import (BASIC, NONE, POST, Credentials, authenticate, lookup_id,
                                      presented)
from oauth_server.clients import Client
from oauth_server.oauth_errors import ClientAuthenticationFailed


def basic(pair: str) -> dict:
    return {"authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def client(client_type="confidential", secret_version="v1") -> Client:
    return Client(client_id="abc", name="App", client_type=client_type, redirect_uris=[],
                  access_token_expiry=3_600, refresh_token_expiry=259_200, pkce_required=True,
                  created_at="", updated_at="", secret_version=secret_version)


class Secrets:
    """A SecretStore that knows one secret per version."""

    def __init__(self, **by_version):
        self.by_version = by_version

    def verify(self, client_id, version, presented_secret):
        return self.by_version.get(version) == presented_secret


def test_basic_parts_are_form_url_decoded():
    credentials = presented(basic("a%2Bb%3Ac:s%25e%3Ac%2Fr%20t"), {})
    assert (credentials.client_id, credentials.client_secret) == ("a+b:c", "s%e:c/r t")
    assert credentials.method == BASIC and credentials.basic


def test_scheme_is_case_insensitive():
    header = {"authorization": "bAsIc " + base64.b64encode(b"abc:s").decode()}
    assert presented(header, {}).client_secret == "s"


def test_post_and_none_are_told_apart():
    assert presented({}, {"client_id": "abc", "client_secret": "s"}).method == POST
    assert presented({}, {"client_id": "abc"}).method == NONE


def test_an_empty_secret_counts_as_none():
    assert presented({}, {"client_id": "abc", "client_secret": None}).method == NONE
    assert presented(basic("abc:"), {}).client_secret is None


def test_other_schemes_fall_back_to_the_body():
    credentials = presented({"authorization": "Bearer xyz"}, {"client_id": "abc"})
    assert credentials.method == NONE


def test_no_client_id_at_all_is_invalid_client_without_challenge():
    with pytest.raises(ClientAuthenticationFailed) as raised:
        presented({}, {})
    assert raised.value.status_code == 401
    assert all(name != "WWW-Authenticate" for name, _ in raised.value.get_headers())


@pytest.mark.parametrize("header", [
    {"authorization": "Basic %%%"},
    basic("no-colon"),
    basic(":secret-without-id"),
    {"authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()},
])
def test_malformed_basic_is_invalid_client_with_challenge(header):
    with pytest.raises(ClientAuthenticationFailed) as raised:
        presented(header, {})
    challenges = [v for name, v in raised.value.get_headers() if name == "WWW-Authenticate"]
    assert len(challenges) == 1 and challenges[0].startswith("Basic ")


def test_basic_and_body_secret_together_is_invalid_request():
    with pytest.raises(InvalidRequestError):
        presented(basic("abc:s"), {"client_secret": "s"})


def test_body_client_id_must_repeat_the_basic_one():
    assert presented(basic("abc:s"), {"client_id": "abc"}).client_id == "abc"
    with pytest.raises(InvalidRequestError):
        presented(basic("abc:s"), {"client_id": "xyz"})


@pytest.mark.parametrize("client_id", ["a" * 129, "a/b", "é", "a b"])
def test_implausible_ids_are_never_looked_up(client_id):
    assert lookup_id(Credentials(client_id, None, NONE)) is None
    assert lookup_id(Credentials("abc123", None, NONE)) == "abc123"


def test_right_secret_authenticates():
    credentials = presented({}, {"client_id": "abc", "client_secret": "s1"})
    assert authenticate(credentials, client(), Secrets(v1="s1")).client_id == "abc"


@pytest.mark.parametrize("found, form, reason", [
    (None, {"client_id": "abc"}, "unknown"),
    (client(), {"client_id": "abc"}, "no secret from a confidential client"),
    (client(), {"client_id": "abc", "client_secret": "old"}, "wrong secret"),
    (client(secret_version=None), {"client_id": "abc", "client_secret": "s1"}, "no version"),
    (client("public", None), {"client_id": "abc", "client_secret": "s1"}, "public sends one"),
])
def test_authentication_failures_are_401(found, form, reason):
    with pytest.raises(ClientAuthenticationFailed) as raised:
        authenticate(presented({}, form), found, Secrets(v1="s1"))
    assert raised.value.status_code == 401, reason
    assert raised.value.error == "invalid_client"


def test_secret_is_checked_against_the_recorded_version_only():
    credentials = presented({}, {"client_id": "abc", "client_secret": "old"})
    with pytest.raises(ClientAuthenticationFailed):
        authenticate(credentials, client(secret_version="v2"), Secrets(v1="old", v2="new"))


def test_public_client_needs_no_secret():
    found = client("public", None)
    assert authenticate(presented({}, {"client_id": "abc"}), found, Secrets()) is found
