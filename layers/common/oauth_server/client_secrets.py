"""Client secrets: generated here, stored only as a SHA-256 hash in Secrets Manager.

A secret of 256 random bits cannot be guessed, so a fast hash is enough (NIST SP 800-63B
§5.1.2.2) and keeps a slow hash off every token request. Each confidential client has one
Secrets Manager secret; the client item records the version id of the current hash. Readers
fetch the hash by that exact version and cache it by version: a rotation changes the version
on the client item, so every warm process stops accepting the old secret at once.
"""

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict

from botocore.exceptions import ClientError

from . import aws

SECRET_BYTES = 32
_CACHE_SIZE = 1_024


def generate() -> str:
    """A new client secret: 32 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SecretStore:
    """The hashes of client secrets in Secrets Manager, one secret per client."""

    def __init__(self, prefix: str, client=None):
        self._prefix = prefix
        self._client = client or aws.secretsmanager()
        self._hashes: OrderedDict[tuple[str, str], str] = OrderedDict()

    def name(self, client_id: str) -> str:
        return f"{self._prefix}{client_id}"

    def create(self, client_id: str, secret: str) -> str:
        """Store the hash of a new client's secret; returns the version id."""
        response = self._call(
            "create_secret",
            Name=self.name(client_id),
            SecretString=hash_secret(secret),
            Description=f"SHA-256 of the secret of OAuth client {client_id}",
        )
        return response["VersionId"]

    def replace(self, client_id: str, secret: str) -> str:
        """Store the hash of a rotated secret as a new version; returns its id."""
        response = self._call(
            "put_secret_value",
            SecretId=self.name(client_id),
            SecretString=hash_secret(secret),
        )
        return response["VersionId"]

    def delete(self, client_id: str) -> None:
        try:
            self._call(
                "delete_secret",
                SecretId=self.name(client_id),
                ForceDeleteWithoutRecovery=True,
            )
        except ClientError as error:
            if aws.error_code(error) != "ResourceNotFoundException":
                raise

    def verify(self, client_id: str, version: str, presented: str) -> bool:
        """Whether `presented` is the secret whose hash is stored as `version`."""
        expected = self._hash(client_id, version)
        return hmac.compare_digest(hash_secret(presented), expected)

    def _hash(self, client_id: str, version: str) -> str:
        key = (client_id, version)
        if key in self._hashes:
            self._hashes.move_to_end(key)
            return self._hashes[key]
        response = self._call(
            "get_secret_value", SecretId=self.name(client_id), VersionId=version,
        )
        self._hashes[key] = response["SecretString"]
        if len(self._hashes) > _CACHE_SIZE:
            self._hashes.popitem(last=False)
        return response["SecretString"]

    def _call(self, operation: str, **params) -> dict:
        return aws.call(self._client, operation, **params)
