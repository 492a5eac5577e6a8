"""The authorization endpoint of SPEC.md §3, through the gateway, against moto and a real
OpenID Connect provider."""

from urllib.parse import urlencode

import pytest

from oauth_server import config
from oauth_server.config import settings
from oauth_server.grants import digest
from tests.functional.flows import (
    CHALLENGE,
    REDIRECT_URI,
    RESOURCE,
    approve,
    assert_error_page,
    authorize,
    authorize_raw,
    code_items,
    code_of,
    consent_path,
    error_of,
    fail_dynamodb,
    is_consent_redirect,
    location,
    pending_items,
    person,
    query_of,
    register,
    request_params,
    return_to_of,
    sign_in,
)

ODD_STATE = "a,b c&d=é"


def remembered(client, browser, **params) -> None:
    """Approve once, so that the next identical request needs no consent page."""
    assert approve(browser, authorize(browser, client, **params)).status == 303


# The client and its redirect URI: an error page, never a redirect ---------------------------

def test_unknown_client_gets_an_error_page(api):
    reply = authorize(person(api), {"client_id": "nope", "redirect_uris": [REDIRECT_URI]})
    assert_error_page(reply)
    assert "not registered" in reply.body


def test_missing_client_id_gets_an_error_page(api):
    client = register(api)
    reply = authorize(person(api), client, client_id=None)
    assert_error_page(reply)


def test_repeated_client_id_gets_an_error_page(api):
    client = register(api)
    other = register(api, redirect_uris=["https://evil.example/cb"])
    query = urlencode(request_params(client)) + f"&client_id={other['client_id']}"
    assert_error_page(authorize_raw(person(api), query))


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback",
    "https://app.example.com/callback/more",
    "https://app.example.com/callback?x=1",
    "https://app.example.com/CALLBACK",
    "http://app.example.com/callback",
    "https://app.example.com/callback#fragment",
])
def test_unregistered_redirect_uri_gets_an_error_page(api, redirect_uri):
    client = register(api)
    assert_error_page(authorize(person(api), client, redirect_uri=redirect_uri))


def test_redirect_uri_may_be_left_out_when_one_is_registered(api, aws_clients):
    client = register(api)
    bob = person(api)
    done = approve(bob, authorize(bob, client, redirect_uri=None))
    assert location(done).startswith(REDIRECT_URI + "?code=")
    (item,) = code_items(aws_clients)
    assert item["redirect_uri"] == {"S": REDIRECT_URI}
    assert item["redirect_uri_sent"] == {"BOOL": False}


def test_redirect_uri_is_required_when_two_are_registered(api):
    client = register(api, redirect_uris=[REDIRECT_URI, "https://app.example.com/other"])
    assert_error_page(authorize(person(api), client, redirect_uri=None))
    assert is_consent_redirect(authorize(person(api), client))


def test_loopback_redirect_uri_matches_on_any_port(api, aws_clients):
    client = register(api, redirect_uris=["http://127.0.0.1:5555/cb"])
    bob = person(api)
    done = approve(bob, authorize(bob, client, redirect_uri="http://127.0.0.1:61234/cb"))
    assert location(done).startswith("http://127.0.0.1:61234/cb?code=")
    (item,) = code_items(aws_clients)
    assert item["redirect_uri"] == {"S": "http://127.0.0.1:61234/cb"}


@pytest.mark.parametrize("redirect_uri", [
    "https://127.0.0.1:61234/cb",
    "http://localhost:61234/cb",
    "http://[::1]:61234/cb",
    "http://127.0.0.1:61234/cb/x",
    "http://127.0.0.1:61234/cb?x=1",
    "http://127.0.0.2:5555/cb",
    "http://user@127.0.0.1:5555/cb",
])
def test_loopback_differs_only_in_the_port(api, redirect_uri):
    client = register(api, redirect_uris=["http://127.0.0.1:5555/cb"])
    assert_error_page(authorize(person(api), client, redirect_uri=redirect_uri))


def test_private_use_scheme_is_matched_exactly(api):
    cursor = "cursor://anysphere.cursor-mcp/oauth/callback"
    client = register(api, redirect_uris=[cursor])
    bob = person(api)
    assert_error_page(authorize(bob, client, redirect_uri=cursor + "2"))
    assert location(approve(bob, authorize(bob, client))).startswith(cursor + "?code=")


# From here errors go back to the client, with state and iss ----------------------------------

def test_unsupported_response_type(api):
    client = register(api)
    error = error_of(authorize(person(api), client, response_type="token"))
    assert error["error"] == "unsupported_response_type"
    assert error["state"] == "state-123"
    assert error["iss"] == settings().issuer


def test_missing_response_type_is_invalid_request(api):
    client = register(api)
    assert error_of(authorize(person(api), client, response_type=None))["error"] == \
        "invalid_request"


@pytest.mark.parametrize("name", ["state", "scope", "response_type", "code_challenge"])
def test_repeated_parameter_is_invalid_request(api, name):
    client = register(api)
    params = request_params(client)
    query = urlencode(params) + "&" + urlencode({name: params[name]})
    error = error_of(authorize_raw(person(api), query))
    assert error["error"] == "invalid_request"
    assert error["iss"] == settings().issuer


def test_repeated_resource_is_allowed(api, aws_clients):
    client = register(api)
    bob = person(api)
    query = urlencode(request_params(client)) + "&" + urlencode(
        [("resource", RESOURCE), ("resource", "https://other.example.com")])
    approve(bob, authorize_raw(bob, query))
    (item,) = code_items(aws_clients)
    assert item["resources"] == {"L": [{"S": RESOURCE}, {"S": "https://other.example.com"}]}


def test_public_client_must_send_pkce(api):
    client = register(api, client_type="public")
    error = error_of(authorize(person(api), client, code_challenge=None,
                               code_challenge_method=None))
    assert error["error"] == "invalid_request"
    assert "PKCE" in error["error_description"]


def test_confidential_client_without_pkce_required_may_leave_it_out(api, aws_clients):
    client = register(api, pkce_required=False)
    bob = person(api)
    approve(bob, authorize(bob, client, code_challenge=None, code_challenge_method=None))
    (item,) = code_items(aws_clients)
    assert "code_challenge" not in item


@pytest.mark.parametrize("params", [
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},  # RFC 7636 would read it as plain
    {"code_challenge_method": "s256"},
    {"code_challenge": CHALLENGE[:42]},
    {"code_challenge": CHALLENGE + "A"},
    {"code_challenge": CHALLENGE[:42] + "="},
    {"code_challenge": CHALLENGE[:42] + "+"},
    {"code_challenge": None},  # a method without a challenge
])
def test_pkce_other_than_s256_is_invalid_request(api, params):
    client = register(api, pkce_required=False)
    error = error_of(authorize(person(api), client, **params))
    assert error["error"] == "invalid_request"
    assert error["state"] == "state-123"


def test_scope_is_split_on_runs_of_spaces_without_repeats(api, aws_clients):
    client = register(api)
    bob = person(api)
    reply = authorize(bob, client, scope="  mcp:read   mcp:write  mcp:read ")
    page = bob.get(consent_path(reply))
    assert page.body.count("<li><code>mcp:read</code></li>") == 1
    assert "<li><code>mcp:write</code></li>" in page.body
    approve(bob, reply)
    (item,) = code_items(aws_clients)
    assert item["scope"] == {"S": "mcp:read mcp:write"}


def test_unknown_scope_is_invalid_scope(api, monkeypatch):
    monkeypatch.setenv("SCOPES_SUPPORTED", "mcp:read mcp:write")
    config.settings.cache_clear()
    client = register(api)
    bob = person(api)
    error = error_of(authorize(bob, client, scope="mcp:read admin", state=ODD_STATE))
    assert error["error"] == "invalid_scope"
    assert error["state"] == ODD_STATE
    assert is_consent_redirect(authorize(bob, client, scope="mcp:write mcp:read"))


def test_malformed_scope_is_invalid_scope(api):
    client = register(api)
    error = error_of(authorize(person(api), client, scope='mcp:read "quoted"'))
    assert error["error"] == "invalid_scope"


@pytest.mark.parametrize("resource", [
    "/mcp", "mcp.example.com/mcp", "https://mcp.example.com/mcp#part", "https://mcp example",
])
def test_invalid_resource_is_invalid_target(api, resource):
    client = register(api)
    error = error_of(authorize(person(api), client, resource=resource))
    assert error["error"] == "invalid_target"
    assert error["state"] == "state-123" and error["iss"] == settings().issuer


def test_trailing_slash_on_an_origin_is_the_same_resource(api, aws_clients):
    client = register(api)
    bob = person(api)
    remembered(client, bob, resource="https://mcp.example.com")
    reply = authorize(bob, client, resource="https://mcp.example.com/")
    assert code_of(reply)  # the same consent: no page
    items = code_items(aws_clients)
    assert {i["resources"]["L"][0]["S"] for i in items} == {"https://mcp.example.com"}


def test_unknown_parameters_are_ignored(api):
    client = register(api)
    assert is_consent_redirect(authorize(person(api), client, nonce="n", tenant="x"))


def test_empty_parameter_counts_as_left_out(api):
    client = register(api)
    assert is_consent_redirect(authorize(person(api), client, redirect_uri=""))


@pytest.mark.parametrize("params", [
    {"response_type": "token"},
    {"code_challenge_method": "plain"},
    {"resource": "/relative"},
    {"prompt": "none login"},
])
def test_every_error_redirect_carries_exact_state_and_iss(api, params):
    client = register(api)
    error = error_of(authorize(person(api), client, state=ODD_STATE, **params))
    assert error["state"] == ODD_STATE
    assert error["iss"] == settings().issuer


def test_success_redirect_carries_exact_state_and_iss(api):
    client = register(api)
    bob = person(api)
    done = approve(bob, authorize(bob, client, state=ODD_STATE))
    answer = query_of(location(done))
    assert answer["state"] == ODD_STATE and answer["iss"] == settings().issuer


def test_without_state_none_is_sent_back(api):
    client = register(api)
    bob = person(api)
    assert "state" not in query_of(location(approve(bob, authorize(bob, client, state=None))))
    assert "state" not in error_of(authorize(bob, client, state=None, response_type="x"))


def test_registered_query_is_kept(api):
    client = register(api, redirect_uris=["https://app.example.com/cb?tenant=a%20b"])
    bob = person(api)
    target = location(approve(bob, authorize(bob, client)))
    assert target.startswith("https://app.example.com/cb?tenant=a%20b&code=oac_")


# Sign-in ------------------------------------------------------------------------------------

def test_without_a_session_the_person_signs_in_and_comes_back(front, api, provider):
    client = register(api)
    reply = authorize(front, client, state=ODD_STATE, resource=RESOURCE)
    raw_query = urlencode(request_params(client, state=ODD_STATE, resource=RESOURCE))
    assert return_to_of(reply) == f"/oauth/v1/authorize?{raw_query}"
    landed = sign_in(front, reply)
    assert location(landed) == return_to_of(reply)
    back = front.with_cookies(landed.cookies).get(location(landed))
    assert is_consent_redirect(back)


def test_a_long_authorization_request_survives_sign_in(front, api, provider):
    client = register(api)
    # About 6 KB: the sign-in URL carries it percent-encoded once more, and API Gateway
    # takes at most 10,240 bytes of request line and headers.
    state = "é," * 300 + "x" * 2_000
    resources = [f"https://mcp{i}.example.com/mcp/{'p' * 100}" for i in range(8)]
    query = urlencode(request_params(client, state=state)) + "&" + urlencode(
        [("resource", r) for r in resources])
    assert len(query) > 6_000
    reply = authorize_raw(front, query)
    landed = sign_in(front, reply)
    assert location(landed) == f"/oauth/v1/authorize?{query}"
    back = front.with_cookies(landed.cookies).get(location(landed))
    assert is_consent_redirect(back)


def test_prompt_none_without_a_session_is_login_required(front, api):
    client = register(api)
    error = error_of(authorize(front, client, prompt="none", state=ODD_STATE))
    assert error["error"] == "login_required"
    assert error["state"] == ODD_STATE and error["iss"] == settings().issuer


def test_prompt_login_signs_in_again_once(front, api, provider):
    client = register(api)
    bob = person(api)
    reply = authorize(bob, client, prompt="login consent")
    return_to = return_to_of(reply)
    assert query_of(return_to)["prompt"] == "consent"
    landed = sign_in(front, reply, sub="carol")
    assert location(landed) == return_to
    back = front.with_cookies(landed.cookies).get(return_to)
    assert is_consent_redirect(back)


# Consent remembered -------------------------------------------------------------------------

def test_remembered_consent_issues_the_code_at_once(api, aws_clients):
    client = register(api)
    bob = person(api)
    remembered(client, bob, scope="mcp:read mcp:write", resource=RESOURCE)
    reply = authorize(bob, client, scope="mcp:write mcp:read", resource=RESOURCE)
    assert reply.status == 302
    code = code_of(reply)
    assert query_of(location(reply))["iss"] == settings().issuer
    assert f"code#{digest(code)}" in {i["pk"]["S"] for i in code_items(aws_clients)}


@pytest.mark.parametrize("changed", [
    {"scope": "mcp:read mcp:write"}, {"resource": RESOURCE}, {"scope": None},
])
def test_consent_is_remembered_per_scope_and_resource(api, changed):
    client = register(api)
    bob = person(api)
    remembered(client, bob)
    assert is_consent_redirect(authorize(bob, client, **changed))


def test_consent_is_remembered_per_person_and_client(api):
    client, other = register(api), register(api)
    bob = person(api)
    remembered(client, bob)
    assert is_consent_redirect(authorize(person(api, "carol"), client))
    assert is_consent_redirect(authorize(bob, other))


def test_prompt_consent_asks_again(api):
    client = register(api)
    bob = person(api)
    remembered(client, bob)
    assert is_consent_redirect(authorize(bob, client, prompt="consent"))


def test_prompt_none_without_consent_is_consent_required(api):
    client = register(api)
    bob = person(api)
    error = error_of(authorize(bob, client, prompt="none"))
    assert error["error"] == "consent_required" and error["iss"] == settings().issuer
    remembered(client, bob)
    assert code_of(authorize(bob, client, prompt="none"))


def test_remembered_consent_costs_two_aws_calls(api, aws_calls):
    client = register(api)
    bob = person(api)
    remembered(client, bob, resource=RESOURCE)
    aws_calls.clear()
    code_of(authorize(bob, client, resource=RESOURCE))
    assert aws_calls == ["BatchGetItem", "PutItem"]


def test_expired_consent_is_asked_again(api, aws_clients):
    client = register(api)
    bob = person(api)
    remembered(client, bob)
    (consent,) = [i for i in aws_clients.dynamodb.scan(TableName=settings().tokens_table)[
        "Items"] if i["pk"]["S"].startswith("consent#")]
    aws_clients.dynamodb.update_item(
        TableName=settings().tokens_table, Key={"pk": consent["pk"]},
        UpdateExpression="SET expires_at = :past", ExpressionAttributeValues={":past": {"N": "1"}})
    assert is_consent_redirect(authorize(bob, client))


# Failures -----------------------------------------------------------------------------------

def test_throttled_code_write_is_temporarily_unavailable(api, aws_clients):
    client = register(api)
    bob = person(api)
    remembered(client, bob)
    fail_dynamodb("PutItem")
    error = error_of(authorize(bob, client, state=ODD_STATE))
    assert error["error"] == "temporarily_unavailable"
    assert error["state"] == ODD_STATE and error["iss"] == settings().issuer
    assert len(code_items(aws_clients)) == 1  # the first approval's code only


def test_throttled_pending_write_is_temporarily_unavailable(api, aws_clients):
    client = register(api)
    fail_dynamodb("PutItem", "ProvisionedThroughputExceededException")
    error = error_of(authorize(person(api), client))
    assert error["error"] == "temporarily_unavailable"
    assert pending_items(aws_clients) == []


def test_throttled_client_read_is_a_503_page(api, aws_clients):
    client = register(api)
    fail_dynamodb("BatchGetItem")
    reply = authorize(person(api), client)
    assert_error_page(reply, 503)
    assert code_items(aws_clients) == [] and pending_items(aws_clients) == []


def test_unexpected_failure_is_a_500_page_without_details(api):
    client = register(api)
    bob = person(api)
    fail_dynamodb("BatchGetItem", "ValidationException")
    reply = authorize(bob, client)
    assert_error_page(reply, 500)
    assert "ValidationException" not in reply.body and "Traceback" not in reply.body


def test_error_page_does_not_echo_the_client_id(api):
    reply = authorize(person(api), {"client_id": "<script>", "redirect_uris": [REDIRECT_URI]})
    assert_error_page(reply)
    assert "<script>" not in reply.body
