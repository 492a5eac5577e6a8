"""An OAuth client's authorization link opened in a real browser: sign in, consent, and the
browser's arrival at the app's loopback redirect URI (RFC 8252 §7.3)."""

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]

RESOURCE = "https://mcp.example.com/mcp"


def authorization_url(stack, client: dict, redirect_uri: str) -> tuple[str, str, str]:
    """The app's link with PKCE (S256); returns it with its state and code_verifier."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    state = secrets.token_urlsafe(16)
    query = urlencode({
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": redirect_uri, "scope": "mcp:read", "state": state,
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256", "resource": RESOURCE,
    })
    return f"{stack.issuer}/oauth/v1/authorize?{query}", state, verifier


def answer(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def redeem(stack, client: dict, app, code: str, verifier: str) -> requests.Response:
    """What the app does with its code: the token request, as a confidential client."""
    return requests.post(f"{stack.issuer}/oauth/v1/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": app.redirect_uri, "code_verifier": verifier,
    }, auth=(client["client_id"], client["client_secret"]), timeout=10)


def consent_as(person, stack, client: dict, app, subject: str) -> tuple[str, str]:
    """Opens the app's link and signs in; returns at the consent page, with state and verifier."""
    url, state, verifier = authorization_url(stack, client, app.redirect_uri)
    person.page.goto(url)
    person.sign_in(subject)
    page = person.page
    expect(page).to_have_url(re.compile(f"^{re.escape(stack.issuer)}/oauth/v1/consent"))
    asking = f"Allow {client['name']} to act for you?"
    expect(page.get_by_role("heading", name=asking)).to_be_visible()
    expect(page.get_by_text(RESOURCE)).to_be_visible()
    expect(page.get_by_text("an app on this computer")).to_be_visible()
    person.shot("consent")
    return state, verifier


def test_consent_approved_sends_code_state_and_iss_to_app(person, stack, register, app):
    client = register(app.redirect_uri)
    state, verifier = consent_as(person, stack, client, app, "alice")

    person.page.get_by_role("button", name="Approve").click()
    expect(person.page.get_by_role("heading", name="Example app")).to_be_visible()
    person.shot("app-received-code")

    landed = person.page.url
    assert landed.startswith(app.redirect_uri) and landed in app.received
    assert answer(landed)["state"] == state and answer(landed)["iss"] == stack.issuer
    token = redeem(stack, client, app, answer(landed)["code"], verifier)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "mcp:read"


def test_consent_denied_sends_access_denied_to_app(person, stack, register, app):
    client = register(app.redirect_uri)
    state, _ = consent_as(person, stack, client, app, "dora")

    person.page.get_by_role("button", name="Deny").click()
    expect(person.page.get_by_role("heading", name="Example app")).to_be_visible()
    person.shot("app-received-denial")

    landed = answer(person.page.url)
    assert landed["error"] == "access_denied" and "code" not in landed
    assert landed["state"] == state and landed["iss"] == stack.issuer


def test_consent_flow_requests_stay_on_server_origin(person, stack, register, app):
    client = register(app.redirect_uri)
    consent_as(person, stack, client, app, "erin")
    person.page.get_by_role("button", name="Approve").click()
    expect(person.page.get_by_role("heading", name="Example app")).to_be_visible()

    pages = {urlsplit(s.url).path for s in person.sent if s.url.startswith(stack.issuer)}
    assert {"/oauth/v1/authorize", "/oauth/v1/consent", "/oauth/v1/callback"} <= pages
    assert person.strays(also=(app.redirect_uri,)) == []
    assert person.strays() == [app.received[-1]]


def test_a_second_click_on_approve_still_brings_the_code_to_the_app(person, stack, register,
                                                                     app):
    # A second submission while the first is on its way would make the browser drop the
    # first answer's redirect, and show the refusal of the second instead.
    client = register(app.redirect_uri)
    state, verifier = consent_as(person, stack, client, app, "fay")

    box = person.page.get_by_role("button", name="Approve").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    person.page.mouse.click(x, y)  # the mouse, unlike a locator, waits for nothing
    person.page.wait_for_timeout(30)  # the first answer is on its way, not yet back
    person.page.mouse.click(x, y)
    expect(person.page.get_by_role("heading", name="Example app")).to_be_visible()

    landed = answer(person.page.url)
    assert landed["state"] == state and "code" in landed
    consents = [s for s in person.sent
                if s.method == "POST" and urlsplit(s.url).path == "/oauth/v1/consent"]
    assert len(consents) == 1
    token = redeem(stack, client, app, landed["code"], verifier)
    assert token.status_code == 200, token.text
