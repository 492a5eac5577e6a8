"""The consent page and the person's decision (SPEC.md §3), through the gateway, against moto."""

import re

import pytest

from oauth_server import authorization, aws, clock
from oauth_server.config import settings
from oauth_server.grants import CODE_LIFETIME_SECONDS, CONSENT_LIFETIME_SECONDS, digest
from tests.functional.flows import (
    CHALLENGE,
    REDIRECT_URI,
    RESOURCE,
    answer,
    approve,
    assert_error_page,
    assert_security_headers,
    authorize,
    code_items,
    code_of,
    consent_form,
    consent_items,
    consent_path,
    error_of,
    fail_dynamodb,
    location,
    pending_items,
    person,
    query_of,
    register,
    return_to_of,
)

STATE = "a,b c&d=é"


def asked(api, browser, **fields):
    """A client, and the reply that sends `browser` to its consent page."""
    client = register(api, **fields)
    return client, authorize(browser, client, state=STATE, resource=RESOURCE)


def post(browser, form: dict):
    return browser.post_form("/oauth/v1/consent/", form)


# The page -----------------------------------------------------------------------------------

def test_page_names_the_app_person_access_and_destination(api):
    bob = person(api)
    _, reply = asked(api, bob)
    page = bob.get(consent_path(reply))
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "bob@example.com" in page.body
    assert "<code>mcp:read</code>" in page.body
    assert f"<code>{RESOURCE}</code>" in page.body
    assert "<strong>app.example.com</strong>" in page.body
    assert_security_headers(page)


def test_page_policy_lets_the_answer_redirect_to_the_client(api):
    bob = person(api)
    _, reply = asked(api, bob)
    policy = bob.get(consent_path(reply)).headers["Content-Security-Policy"]
    # Chrome checks form-action against the redirect to the client that answers the form.
    assert "form-action" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_page_escapes_the_app_name(api):
    bob = person(api)
    _, reply = asked(api, bob, name="<script>alert(1)</script>")
    page = bob.get(consent_path(reply))
    assert "<script>" not in page.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.body


def test_page_has_no_inline_script_or_style(api):
    bob = person(api)
    _, reply = asked(api, bob)
    body = bob.get(consent_path(reply)).body.lower()
    # One script, a file of this server's own (it keeps a second click from answering twice).
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S)
    assert scripts == [(' src="/app/admin/oauth-client-apps/static/consent.js" defer', "")]
    assert body.count("<script") == 1
    assert "<style" not in body and "style=" not in body
    assert not re.search(r"\son[a-z]+=", body)  # no event-handler attributes


def test_page_without_scopes_says_so(api):
    bob = person(api)
    client = register(api)
    page = bob.get(consent_path(authorize(bob, client, scope=None)))
    assert "No specific scopes" in page.body


@pytest.mark.parametrize("redirect_uri, shown", [
    ("http://127.0.0.1:5555/cb", "an app on this computer"),
    ("cursor://anysphere.cursor-mcp/oauth/callback", "the app that opens cursor: links"),
])
def test_page_shows_where_the_answer_goes(api, redirect_uri, shown):
    bob = person(api)
    client = register(api, redirect_uris=[redirect_uri])
    page = bob.get(consent_path(authorize(bob, client)))
    assert f"<strong>{shown}</strong>" in page.body


def test_form_posts_the_request_and_the_csrf_token(api):
    bob = person(api)
    _, reply = asked(api, bob)
    form = consent_form(bob.get(consent_path(reply)))
    assert form["csrf_token"] == bob.csrf_token
    assert form["request"] == query_of(location(reply))["request"]


def test_page_of_someone_else_is_refused(api):
    _, reply = asked(api, person(api))
    assert_error_page(person(api, "mallory").get(consent_path(reply)))


def test_page_without_a_session_signs_in_and_comes_back(api):
    _, reply = asked(api, person(api))
    anonymous = api.anonymous().get(consent_path(reply))
    assert return_to_of(anonymous) == consent_path(reply)


def test_unknown_request_is_refused(api):
    assert_error_page(person(api).get("/oauth/v1/consent?request=unknown"))
    assert_error_page(person(api).get("/oauth/v1/consent"))


# Approve ------------------------------------------------------------------------------------

def test_approve_issues_a_code_and_remembers_consent(api, aws_clients, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: 1_800_000_000)
    bob = person(api)
    client, reply = asked(api, bob, client_type="public")
    done = approve(bob, reply)
    assert done.status == 303
    target = location(done)
    assert target.startswith(REDIRECT_URI + "?code=oac_")
    answer_ = query_of(target)
    assert answer_["state"] == STATE and answer_["iss"] == settings().issuer
    (item,) = code_items(aws_clients)
    assert item["pk"] == {"S": f"code#{digest(answer_['code'])}"}
    assert answer_["code"] not in str(item)
    assert item["client_id"] == {"S": client["client_id"]}
    assert item["sub"] == {"S": "bob"}
    assert item["redirect_uri"] == {"S": REDIRECT_URI}
    assert item["redirect_uri_sent"] == {"BOOL": True}
    assert item["scope"] == {"S": "mcp:read"}
    assert item["resources"] == {"L": [{"S": RESOURCE}]}
    assert item["code_challenge"] == {"S": CHALLENGE}
    assert item["issued_at"] == {"N": "1800000000"}
    assert item["expires_at"] == {"N": str(1_800_000_000 + CODE_LIFETIME_SECONDS)}
    (consent,) = consent_items(aws_clients)
    assert consent["expires_at"] == {"N": str(1_800_000_000 + CONSENT_LIFETIME_SECONDS)}
    assert pending_items(aws_clients) == []


def test_code_length_and_prefix(api):
    bob = person(api)
    _, reply = asked(api, bob)
    code = code_of(approve(bob, reply))
    assert code.startswith("oac_") and len(code) == 4 + 43


def test_a_new_authorization_keeps_the_earlier_codes(api, aws_clients):
    bob = person(api)
    client, first = asked(api, bob)
    approve(bob, first)
    approve(bob, authorize(bob, client, prompt="consent"))
    assert len(code_items(aws_clients)) == 2


# Deny ---------------------------------------------------------------------------------------

def test_deny_sends_access_denied(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    done = answer(bob, reply, "deny")
    assert done.status == 303
    error = error_of(done)
    assert error["error"] == "access_denied"
    assert error["state"] == STATE and error["iss"] == settings().issuer
    assert location(done).startswith(REDIRECT_URI + "?")
    assert code_items(aws_clients) == [] and consent_items(aws_clients) == []
    assert pending_items(aws_clients) == []


# What a POST must carry ---------------------------------------------------------------------

@pytest.mark.parametrize("csrf_token", [None, "", "wrong"])
def test_approve_without_the_csrf_token_is_refused(api, aws_clients, csrf_token):
    bob = person(api)
    _, reply = asked(api, bob)
    form = consent_form(bob.get(consent_path(reply)))
    form = {**form, "decision": "approve", "csrf_token": csrf_token}
    refused = post(bob, {k: v for k, v in form.items() if v is not None})
    assert_error_page(refused, 403)
    assert code_items(aws_clients) == [] and consent_items(aws_clients) == []
    assert len(pending_items(aws_clients)) == 1


def test_approve_without_a_session_is_refused(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    form = consent_form(bob.get(consent_path(reply)))
    assert_error_page(post(api.anonymous(), {**form, "decision": "approve"}), 403)
    assert code_items(aws_clients) == []


def test_approve_by_someone_else_is_refused(api, aws_clients):
    bob, mallory = person(api), person(api, "mallory")
    _, reply = asked(api, bob)
    form = consent_form(bob.get(consent_path(reply)))
    stolen = {**form, "csrf_token": mallory.csrf_token, "decision": "approve"}
    assert_error_page(post(mallory, stolen))
    assert code_items(aws_clients) == []
    assert approve(bob, reply).status == 303  # still there for its owner


def test_a_request_is_answered_once(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    form = {**consent_form(bob.get(consent_path(reply))), "decision": "approve"}
    assert post(bob, form).status == 303
    assert_error_page(post(bob, form))
    assert_error_page(post(bob, {**form, "decision": "deny"}))
    assert len(code_items(aws_clients)) == 1


def test_unknown_decision_is_refused(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    form = consent_form(bob.get(consent_path(reply)))
    assert_error_page(post(bob, {**form, "decision": "maybe"}))
    assert len(pending_items(aws_clients)) == 1


def test_expired_request_is_refused(api, aws_clients, monkeypatch):
    bob = person(api)
    _, reply = asked(api, bob)
    form = {**consent_form(bob.get(consent_path(reply))), "decision": "approve"}
    later = clock.now() + authorization.PENDING_LIFETIME_SECONDS + 1
    monkeypatch.setattr(clock, "now", lambda: later)
    assert_error_page(bob.get(consent_path(reply)))
    assert_error_page(post(bob, form))
    assert code_items(aws_clients) == []


def test_throttled_approval_is_temporarily_unavailable_and_keeps_the_request(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    form = {**consent_form(bob.get(consent_path(reply))), "decision": "approve"}
    fail_dynamodb("TransactWriteItems")
    done = post(bob, form)
    assert done.status == 303
    error = error_of(done)
    assert error["error"] == "temporarily_unavailable" and error["state"] == STATE
    assert code_items(aws_clients) == [] and consent_items(aws_clients) == []
    assert len(pending_items(aws_clients)) == 1


def test_throttled_read_of_the_request_is_a_503_page(api, aws_clients):
    bob = person(api)
    _, reply = asked(api, bob)
    form = {**consent_form(bob.get(consent_path(reply))), "decision": "approve"}
    fail_dynamodb("GetItem")
    assert_error_page(post(bob, form), 503)
    assert_error_page(bob.get(consent_path(reply)), 503)
    assert code_items(aws_clients) == []


@pytest.mark.parametrize("decision, operation", [
    ("approve", "TransactWriteItems"), ("deny", "DeleteItem"),
])
def test_an_answer_racing_another_loses(api, aws_clients, decision, operation):
    bob = person(api)
    _, reply = asked(api, bob)
    form = {**consent_form(bob.get(consent_path(reply))), "decision": decision}

    def answered_meanwhile(**_):
        for item in pending_items(aws_clients):
            aws_clients.dynamodb.delete_item(TableName=settings().codes_table,
                                             Key={"pk": item["pk"]})

    aws.dynamodb().meta.events.register(f"before-call.dynamodb.{operation}", answered_meanwhile)
    assert_error_page(post(bob, form))
    assert code_items(aws_clients) == [] and consent_items(aws_clients) == []
