"""What an administrator can do to OAuth client applications (SPEC.md §4).

Secrets are written before the items that point at them, and removed after: at no moment
does a client item name a secret version that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import client_secrets
from .clients import (Client, ClientNotFound, ClientStore, new_client_id, now_rfc3339,
                      plausible_client_id)
from .client_secrets import SecretStore
from .field_problems import FieldProblem, InvalidFields
from .log import audit, failure

if TYPE_CHECKING:  # the models import pydantic, which reads and deletes never need
    from .client_models import ClientCreate, ClientPatch


@dataclass
class CreatedClient:
    client: Client
    client_secret: str | None  # shown once, never stored


class ClientAdmin:
    def __init__(self, clients: ClientStore, secrets: SecretStore):
        self._clients = clients
        self._secrets = secrets

    def newest_first(self) -> list[Client]:
        return self._clients.newest_first()

    def get(self, client_id: str) -> Client:
        client = self._clients.get(client_id) if plausible_client_id(client_id) else None
        if client is None:
            raise ClientNotFound(client_id)
        return client

    def create(self, request: ClientCreate, actor: str) -> CreatedClient:
        now = now_rfc3339()
        client = Client(client_id=new_client_id(), created_at=now, updated_at=now,
                        **request.model_dump())
        secret = client_secrets.generate() if client.is_confidential else None
        if secret:
            client.secret_version = self._secrets.create(client.client_id, secret)
        try:
            self._clients.create(client)
        except Exception:  # whatever failed, no secret may outlive its client
            self._discard_secret(client)
            raise
        audit("client.created", actor, client.client_id, client_name=client.name,
              client_type=client.client_type)
        return CreatedClient(client=client, client_secret=secret)

    def update(self, client_id: str, patch: ClientPatch, actor: str) -> Client:
        current = self.get(client_id)
        changes = patch.model_dump(exclude_none=True)
        if current.client_type == "public" and changes.get("pkce_required") is False:
            raise InvalidFields([FieldProblem(
                field="pkce_required", message="must be true for a public client",
            )])
        changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not changed:
            return current
        updated = self._clients.update(current, changed)
        audit("client.updated", actor, client_id, fields=sorted(changed))
        return updated

    def rotate_secret(self, client_id: str, actor: str) -> str:
        client = self.get(client_id)
        if not client.is_confidential:
            raise InvalidFields([FieldProblem(
                field="client_type", message="a public client has no secret to rotate",
            )])
        secret = client_secrets.generate()
        version = self._secrets.replace(client_id, secret)
        # From this write on, only the new version is accepted, by every process.
        self._clients.set_secret_version(client_id, version)
        audit("client.secret_rotated", actor, client_id)
        return secret

    def delete(self, client_id: str, actor: str) -> None:
        client = self.get(client_id)
        self._clients.delete(client)
        audit("client.deleted", actor, client_id, client_name=client.name)
        if client.is_confidential:
            self._discard_secret(client)

    def _discard_secret(self, client: Client) -> None:
        """Remove a secret no client item points at any more; a leftover is only clutter."""
        if client.secret_version is None:
            return
        try:
            self._secrets.delete(client.client_id)
        except Exception as error:
            failure("client.secret_orphaned", client_id=client.client_id,
                    secret_name=self._secrets.name(client.client_id), reason=type(error).__name__)
