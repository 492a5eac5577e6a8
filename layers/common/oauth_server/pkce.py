"""PKCE at the token endpoint (RFC 7636 §4.5, §4.6), with S256 as the only method.

The authorization endpoint stores only S256 challenges (OAuth 2.1 §4.1.1 forbids `plain`),
so a verifier is always compared through SHA-256, never as the challenge itself.
"""

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, compare_s256_code_challenge


def checked_verifier(code_verifier: str | None) -> str | None:
    """RFC 7636 §4.1: 43 to 128 unreserved characters, or none at all."""
    if code_verifier is not None and not CODE_VERIFIER_PATTERN.fullmatch(code_verifier):
        raise InvalidRequestError("The code_verifier must be 43 to 128 characters of "
                                  "A-Z, a-z, 0-9 and -._~")
    return code_verifier


def verify(code_challenge: str | None, code_verifier: str | None) -> None:
    """RFC 7636 §4.6: the verifier must hash to the challenge the code was issued with."""
    if code_challenge is None:
        if code_verifier is not None:
            # A verifier for a code issued without a challenge means the request was altered
            # on its way (RFC 9700 §4.8.2, PKCE downgrade).
            raise InvalidGrantError("This code was issued without a code_challenge.")
        return
    if code_verifier is None:
        raise InvalidGrantError("The code_verifier is missing.")
    if not compare_s256_code_challenge(code_verifier, code_challenge):
        raise InvalidGrantError("The code_verifier does not match the code_challenge.")
