"""Issuing tokens and judging whether a stored token is usable."""

from oauth_server import grants
from oauth_server.tokens import Token, issue, token_key

NOW = 1_800_000_000


def granted(**fields) -> Token:
    values = {"kind": "refresh", "client_id": "abc", "sub": "bob", "scope": "a b",
              "resources": ["https://r1", "https://r2"], "family_id": "f",
              "issued_at": NOW - 100, "expires_at": NOW + 86_400, **fields}
    return Token(**values)


def test_new_refresh_token_carries_the_whole_grant_and_its_expiry():
    old = granted(replaced_at=NOW - 5)
    tokens = issue(old, "a", ["https://r1"], 3_600, NOW)
    assert tokens.refresh.scope == "a b"
    assert tokens.refresh.resources == ["https://r1", "https://r2"]
    assert tokens.refresh.expires_at == old.expires_at
    assert tokens.refresh.issued_at == NOW and tokens.refresh.replaced_at is None


def test_access_token_is_narrowed_and_lives_its_lifetime():
    tokens = issue(granted(), "a", ["https://r1"], 3_600, NOW)
    assert (tokens.access.kind, tokens.access.scope) == ("access", "a")
    assert tokens.access.resources == ["https://r1"]
    assert tokens.access.expires_at == NOW + 3_600
    assert tokens.response(NOW)["expires_in"] == 3_600


def test_access_token_never_outlives_the_family():
    tokens = issue(granted(expires_at=NOW + 60), "a b", [], 3_600, NOW)
    assert tokens.response(NOW)["expires_in"] == 60


def test_values_are_prefixed_and_random():
    first, second = (issue(granted(), "a", [], 60, NOW) for _ in range(2))
    assert first.access_token.startswith(grants.ACCESS_TOKEN_PREFIX)
    assert first.refresh_token.startswith(grants.REFRESH_TOKEN_PREFIX)
    assert len({first.access_token, first.refresh_token, second.access_token}) == 3


def test_response_shape():
    tokens = issue(granted(), "", [], 60, NOW)
    assert tokens.response(NOW) == {
        "access_token": tokens.access_token, "token_type": "Bearer", "expires_in": 60,
        "refresh_token": tokens.refresh_token, "scope": "",
    }


def test_usable_until_expiry():
    token = granted()
    assert token.usable(NOW, 120)
    assert not token.usable(token.expires_at, 120)


def test_revoked_is_never_usable():
    assert not granted(revoked_at=NOW - 1).usable(NOW, 120)


def test_replaced_is_usable_only_inside_the_grace_period():
    token = granted(replaced_at=NOW)
    assert token.usable(NOW + 119, 120)
    assert not token.usable(NOW + 120, 120)
    assert not token.usable(NOW, 0)


def test_token_key_tells_the_kinds_apart():
    assert token_key("oat_abc") == grants.access_key("oat_abc")
    assert token_key("ort_abc") == grants.refresh_key("ort_abc")
    assert token_key("oac_abc") is None
    assert token_key("") is None
