"""Matching a presented redirect URI against the registered ones (RFC 9700 §4.1.3, RFC 8252)."""

import pytest

from oauth_server.redirect_uris import is_registered

REGISTERED = [
    "https://app.example.com/callback",
    "http://127.0.0.1:5555/cb",
    "http://localhost/cb",
    "http://[::1]:9000/cb?x=1",
    "cursor://anysphere.cursor-mcp/oauth/callback",
]


@pytest.mark.parametrize("presented", [
    "https://app.example.com/callback",
    "http://127.0.0.1:5555/cb",
    "http://127.0.0.1:61234/cb",
    "http://127.0.0.1/cb",
    "http://localhost:8080/cb",
    "http://LOCALHOST:8080/cb",
    "http://[::1]:1/cb?x=1",
    "cursor://anysphere.cursor-mcp/oauth/callback",
])
def test_presented_uri_matches(presented):
    assert is_registered(presented, REGISTERED)


@pytest.mark.parametrize("presented", [
    "https://app.example.com/callback/",
    "https://app.example.com/Callback",
    "https://app.example.com:443/callback",
    "https://app.example.com/callback?x=1",
    "https://app.example.com/callback#f",
    "https://evil.example/callback",
    "https://127.0.0.1:5555/cb",  # loopback over https is not the registered http one
    "http://127.0.0.1:5555/cb/",
    "http://127.0.0.1:5555/CB",
    "http://127.0.0.1:5555/cb?x=1",
    "http://127.0.0.1:5555/cb#f",
    "http://127.0.0.1:99999/cb",
    "http://127.0.0.1:0/cb",
    "http://127.0.0.1:5555\\@evil.example/cb",
    "http://evil@127.0.0.1:5555/cb",
    "http://127.0.0.1.evil.example:5555/cb",
    "http://localhost:5555/cb/../cb",
    "http://[::1]:9000/cb",  # the registered query is part of the URI
    "http://127.0.0.1:5555/cb ",
    "cursor://anysphere.cursor-mcp/oauth/callback/",
    "CURSOR://anysphere.cursor-mcp/oauth/callback",
    "http://[::1",
    "",
])
def test_presented_uri_does_not_match(presented):
    assert not is_registered(presented, REGISTERED)


def test_loopback_matching_needs_a_registered_loopback_uri():
    assert not is_registered("http://127.0.0.1:5555/cb", ["https://app.example.com/cb"])
    assert not is_registered("http://localhost:5555/cb", ["http://127.0.0.1:5555/cb"])
