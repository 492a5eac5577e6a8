"""CORS (SPEC.md §3): the metadata, token and revocation endpoints allow any origin without
credentials; introspection, the front-channel pages and the admin API allow none."""

import pytest

from tests.functional.flows import authorize, consent_path, person, register

ORIGIN = {"Origin": "https://evil.example"}


def cors_headers(reply) -> dict[str, str]:
    return {k.lower(): v for k, v in reply.headers.items()
            if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("method, path", [
    ("GET", "/.well-known/oauth-authorization-server"),
    ("POST", "/oauth/v1/token"),
    ("POST", "/oauth/v1/revoke"),
])
def test_open_endpoints_allow_any_origin_without_credentials(front, method, path):
    headers = cors_headers(front.request(method, path, raw=b"", headers=ORIGIN))
    assert headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in headers


def test_introspection_allows_no_origin(front):
    reply = front.request("POST", "/oauth/v1/introspect", raw=b"token=x", headers=ORIGIN,
                          content_type="application/x-www-form-urlencoded")
    assert cors_headers(reply) == {}


def test_admin_api_and_pages_allow_no_origin(api):
    for path in ["/api/v1/session", "/api/v1/oauth-clients", "/app/admin/oauth-client-apps/"]:
        assert cors_headers(api.get(path, headers=ORIGIN)) == {}, path
    preflight = api.request("OPTIONS", "/api/v1/oauth-clients", headers={
        **ORIGIN, "Access-Control-Request-Method": "POST"})
    assert cors_headers(preflight) == {}


def test_authorization_and_consent_pages_allow_no_origin(api):
    client = register(api)
    browser = person(api)
    reply = authorize(browser, client)
    assert cors_headers(reply) == {}
    consent = browser.get(consent_path(reply), headers=ORIGIN)
    assert consent.status == 200
    assert cors_headers(consent) == {}
