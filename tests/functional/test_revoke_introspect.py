"""Revocation (RFC 7009) and introspection (RFC 7662) through the gateway."""

import pytest

from oauth_server import grants
from oauth_server.config import settings
from tests.functional.token_flows import (
    active, INTROSPECT, OTHER_RESOURCE, RESOURCE, REVOKE, assert_error, assert_no_store, basic,
    frozen_clock, oauth_client, stored_token, token_pks,
)


def tokens_table_items(aws_clients) -> list[dict]:
    return aws_clients.dynamodb.scan(TableName=settings().tokens_table)["Items"]


# Revocation ---------------------------------------------------------------------------------

def test_revoking_a_refresh_token_revokes_its_family(client, aws_clients, resource_server):
    first = client.tokens(aws_clients)
    second = client.refresh(first["refresh_token"]).json
    reply = client.revoke(second["refresh_token"])
    assert reply.status == 200 and reply.body == ""
    assert_no_store(reply)
    for token in (first["access_token"], second["access_token"], second["refresh_token"]):
        assert not active(resource_server, token)
    assert_error(client.refresh(second["refresh_token"]), 400, "invalid_grant")
    assert_error(client.refresh(first["refresh_token"]), 400, "invalid_grant")


def test_revoking_an_access_token_revokes_only_it(client, aws_clients, resource_server):
    body = client.tokens(aws_clients)
    assert client.revoke(body["access_token"]).status == 200
    assert not active(resource_server, body["access_token"])
    assert "revoked_at" in stored_token(aws_clients, grants.access_key(body["access_token"]))
    refreshed = client.refresh(body["refresh_token"])
    assert refreshed.status == 200
    assert active(resource_server, refreshed.json["access_token"])


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "something_else"])
def test_token_type_hint_is_only_a_hint(client, aws_clients, resource_server, hint):
    body = client.tokens(aws_clients)
    assert client.revoke(body["refresh_token"], token_type_hint=hint).status == 200
    assert not active(resource_server, body["access_token"])


def test_another_clients_token_is_left_alone_with_200(api, client, aws_clients,
                                                      resource_server):
    body = client.tokens(aws_clients)
    other = oauth_client(api, name="Other")
    for token in (body["access_token"], body["refresh_token"]):
        assert other.revoke(token).status == 200
    assert active(resource_server, body["access_token"])
    assert client.refresh(body["refresh_token"]).status == 200


@pytest.mark.parametrize("token", ["oat_" + "x" * 43, "ort_" + "x" * 43, "garbage", "é" * 10])
def test_unknown_token_is_200_and_changes_nothing(client, aws_clients, token):
    client.tokens(aws_clients)
    before = tokens_table_items(aws_clients)
    reply = client.revoke(token)
    assert reply.status == 200 and reply.body == ""
    assert tokens_table_items(aws_clients) == before


def test_revoking_twice_changes_nothing_the_second_time(client, aws_clients, monkeypatch):
    clock = frozen_clock(monkeypatch)
    body = client.tokens(aws_clients)
    assert client.revoke(body["refresh_token"]).status == 200
    before = tokens_table_items(aws_clients)
    clock.advance(10)
    for token in (body["refresh_token"], body["access_token"]):
        assert client.revoke(token).status == 200
    assert tokens_table_items(aws_clients) == before


def test_expired_access_token_is_200_and_left_alone(client, aws_clients, monkeypatch):
    clock = frozen_clock(monkeypatch)
    body = client.tokens(aws_clients)
    clock.advance(3_600)
    assert client.revoke(body["access_token"]).status == 200
    assert "revoked_at" not in stored_token(aws_clients, grants.access_key(body["access_token"]))


def test_public_client_revokes_with_its_client_id(api, aws_clients, resource_server):
    public = oauth_client(api, "none")
    body = public.tokens(aws_clients)
    assert public.revoke(body["refresh_token"]).status == 200
    assert not active(resource_server, body["access_token"])


def test_revocation_needs_the_token(client):
    assert_error(client.post(REVOKE, {}), 400, "invalid_request")


def test_revocation_needs_valid_client_credentials(client, aws_clients, resource_server):
    body = client.tokens(aws_clients)
    reply = client.post(REVOKE, {"token": body["refresh_token"]},
                        headers={"Authorization": basic(client.client_id, "wrong")})
    assert_error(reply, 401, "invalid_client")
    assert reply.headers["WWW-Authenticate"].startswith("Basic ")
    assert active(resource_server, body["access_token"])


def test_revocation_allows_any_origin(client, aws_clients):
    reply = client.revoke("garbage")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_revocation_costs_two_aws_calls_once_warm(client, aws_clients, aws_calls):
    body = client.tokens(aws_clients)
    aws_calls.clear()
    assert client.revoke(body["refresh_token"]).status == 200
    assert aws_calls == ["BatchGetItem", "UpdateItem"]


# Introspection ------------------------------------------------------------------------------

def test_active_access_token_is_described(client, aws_clients, resource_server):
    body = client.tokens(aws_clients)
    reply = resource_server.introspect(body["access_token"])
    assert reply.status == 200
    assert_no_store(reply)
    description = reply.json
    assert description.pop("exp") - description.pop("iat") == 3_600
    assert description == {
        "active": True,
        "scope": "mcp:read mcp:write",
        "client_id": client.client_id,
        "sub": "bob",
        "aud": [RESOURCE, OTHER_RESOURCE],
        "iss": settings().issuer,
        "token_type": "Bearer",
    }


def test_refresh_token_is_described_as_one(client, aws_clients, resource_server):
    body = client.tokens(aws_clients, resources=[])
    description = resource_server.introspect(body["refresh_token"]).json
    assert description["active"] is True
    assert description["token_type"] == "refresh_token"
    assert "aud" not in description


def test_the_holder_may_introspect_its_own_token(client, aws_clients):
    body = client.tokens(aws_clients)
    assert client.introspect(body["access_token"]).json["active"] is True


@pytest.mark.parametrize("token", ["oat_" + "x" * 43, "ort_" + "x" * 43, "garbage"])
def test_unknown_token_is_exactly_inactive(resource_server, token):
    assert resource_server.introspect(token).json == {"active": False}


def test_expired_access_token_is_inactive(client, aws_clients, resource_server, monkeypatch):
    clock = frozen_clock(monkeypatch)
    body = client.tokens(aws_clients)
    clock.advance(3_599)
    assert active(resource_server, body["access_token"])
    clock.advance(1)
    assert resource_server.introspect(body["access_token"]).json == {"active": False}


def test_replaced_refresh_token_is_active_only_during_the_grace_period(
        client, aws_clients, resource_server, monkeypatch):
    clock = frozen_clock(monkeypatch)
    body = client.tokens(aws_clients)
    assert client.refresh(body["refresh_token"]).status == 200
    clock.advance(119)
    assert active(resource_server, body["refresh_token"])
    clock.advance(1)
    assert not active(resource_server, body["refresh_token"])


def test_deleted_clients_tokens_are_inactive(api, client, aws_clients, resource_server):
    body = client.tokens(aws_clients)
    assert active(resource_server, body["access_token"])
    assert api.delete(f"/api/v1/oauth-clients/{client.client_id}").status == 204
    for token in (body["access_token"], body["refresh_token"]):
        assert resource_server.introspect(token).json == {"active": False}


def test_token_without_its_family_is_inactive(client, aws_clients, resource_server):
    body = client.tokens(aws_clients)
    family = next(pk for pk in token_pks(aws_clients) if pk.startswith("family#"))
    aws_clients.dynamodb.delete_item(TableName=settings().tokens_table,
                                     Key={"pk": {"S": family}})
    assert not active(resource_server, body["access_token"])


def test_public_client_may_not_introspect(api, client, aws_clients):
    body = client.tokens(aws_clients)
    public = oauth_client(api, "none")
    assert_error(public.introspect(body["access_token"]), 401, "invalid_client")


def test_introspection_needs_client_credentials(client, aws_clients):
    body = client.tokens(aws_clients)
    reply = client.post(INTROSPECT, {"token": body["access_token"]}, credentials=False)
    assert_error(reply, 401, "invalid_client")


def test_introspection_with_a_wrong_secret_is_401(client, aws_clients):
    body = client.tokens(aws_clients)
    reply = client.post(INTROSPECT, {"token": body["access_token"]},
                        headers={"Authorization": basic(client.client_id, "wrong")})
    assert_error(reply, 401, "invalid_client")


def test_introspection_needs_the_token(resource_server):
    assert_error(resource_server.post(INTROSPECT, {}), 400, "invalid_request")


def test_introspection_allows_no_cross_origin_use(resource_server):
    reply = resource_server.introspect("garbage")
    assert "Access-Control-Allow-Origin" not in reply.headers
    preflight = resource_server.browser.request("OPTIONS", INTROSPECT, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 405
    assert preflight.headers["Allow"] == "POST"
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_introspection_costs_at_most_two_aws_calls_once_warm(client, aws_clients,
                                                             resource_server, aws_calls):
    body = client.tokens(aws_clients)
    assert active(resource_server, body["access_token"])  # warms the secret's cache
    aws_calls.clear()
    assert active(resource_server, body["refresh_token"])
    assert aws_calls == ["BatchGetItem", "BatchGetItem"]

