"""The token endpoint (SPEC.md §3; RFC 6749 §4.1.3, §5, §6; RFC 7636; RFC 8707), through the
gateway, with codes written as the authorize function writes them."""

import base64
import logging

import pytest

from oauth_server import grants
from oauth_server.config import settings
from oauth_server.tokens import TokenStore
from tests.functional.flows import s256
from tests.functional.token_flows import (
    active, CHALLENGE, OTHER_RESOURCE, RESOURCE, TOKEN, VERIFIER, OAuthClient, assert_error,
    assert_no_store, basic, failing, frozen_clock, oauth_client, percent_encode_all,
    stored_code, token_pks, write_code,
)


def messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records]


# Authorization code: success ----------------------------------------------------------------

def test_exchange_answers_bearer_tokens_without_caching(client, aws_clients):
    reply = client.exchange(write_code(aws_clients, client.registered))
    assert reply.status == 200, reply.body
    body = reply.json
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3_600
    assert body["scope"] == "mcp:read mcp:write"
    assert body["access_token"].startswith(grants.ACCESS_TOKEN_PREFIX)
    assert body["refresh_token"].startswith(grants.REFRESH_TOKEN_PREFIX)
    assert len(body["access_token"]) == len(body["refresh_token"]) == 4 + 43
    assert_no_store(reply)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_exchange_marks_the_code_used_and_stores_only_hashes(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    body = client.exchange(code).json
    stored = stored_code(aws_clients, code)
    assert "used_at" in stored and "family_id" in stored
    pks = token_pks(aws_clients)
    assert pks == {f"family#{stored['family_id']['S']}",
                   f"access#{grants.digest(body['access_token'])}",
                   f"refresh#{grants.digest(body['refresh_token'])}"}
    everything = str(aws_clients.dynamodb.scan(TableName=settings().tokens_table)["Items"])
    assert body["access_token"] not in everything and body["refresh_token"] not in everything


def test_lifetimes_come_from_the_client(api, aws_clients, resource_server):
    client = oauth_client(api, access_token_expiry=7_200, refresh_token_expiry=259_200)
    body = client.tokens(aws_clients)
    assert body["expires_in"] == 7_200
    refresh = resource_server.introspect(body["refresh_token"]).json
    assert refresh["exp"] - refresh["iat"] == 259_200
    access = resource_server.introspect(body["access_token"]).json
    assert access["exp"] - access["iat"] == 7_200


def test_empty_scope_is_still_sent(client, aws_clients):
    assert client.tokens(aws_clients, scope="")["scope"] == ""


def test_client_secret_post_works(api, aws_clients):
    client = oauth_client(api, "client_secret_post")
    assert client.exchange(write_code(aws_clients, client.registered)).status == 200


def test_public_client_exchanges_with_client_id_only(api, aws_clients):
    client = oauth_client(api, "none")
    reply = client.exchange(write_code(aws_clients, client.registered))
    assert reply.status == 200, reply.body
    assert reply.json["refresh_token"].startswith(grants.REFRESH_TOKEN_PREFIX)


def test_public_client_may_send_an_empty_secret(api, aws_clients):
    client = oauth_client(api, "none")
    reply = client.exchange(write_code(aws_clients, client.registered), client_secret="")
    assert reply.status == 200, reply.body


def test_basic_credentials_are_url_decoded(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    header = basic(client.client_id, client.secret, encode=percent_encode_all)
    assert "%" in base64.b64decode(header.split()[1]).decode()
    reply = client.exchange(code, headers={"Authorization": header})
    assert reply.status == 200, reply.body


def test_body_client_id_repeating_the_basic_one_is_fine(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.exchange(code, client_id=client.client_id)
    assert reply.status == 200, reply.body


def test_trailing_slash_path_works(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.post(TOKEN + "/", {
        "grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER,
        "redirect_uri": client.registered["redirect_uris"][0],
    })
    assert reply.status == 200, reply.body


# Client authentication ----------------------------------------------------------------------

def test_confidential_client_without_secret_is_401(client, aws_clients):
    without_secret = OAuthClient(client.browser, client.registered, "none")
    reply = without_secret.exchange(write_code(aws_clients, client.registered))
    assert_error(reply, 401, "invalid_client")
    assert "WWW-Authenticate" not in reply.headers


def test_wrong_secret_over_basic_is_401_with_a_basic_challenge(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.exchange(code, headers={"Authorization": basic(client.client_id, "wrong")})
    assert_error(reply, 401, "invalid_client")
    assert reply.headers["WWW-Authenticate"].startswith("Basic ")
    assert client.exchange(code).status == 200  # nothing was spent


def test_wrong_secret_in_the_body_is_401_without_a_challenge(api, aws_clients):
    client = oauth_client(api, "client_secret_post")
    client.registered = {**client.registered, "client_secret": "wrong"}
    reply = client.exchange(write_code(aws_clients, client.registered))
    assert_error(reply, 401, "invalid_client")
    assert "WWW-Authenticate" not in reply.headers


def test_unknown_client_is_401(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.post(TOKEN, {"grant_type": "authorization_code", "code": code},
                        headers={"Authorization": basic("nosuchclient", "secret")})
    assert_error(reply, 401, "invalid_client")


@pytest.mark.parametrize("client_id", ["", "x" * 2_000, "bad id/../"])
def test_implausible_client_ids_are_401(client, aws_clients, client_id):
    reply = client.post(TOKEN, {"grant_type": "authorization_code", "code": "oac_x",
                                "client_id": client_id}, credentials=False)
    assert_error(reply, 401, "invalid_client")


def test_public_client_sending_a_secret_is_invalid_client(api, aws_clients):
    client = oauth_client(api, "none")
    reply = client.post(TOKEN, {"grant_type": "authorization_code",
                                "code": write_code(aws_clients, client.registered),
                                "code_verifier": VERIFIER},
                        headers={"Authorization": basic(client.client_id, "made-up")})
    assert_error(reply, 401, "invalid_client")


def test_basic_and_body_secret_together_is_invalid_request(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.exchange(code, client_secret=client.secret)
    assert_error(reply, 400, "invalid_request")


def test_body_client_id_differing_from_basic_is_invalid_request(api, client, aws_clients):
    other = oauth_client(api, name="Other")
    reply = client.exchange(write_code(aws_clients, client.registered),
                            client_id=other.client_id)
    assert_error(reply, 400, "invalid_request")


@pytest.mark.parametrize("header", ["Basic !!!notbase64", "Basic " + base64.b64encode(
    b"no-colon").decode(), "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_malformed_basic_credentials_are_401(client, header):
    reply = client.post(TOKEN, {"grant_type": "authorization_code", "code": "oac_x"},
                        headers={"Authorization": header})
    assert_error(reply, 401, "invalid_client")
    assert reply.headers["WWW-Authenticate"].startswith("Basic ")


def test_rotated_secret_is_refused_at_once(api, client, aws_clients):
    assert client.exchange(write_code(aws_clients, client.registered)).status == 200  # cached
    rotated = api.post(f"/api/v1/oauth-clients/{client.client_id}/rotate-secret")
    assert rotated.status == 200
    reply = client.exchange(write_code(aws_clients, client.registered))
    assert_error(reply, 401, "invalid_client")
    client.registered = {**client.registered, "client_secret": rotated.json["client_secret"]}
    assert client.exchange(write_code(aws_clients, client.registered)).status == 200


def test_deleted_client_can_no_longer_refresh(api, client, aws_clients):
    body = client.tokens(aws_clients)
    assert api.delete(f"/api/v1/oauth-clients/{client.client_id}").status == 204
    assert_error(client.refresh(body["refresh_token"]), 401, "invalid_client")


# Request format -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["grant_type", "code", "code_verifier", "redirect_uri"])
def test_a_parameter_sent_twice_is_invalid_request(client, aws_clients, name):
    code = write_code(aws_clients, client.registered)
    params = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER,
              "redirect_uri": client.registered["redirect_uris"][0]}
    reply = client.post(TOKEN, [*params.items(), (name, params[name])])
    assert_error(reply, 400, "invalid_request")
    assert name in reply.json["error_description"]
    assert "used_at" not in stored_code(aws_clients, code)


def test_client_id_sent_twice_is_invalid_request(api, aws_clients):
    client = oauth_client(api, "none")
    code = write_code(aws_clients, client.registered)
    reply = client.post(TOKEN, [("grant_type", "authorization_code"), ("code", code),
                                ("client_id", client.client_id)])
    assert_error(reply, 400, "invalid_request")


def test_json_body_is_invalid_request(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reply = client.browser.post(TOKEN, {"grant_type": "authorization_code", "code": code},
                                headers={"Authorization": basic(client.client_id,
                                                                client.secret)})
    assert_error(reply, 400, "invalid_request")


def test_oversized_body_is_413(client):
    reply = client.post(TOKEN, {"grant_type": "authorization_code", "code": "x" * 70_000})
    assert_error(reply, 413, "invalid_request")


def test_missing_grant_type_is_invalid_request(client, aws_clients):
    reply = client.post(TOKEN, {"code": write_code(aws_clients, client.registered)})
    assert_error(reply, 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["client_credentials", "password", "implicit"])
def test_unsupported_grant_type(client, grant_type):
    reply = client.post(TOKEN, {"grant_type": grant_type})
    assert_error(reply, 400, "unsupported_grant_type")


def test_missing_code_is_invalid_request(client):
    reply = client.post(TOKEN, {"grant_type": "authorization_code"})
    assert_error(reply, 400, "invalid_request")


def test_unknown_code_is_invalid_grant(client):
    reply = client.exchange(grants.new_secret_value(grants.CODE_PREFIX))
    assert_error(reply, 400, "invalid_grant")


def test_wrong_method_is_405_with_allow(client):
    reply = client.browser.get(TOKEN)
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST, OPTIONS"
    assert reply.json["error"] == "method_not_allowed"


def test_unexpected_failure_is_a_json_500_without_details(client, aws_clients, monkeypatch,
                                                         caplog):
    def explode(*_args, **_kwargs):
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(TokenStore, "code_and_client", explode)
    reply = client.exchange(write_code(aws_clients, client.registered))
    assert_error(reply, 500, "server_error")
    assert "boom" not in reply.body and "Traceback" not in reply.body
    assert "request.failed" in messages(caplog)


# PKCE (RFC 7636) ----------------------------------------------------------------------------

def test_missing_verifier_is_invalid_grant_and_spends_nothing(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    assert_error(client.exchange(code, code_verifier=None), 400, "invalid_grant")
    assert "used_at" not in stored_code(aws_clients, code)
    assert client.exchange(code).status == 200


def test_wrong_verifier_is_invalid_grant(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    assert_error(client.exchange(code, code_verifier="w" * 43), 400, "invalid_grant")


@pytest.mark.parametrize("verifier", ["v" * 42, "v" * 129, "v" * 42 + "+", "v" * 42 + " ",
                                      "v" * 43 + "\n", "v" * 42 + "é"])
def test_malformed_verifier_is_invalid_request(client, aws_clients, verifier):
    code = write_code(aws_clients, client.registered, code_challenge=s256(verifier))
    assert_error(client.exchange(code, code_verifier=verifier), 400, "invalid_request")


def test_longest_verifier_is_accepted(client, aws_clients):
    verifier = "~._-" * 32
    code = write_code(aws_clients, client.registered, code_challenge=s256(verifier))
    assert client.exchange(code, code_verifier=verifier).status == 200


def test_verifier_for_a_code_without_challenge_is_invalid_grant(api, aws_clients):
    client = oauth_client(api, pkce_required=False)
    code = write_code(aws_clients, client.registered, code_challenge=None)
    assert_error(client.exchange(code), 400, "invalid_grant")
    assert client.exchange(code, code_verifier=None).status == 200


def test_plain_comparison_is_never_made(api, aws_clients):
    """`plain` would compare the verifier with the challenge itself (RFC 7636 §4.6)."""
    client = oauth_client(api)
    code = write_code(aws_clients, client.registered)
    assert_error(client.exchange(code, code_verifier=CHALLENGE), 400, "invalid_grant")


def test_client_requiring_pkce_cannot_redeem_a_code_without_challenge(client, aws_clients):
    code = write_code(aws_clients, client.registered, code_challenge=None)
    assert_error(client.exchange(code, code_verifier=None), 400, "invalid_grant")


# Redirect URI (RFC 6749 §4.1.3) -------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [None, "https://app.example.com/callback/",
                                          "https://app.example.com/other"])
def test_redirect_uri_must_repeat_the_authorization_requests(client, aws_clients,
                                                             redirect_uri):
    code = write_code(aws_clients, client.registered)
    reply = client.exchange(code, redirect_uri=redirect_uri)
    assert_error(reply, 400, "invalid_grant")
    assert client.exchange(code).status == 200


def test_redirect_uri_may_be_left_out_when_it_was_at_authorization(client, aws_clients):
    code = write_code(aws_clients, client.registered, redirect_uri_sent=False)
    assert client.exchange(code, redirect_uri=None).status == 200


def test_redirect_uri_sent_only_at_the_token_endpoint_must_still_match(client, aws_clients):
    code = write_code(aws_clients, client.registered, redirect_uri_sent=False)
    reply = client.exchange(code, redirect_uri="https://evil.example/cb")
    assert_error(reply, 400, "invalid_grant")


# Expiry, replay and other clients' codes ----------------------------------------------------

def test_code_expires_after_ten_minutes(client, aws_clients, monkeypatch, aws_calls):
    clock = frozen_clock(monkeypatch)
    late = write_code(aws_clients, client.registered)
    in_time = write_code(aws_clients, client.registered)
    clock.advance(grants.CODE_LIFETIME_SECONDS - 1)
    assert client.exchange(in_time).status == 200
    clock.advance(1)
    aws_calls.clear()
    assert_error(client.exchange(late), 400, "invalid_grant")
    assert aws_calls == ["BatchGetItem"]  # refused on reading, before any write
    assert "used_at" not in stored_code(aws_clients, late)


def test_replayed_code_revokes_what_it_issued(client, aws_clients, resource_server, caplog,
                                             aws_calls):
    code = write_code(aws_clients, client.registered)
    first = client.exchange(code).json
    assert active(resource_server, first["access_token"])

    aws_calls.clear()
    replay = client.exchange(code)
    assert_error(replay, 400, "invalid_grant")
    assert aws_calls == ["BatchGetItem", "UpdateItem"]  # one write: the family's revocation
    assert "code.replayed" in messages(caplog)
    assert not active(resource_server, first["access_token"])
    assert not active(resource_server, first["refresh_token"])
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")


def test_replayed_code_after_a_refresh_revokes_the_rotated_tokens(client, aws_clients,
                                                                  resource_server):
    code = write_code(aws_clients, client.registered)
    first = client.exchange(code).json
    rotated = client.refresh(first["refresh_token"]).json
    assert_error(client.exchange(code), 400, "invalid_grant")
    assert not active(resource_server, rotated["access_token"])
    assert_error(client.refresh(rotated["refresh_token"]), 400, "invalid_grant")


@pytest.mark.parametrize("spoil", ["verifier", "secret"])
def test_replay_failing_pkce_or_client_auth_revokes_nothing(client, aws_clients,
                                                            resource_server, spoil):
    code = write_code(aws_clients, client.registered)
    first = client.exchange(code).json
    if spoil == "verifier":
        assert_error(client.exchange(code, code_verifier="x" * 43), 400, "invalid_grant")
    else:
        reply = client.exchange(code, headers={"Authorization": basic(client.client_id,
                                                                      "guess")})
        assert_error(reply, 401, "invalid_client")
    assert active(resource_server, first["access_token"])
    assert client.refresh(first["refresh_token"]).status == 200


def test_code_of_another_client_is_invalid_grant_and_revokes_nothing(api, client, aws_clients,
                                                                     resource_server):
    code = write_code(aws_clients, client.registered)
    first = client.exchange(code).json
    thief = oauth_client(api, name="Thief")
    assert_error(thief.exchange(code), 400, "invalid_grant")
    assert active(resource_server, first["access_token"])
    assert client.refresh(first["refresh_token"]).status == 200


def test_unredeemed_code_presented_by_another_client_stays_redeemable(api, client,
                                                                     aws_clients):
    code = write_code(aws_clients, client.registered)
    thief = oauth_client(api, name="Thief")
    assert_error(thief.exchange(code), 400, "invalid_grant")
    assert client.exchange(code).status == 200


def test_concurrent_redemption_that_loses_revokes_the_winners_tokens(client, aws_clients,
                                                                     resource_server):
    """Both requests read the code unused; only one transaction can mark it used."""
    from oauth_server import aws

    code = write_code(aws_clients, client.registered)
    winner = client.exchange(code).json

    def as_if_unused(parsed, **_):  # the loser read the code before the winner wrote it
        for item in parsed.get("Responses", {}).get(settings().codes_table, []):
            item.pop("used_at", None)
            item.pop("family_id", None)

    events = aws.dynamodb().meta.events
    events.register("after-call.dynamodb.BatchGetItem", as_if_unused)
    try:
        loser = client.exchange(code)
    finally:
        events.unregister("after-call.dynamodb.BatchGetItem", as_if_unused)
    assert_error(loser, 400, "invalid_grant")
    assert not active(resource_server, winner["access_token"])


# Resource indicators (RFC 8707) -------------------------------------------------------------

def test_resource_narrows_the_access_tokens_audience(client, aws_clients, resource_server):
    code = write_code(aws_clients, client.registered)
    body = client.exchange(code, resource=OTHER_RESOURCE + "/").json  # the same resource
    assert resource_server.introspect(body["access_token"]).json["aud"] == [OTHER_RESOURCE]
    refreshed = client.refresh(body["refresh_token"], resource=RESOURCE).json
    assert resource_server.introspect(refreshed["access_token"]).json["aud"] == [RESOURCE]


def test_without_resource_the_audience_is_everything_granted(client, aws_clients,
                                                             resource_server):
    body = client.tokens(aws_clients)
    aud = resource_server.introspect(body["access_token"]).json["aud"]
    assert aud == [RESOURCE, OTHER_RESOURCE]


@pytest.mark.parametrize("resource", ["https://elsewhere.example", "not a uri", "https://a#f"])
def test_resource_not_granted_is_invalid_target(client, aws_clients, resource):
    code = write_code(aws_clients, client.registered)
    assert_error(client.exchange(code, resource=resource), 400, "invalid_target")
    assert "used_at" not in stored_code(aws_clients, code)


# Refresh (RFC 6749 §6) ----------------------------------------------------------------------

def test_refresh_rotates_the_pair(client, aws_clients, resource_server):
    first = client.tokens(aws_clients)
    reply = client.refresh(first["refresh_token"])
    assert reply.status == 200, reply.body
    second = reply.json
    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token",
                           "scope"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "mcp:read mcp:write"
    assert_no_store(reply)
    assert active(resource_server, second["access_token"])
    assert client.refresh(second["refresh_token"]).status == 200


def test_rotation_keeps_the_familys_expiry(client, aws_clients, resource_server, monkeypatch):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    expiry = resource_server.introspect(first["refresh_token"]).json["exp"]
    clock.advance(86_400)
    second = client.refresh(first["refresh_token"]).json
    assert resource_server.introspect(second["refresh_token"]).json["exp"] == expiry


def test_access_token_never_outlives_its_family(client, aws_clients, monkeypatch):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    clock.advance(2_592_000 - 600)
    assert client.refresh(first["refresh_token"]).json["expires_in"] == 600


def test_expired_refresh_token_is_invalid_grant(client, aws_clients, monkeypatch):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    clock.advance(2_592_000)
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")


def test_reuse_inside_the_grace_period_rotates_again(client, aws_clients, monkeypatch,
                                                     resource_server):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    second = client.refresh(first["refresh_token"]).json
    clock.advance(60)
    again = client.refresh(first["refresh_token"])
    assert again.status == 200, again.body
    third = again.json
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    assert active(resource_server, second["access_token"])
    assert client.refresh(third["refresh_token"]).status == 200


def test_grace_period_counts_from_the_first_replacement(client, aws_clients, monkeypatch):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    assert client.refresh(first["refresh_token"]).status == 200
    clock.advance(100)
    assert client.refresh(first["refresh_token"]).status == 200  # rotates again
    clock.advance(30)  # 130 s after the first replacement, 30 s after the second
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")


def test_reuse_after_the_grace_period_revokes_the_family(client, aws_clients, monkeypatch,
                                                         resource_server, caplog):
    clock = frozen_clock(monkeypatch)
    first = client.tokens(aws_clients)
    second = client.refresh(first["refresh_token"]).json
    clock.advance(120)
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert "refresh.reuse_detected" in messages(caplog)
    assert not active(resource_server, second["access_token"])
    assert_error(client.refresh(second["refresh_token"]), 400, "invalid_grant")


def test_grace_period_follows_the_setting(client, aws_clients, monkeypatch):
    import token_handler
    from oauth_server.config import settings

    monkeypatch.setenv("REFRESH_REUSE_GRACE_SECONDS", "0")
    settings.cache_clear()
    token_handler.endpoints.cache_clear()
    first = client.tokens(aws_clients)
    second = client.refresh(first["refresh_token"]).json
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert_error(client.refresh(second["refresh_token"]), 400, "invalid_grant")


def test_refresh_may_ask_for_fewer_scopes(client, aws_clients, resource_server):
    first = client.tokens(aws_clients)
    narrowed = client.refresh(first["refresh_token"], scope="mcp:write").json
    assert narrowed["scope"] == "mcp:write"
    assert resource_server.introspect(narrowed["access_token"]).json["scope"] == "mcp:write"
    # RFC 6749 §6: the new refresh token still carries the whole grant.
    assert client.refresh(narrowed["refresh_token"]).json["scope"] == "mcp:read mcp:write"


@pytest.mark.parametrize("scope", ["mcp:read admin", "admin", "mcp:read \"quoted\""])
def test_refresh_asking_for_more_scope_is_invalid_scope(client, aws_clients, scope):
    first = client.tokens(aws_clients)
    assert_error(client.refresh(first["refresh_token"], scope=scope), 400, "invalid_scope")
    assert client.refresh(first["refresh_token"]).status == 200  # nothing was spent


def test_refresh_token_of_another_client_is_invalid_grant(api, client, aws_clients):
    first = client.tokens(aws_clients)
    other = oauth_client(api, name="Other")
    assert_error(other.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert client.refresh(first["refresh_token"]).status == 200


@pytest.mark.parametrize("which", ["access_token", "made_up"])
def test_refresh_with_something_else_is_invalid_grant(client, aws_clients, which):
    first = client.tokens(aws_clients)
    value = first.get(which, "ort_" + "x" * 43)
    assert_error(client.refresh(value), 400, "invalid_grant")


def test_refresh_loses_to_a_revocation_between_read_and_write(client, aws_clients,
                                                              resource_server):
    """The transaction's condition on the family refuses what the read could not see."""
    from oauth_server import aws

    first = client.tokens(aws_clients)
    family = resource_server.introspect(first["access_token"])  # the family exists
    assert family.json["active"]
    before = token_pks(aws_clients)

    def revoke_meanwhile(params, **_):
        family_key = params["TransactItems"][0]["ConditionCheck"]["Key"]
        aws_clients.dynamodb.update_item(
            TableName=settings().tokens_table, Key=family_key,
            UpdateExpression="SET revoked_at = :now", ExpressionAttributeValues={
                ":now": {"N": "1"}})

    events = aws.dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", revoke_meanwhile)
    try:
        reply = client.refresh(first["refresh_token"])
    finally:
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", revoke_meanwhile)
    assert_error(reply, 400, "invalid_grant")
    assert token_pks(aws_clients) == before


# AWS failures -------------------------------------------------------------------------------

@pytest.mark.parametrize("operation", ["BatchGetItem", "TransactWriteItems"])
def test_throttled_dynamodb_is_503_and_leaves_the_code_unused(client, aws_clients, operation):
    code = write_code(aws_clients, client.registered)
    with failing(operation):
        reply = client.exchange(code)
    assert_error(reply, 503, "temporarily_unavailable")
    assert reply.headers["Retry-After"] == "1"
    assert "used_at" not in stored_code(aws_clients, code)
    assert token_pks(aws_clients) == set()
    assert client.exchange(code).status == 200


def test_transaction_cancelled_by_throttling_is_503(client, aws_clients):
    code = write_code(aws_clients, client.registered)
    reasons = ["None", "ThrottlingError", "None", "None"]
    with failing("TransactWriteItems", "TransactionCanceledException", reasons):
        reply = client.exchange(code)
    assert_error(reply, 503, "temporarily_unavailable")
    assert client.exchange(code).status == 200


def test_throttled_secrets_manager_is_503(client, aws_clients):
    from oauth_server import aws

    code = write_code(aws_clients, client.registered)
    with failing("GetSecretValue", service=aws.secretsmanager):
        reply = client.exchange(code)
    assert_error(reply, 503, "temporarily_unavailable")
    assert client.exchange(code).status == 200


def test_throttled_refresh_is_503_and_the_token_still_works(client, aws_clients):
    first = client.tokens(aws_clients)
    with failing("TransactWriteItems"):
        assert_error(client.refresh(first["refresh_token"]), 503, "temporarily_unavailable")
    assert client.refresh(first["refresh_token"]).status == 200


# Budgets (DESIGN.md) ------------------------------------------------------------------------

def test_exchange_costs_two_aws_calls_once_warm(client, aws_clients, aws_calls):
    client.tokens(aws_clients)  # warms the secret's cache
    code = write_code(aws_clients, client.registered)
    aws_calls.clear()
    assert client.exchange(code).status == 200
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]


def test_refresh_costs_two_aws_calls_once_warm(client, aws_clients, aws_calls):
    first = client.tokens(aws_clients)
    aws_calls.clear()
    assert client.refresh(first["refresh_token"]).status == 200
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]


def test_reads_are_strongly_consistent(client, aws_clients):
    """A client redeeming a code a millisecond after the redirect must find it (DESIGN.md)."""
    from oauth_server import aws

    reads = []
    events = aws.dynamodb().meta.events

    def record(params, **_):
        reads.append(params)

    events.register("before-parameter-build.dynamodb.BatchGetItem", record)
    try:
        body = client.tokens(aws_clients)
        client.refresh(body["refresh_token"])
        client.introspect(body["access_token"])
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", record)
    assert len(reads) == 4
    assert all(table["ConsistentRead"] is True
               for params in reads for table in params["RequestItems"].values())


def test_public_client_exchange_never_calls_secrets_manager(api, aws_clients, aws_calls):
    client = oauth_client(api, "none")
    code = write_code(aws_clients, client.registered)
    aws_calls.clear()
    assert client.exchange(code).status == 200
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]


# CORS (SPEC.md §3) --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [TOKEN, TOKEN + "/", "/oauth/v1/revoke"])
def test_preflight_allows_any_origin(client, path):
    reply = client.browser.request("OPTIONS", path, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, mcp-protocol-version"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    allowed = {h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"]
               .split(",")}
    assert allowed == {"authorization", "content-type", "mcp-protocol-version"}
    assert int(reply.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in reply.headers


def test_errors_carry_cors_and_no_store_too(client):
    reply = client.post(TOKEN, {"grant_type": "password"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert_no_store(reply)


def warnings_logged(caplog) -> list[tuple[str, str | None]]:
    return [(r.getMessage(), r.__dict__.get("client_id")) for r in caplog.records
            if r.levelno >= logging.WARNING]


def test_a_refusal_is_logged_once_under_its_own_name(client, aws_clients, caplog):
    code = write_code(aws_clients, client.registered)
    client.exchange(code)
    caplog.clear()
    client.exchange(code)
    assert warnings_logged(caplog) == [("code.replayed", client.client_id)]
    caplog.clear()
    client.post(TOKEN, {"grant_type": "authorization_code", "code": code},
                headers={"Authorization": basic(client.client_id, "wrong")})
    assert warnings_logged(caplog) == [("client.authentication_failed", client.client_id)]


def test_other_refusals_are_logged_as_the_endpoints(client, aws_clients, caplog):
    client.exchange(grants.new_secret_value(grants.CODE_PREFIX))
    assert warnings_logged(caplog) == [("token.refused", client.client_id)]


def test_log_lines_never_hold_a_token_or_secret(client, aws_clients, caplog):
    caplog.set_level(logging.INFO)
    code = write_code(aws_clients, client.registered)
    body = client.exchange(code).json
    client.refresh(body["refresh_token"])
    client.exchange(code)
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in (code, body["access_token"], body["refresh_token"], client.secret):
        assert secret not in logged
    assert "token.issued" in messages(caplog) and "token.refreshed" in messages(caplog)
