"""Verifying the upstream provider's ID token (OpenID Connect Core §3.1.3.7)."""

import time

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .signin import HTTP_TIMEOUT_SECONDS, SignInError

# Keys by JWKS URL; fetched again when a token names a key id not yet seen (key rotation).
_key_sets: dict[str, KeySet] = {}
_LEEWAY_SECONDS = 60


def _invalid(reason: str) -> SignInError:
    return SignInError(
        "The identity provider's answer could not be verified. Please sign in again.",
        reason=reason,
    )


def _fetch_keys(jwks_uri: str) -> KeySet:
    try:
        response = requests.get(jwks_uri, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        keys = KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError) as error:
        raise SignInError(
            "The identity provider could not be reached. Try again in a moment.",
            reason=f"jwks: {type(error).__name__}", status=502,
        ) from error
    _key_sets[jwks_uri] = keys
    return keys


def _decode(id_token: str, jwks_uri: str, algorithms: list[str]) -> jwt.Token:
    keys = _key_sets.get(jwks_uri) or _fetch_keys(jwks_uri)
    try:
        return jwt.decode(id_token, keys, algorithms=algorithms)
    except ValueError:  # joserfc: no key with the token's key id
        return jwt.decode(id_token, _fetch_keys(jwks_uri), algorithms=algorithms)


def verify_id_token(id_token: str | None, metadata: dict, client_id: str, nonce: str) -> dict:
    """The claims of a valid ID token for this client and this sign-in; else SignInError."""
    if not id_token:
        raise _invalid("token response without id_token")
    # Asymmetric signatures only: "none" and HMAC with the client secret are refused.
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a[:2] in ("RS", "ES", "PS")] or ["RS256"]
    try:
        token = _decode(id_token, metadata["jwks_uri"], algorithms)
        _claims_rules(metadata["issuer"], client_id, nonce).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise _invalid(f"id_token: {type(error).__name__}: {error}") from error
    claims = token.claims
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _invalid("id_token: several audiences and azp is not this client")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise _invalid("id_token: no sub")
    return claims


def _claims_rules(issuer: str, client_id: str, nonce: str) -> jwt.JWTClaimsRegistry:
    return jwt.JWTClaimsRegistry(
        now=int(time.time()),
        leeway=_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    )
