"""Sign-in through a real OpenID Connect provider (oidc-provider-mock, in a thread)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from oauth_server import browser
from oauth_server.config import settings


def provider_redirect(provider_form_url: str, sub: str) -> str:
    """Submit the provider's login form as a person would; returns the callback URL."""
    response = requests.post(provider_form_url, data={"sub": sub}, allow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def start(front, return_to="/app/admin/oauth-client-apps/"):
    response = front.get("/oauth/v1/login/", query={"return_to": return_to})
    assert response.status == 302
    return response


def callback_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def change_pending_sign_ins(aws_clients, attribute: str, value: dict) -> None:
    """Alter what the server remembered of each sign-in in progress."""
    for item in aws_clients.dynamodb.scan(TableName=settings().codes_table)["Items"]:
        aws_clients.dynamodb.update_item(
            TableName=settings().codes_table, Key={"pk": item["pk"]},
            UpdateExpression="SET #attribute = :value",
            ExpressionAttributeNames={"#attribute": attribute},
            ExpressionAttributeValues={":value": value},
        )


def test_login_redirects_to_provider_with_pkce_nonce_and_state(front, provider):
    location = start(front).headers["Location"]
    query = callback_query(location)
    assert location.startswith(provider.issuer + "/")
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["nonce"] and query["state"]
    assert query["redirect_uri"] == settings().issuer + "/oauth/v1/callback"
    assert "openid" in query["scope"].split()


def test_full_sign_in_sets_a_session_cookie_for_an_admin(front, provider):
    login = start(front, return_to="/api/v1/session")
    callback = provider_redirect(login.headers["Location"], "admin")
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback_query(callback),
    )
    assert response.status == 303
    assert response.headers["Location"] == "/api/v1/session"
    session = front.with_cookies(response.cookies).session()
    assert session.sub == "admin"
    assert session.is_admin is True
    assert session.email == "admin@example.com"


def test_ordinary_person_is_not_an_admin(front, provider):
    login = start(front)
    callback = provider_redirect(login.headers["Location"], "bob")
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback_query(callback),
    )
    assert front.with_cookies(response.cookies).session().is_admin is False


def test_session_cookie_is_httponly_lax_and_scoped(front, provider):
    login = start(front)
    callback = provider_redirect(login.headers["Location"], "admin")
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback_query(callback),
    )
    cookie = next(c for c in response.set_cookies if f"{browser.SESSION_COOKIE}=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
])
def test_return_to_outside_this_server_falls_back_to_the_console(front, provider, target):
    login = start(front, return_to=target)
    callback = provider_redirect(login.headers["Location"], "admin")
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback_query(callback),
    )
    assert response.headers["Location"] == "/app/admin/oauth-client-apps/"


def test_state_mismatch_is_refused(front, provider):
    login = start(front)
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query={**callback, "state": "forged"},
    )
    assert response.status == 400
    assert "Sign-in failed" in response.body
    assert not response.session_cookie_set


def test_callback_in_another_browser_is_refused(front, provider):
    login = start(front)
    other = start(front)  # another browser: its own binding cookie
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    response = front.with_cookies(other.cookies).get("/oauth/v1/callback", query=callback)
    assert response.status == 400
    assert "another browser" in response.body
    assert not response.session_cookie_set


def test_callback_without_binding_cookie_is_refused(front, provider):
    login = start(front)
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    assert front.get("/oauth/v1/callback", query=callback).status == 400


def test_state_is_single_use(front, provider):
    login = start(front)
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    assert front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback).status == 303
    replay = front.with_cookies(login.cookies).get("/oauth/v1/callback", query=callback)
    assert replay.status == 400
    assert "already used" in replay.body


def test_nonce_mismatch_is_refused(front, provider, aws_clients):
    login = start(front)
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    # The ID token carries the nonce of the request; make the remembered one differ.
    change_pending_sign_ins(aws_clients, "nonce", {"S": "another-nonce"})
    response = front.with_cookies(login.cookies).get("/oauth/v1/callback", query=callback)
    assert response.status == 400
    assert "could not be verified" in response.body
    assert not response.session_cookie_set


def test_error_from_the_provider_is_shown_not_trusted(front, provider):
    login = start(front)
    state = callback_query(login.headers["Location"])["state"]
    response = front.with_cookies(login.cookies).get("/oauth/v1/callback", query={
        "error": "access_denied", "error_description": "<script>x</script>", "state": state,
    })
    assert response.status == 400
    assert "did not sign you in" in response.body
    assert "<script>" not in response.body
    assert not response.session_cookie_set


def test_denial_at_the_provider_form_ends_in_an_error_page(front, provider):
    login = start(front)
    denied = requests.post(login.headers["Location"], data={"action": "deny"},
                           allow_redirects=False)
    response = front.with_cookies(login.cookies).get(
        "/oauth/v1/callback", query=callback_query(denied.headers["Location"]),
    )
    assert response.status == 400
    assert not response.session_cookie_set


def test_expired_pending_sign_in_is_refused(front, provider, aws_clients):
    login = start(front)
    callback = callback_query(provider_redirect(login.headers["Location"], "admin"))
    change_pending_sign_ins(aws_clients, "expires_at", {"N": "1"})
    response = front.with_cookies(login.cookies).get("/oauth/v1/callback", query=callback)
    assert response.status == 400
    assert "expired" in response.body


def test_pages_carry_the_security_headers(front, provider):
    response = front.get("/oauth/v1/callback", query={"state": "x", "code": "y"})
    assert response.status == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_logout_needs_the_csrf_token_and_clears_the_session(front, api):
    signed_in = front.with_cookies([api.cookie])
    refused = signed_in.post_form("/oauth/v1/logout", {"csrf_token": "wrong"})
    assert refused.status == 403
    done = signed_in.post_form("/oauth/v1/logout/", {"csrf_token": api.csrf_token})
    assert done.status == 303
    cleared = next(c for c in done.set_cookies if f"{browser.SESSION_COOKIE}=" in c)
    assert "Max-Age=0" in cleared
    assert front.get("/oauth/v1/logout").status == 200
