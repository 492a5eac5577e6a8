"""What the authorization endpoint reads and writes in DynamoDB.

One strongly consistent BatchGetItem fetches the client and the consent a request needs, so a
person who approved before gets a code in two round trips: that read and the code's PutItem.

A request waiting for the person's decision lives in the codes table under
`authz#<sha256 hex of its id>`, bound to the person who made it. Approving deletes it in the
same transaction that writes the code and the consent, under a condition, so each request is
answered once, and a failure leaves it as it was.
"""

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from . import aws
from .clients import Client, client_key
from .clients import from_item as client_from_item
from .config import Settings
from .grants import (AuthorizationCode, Consent, code_key, consent_key, digest, from_item,
                     to_item)


class AlreadyAnswered(Exception):
    """The waiting request is gone: answered already, expired, or someone else's."""


@dataclass
class PendingAuthorization:
    """A valid authorization request, waiting for the person's decision."""

    sub: str
    client_id: str
    client_name: str  # as it was when asked: the consent page shows it
    redirect_uri: str
    redirect_uri_sent: bool
    scope: str  # space-separated, possibly empty
    resources: list[str] = field(default_factory=list)
    code_challenge: str | None = None
    state: str | None = None  # echoed exactly; None when the request had none
    created_at: int = 0
    expires_at: int = 0
    kind: str = "authorization_request"


def pending_key(request_id: str) -> dict:
    return {"pk": {"S": f"authz#{digest(request_id)}"}}


class AuthorizationStore:
    def __init__(self, settings: Settings, dynamodb=None):
        self._settings = settings
        self._dynamodb = dynamodb or aws.dynamodb()

    def client_and_consent(self, client_id: str | None, consent: dict | None,
                           at: int) -> tuple[Client | None, Consent | None]:
        """The client and the remembered consent under `consent`, in one read."""
        wanted = {}
        if client_id:
            wanted[self._settings.clients_table] = [client_key(client_id)]
        if client_id and consent:
            wanted[self._settings.tokens_table] = [consent]
        found = self._batch_get(wanted)
        clients = found.get(self._settings.clients_table, [])
        consents = found.get(self._settings.tokens_table, [])
        remembered = from_item(Consent, consents[0]) if consents else None
        # TTL deletes late: an expired consent may still be read.
        if remembered and remembered.expires_at <= at:
            remembered = None
        return (client_from_item(clients[0]) if clients else None), remembered

    def put_code(self, code: str, record: AuthorizationCode) -> None:
        item = to_item(record, code_key(code))
        self._call("put_item", TableName=self._settings.codes_table, Item=item)

    def put_pending(self, request_id: str, pending: PendingAuthorization) -> None:
        item = to_item(pending, pending_key(request_id))
        self._call("put_item", TableName=self._settings.codes_table, Item=item)

    def pending(self, request_id: str) -> PendingAuthorization | None:
        response = self._call(
            "get_item", TableName=self._settings.codes_table, Key=pending_key(request_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item or item.get("kind", {}).get("S") != "authorization_request":
            return None
        return from_item(PendingAuthorization, item)

    def approve(self, request_id: str, sub: str, at: int,
                code: str, record: AuthorizationCode, consent: Consent) -> None:
        """Answer the request with a code and remember the consent, all or nothing."""
        consent_item = to_item(consent, _consent_key(consent))
        if aws.transact(self._dynamodb, [
            {"Delete": self._answer(request_id, sub, at)},
            {"Put": {"TableName": self._settings.codes_table,
                     "Item": to_item(record, code_key(code))}},
            {"Put": {"TableName": self._settings.tokens_table, "Item": consent_item}},
        ]):
            raise AlreadyAnswered()

    def deny(self, request_id: str, sub: str, at: int) -> None:
        try:
            self._call("delete_item", **self._answer(request_id, sub, at))
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                raise AlreadyAnswered() from error
            raise

    def _answer(self, request_id: str, sub: str, at: int) -> dict:
        """Delete the waiting request, only if it is still there, unexpired and this person's."""
        return {
            "TableName": self._settings.codes_table,
            "Key": pending_key(request_id),
            "ConditionExpression": "attribute_exists(pk) AND #sub = :sub AND expires_at > :at",
            "ExpressionAttributeNames": {"#sub": "sub"},
            "ExpressionAttributeValues": {":sub": {"S": sub}, ":at": {"N": str(at)}},
        }

    def _batch_get(self, wanted: dict[str, list[dict]]) -> dict[str, list[dict]]:
        if not wanted:
            return {}
        request = {table: {"Keys": keys, "ConsistentRead": True}
                   for table, keys in wanted.items()}
        response = self._call("batch_get_item", RequestItems=request)
        # Keys left unprocessed mean throttling; retrying here would hold the person up.
        if response.get("UnprocessedKeys"):
            raise aws.ServiceUnavailable("UnprocessedKeys")
        return response.get("Responses", {})

    def _call(self, operation: str, **params) -> dict:
        return aws.call(self._dynamodb, operation, **params)


def _consent_key(consent: Consent) -> dict:
    return consent_key(consent.sub, consent.client_id, consent.scope.split(),
                       consent.resources)
