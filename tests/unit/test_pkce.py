"""PKCE at the token endpoint (RFC 7636), S256 only."""

import pytest
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError

from oauth_server.pkce import checked_verifier, verify

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_rfcs_example_verifies():
    verify(RFC_CHALLENGE, checked_verifier(RFC_VERIFIER))


@pytest.mark.parametrize("verifier", ["a" * 43, "Z" * 128, "0-._~" * 9])
def test_well_formed_verifiers_pass(verifier):
    assert checked_verifier(verifier) == verifier


def test_no_verifier_passes_the_syntax_check():
    assert checked_verifier(None) is None


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "=", "a" * 42 + "/",
                                      "a" * 43 + "\n", "a" * 42 + "é", ""])
def test_malformed_verifiers_are_invalid_request(verifier):
    with pytest.raises(InvalidRequestError):
        checked_verifier(verifier)


def test_wrong_verifier_is_invalid_grant():
    with pytest.raises(InvalidGrantError):
        verify(RFC_CHALLENGE, "a" * 43)


def test_challenge_without_verifier_is_invalid_grant():
    with pytest.raises(InvalidGrantError):
        verify(RFC_CHALLENGE, None)


def test_verifier_without_challenge_is_invalid_grant():
    with pytest.raises(InvalidGrantError):
        verify(None, RFC_VERIFIER)


def test_plain_is_never_compared():
    with pytest.raises(InvalidGrantError):
        verify(RFC_CHALLENGE, RFC_CHALLENGE)


def test_neither_is_fine():
    verify(None, None)
