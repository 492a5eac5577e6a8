"""OAuth client applications in DynamoDB.

Each client is one item keyed `client#<client_id>`. Names are unique without regard to case
through a second item keyed `name#<folded name>`, written in the same transaction as the
client, so two concurrent creates with one name cannot both succeed.
"""

import secrets
import string
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from . import aws

CLIENT_ID_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits
_LISTING_INDEX = "by_created"
_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


class ClientNotFound(Exception):
    """No client has this id."""


class NameTaken(Exception):
    """Another client already has this name, compared without regard to case."""


class ConcurrentChange(Exception):
    """The client changed between reading and writing it; read it again and retry."""


def new_client_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CLIENT_ID_LENGTH))


def now_rfc3339() -> str:
    moment = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def name_key(name: str) -> str:
    """The key that makes names unique: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


@dataclass
class Client:
    client_id: str
    name: str
    client_type: str
    redirect_uris: list[str]
    access_token_expiry: int
    refresh_token_expiry: int
    pkce_required: bool
    created_at: str
    updated_at: str
    secret_version: str | None = field(default=None, repr=False)

    @property
    def is_confidential(self) -> bool:
        return self.client_type == "confidential"

    def view(self) -> dict:
        """What the admin API shows: everything but the secret's version."""
        shown = asdict(self)
        del shown["secret_version"]
        return shown


def plausible_client_id(client_id: str) -> bool:
    # Anything else cannot exist; refusing it early keeps junk out of DynamoDB keys.
    return 0 < len(client_id) <= 128 and client_id.isascii() and client_id.isalnum()


def client_key(client_id: str) -> dict:
    return {"pk": {"S": f"client#{client_id}"}}


def _name_key(name: str) -> dict:
    return {"pk": {"S": f"name#{name_key(name)}"}}


def _to_item(client: Client) -> dict:
    values = {k: v for k, v in asdict(client).items() if v is not None}
    values["entity"] = "client"
    item = {k: _serialize(v) for k, v in values.items()}
    return {**item, **client_key(client.client_id)}


def from_item(item: dict) -> Client:
    values = {k: _deserialize(v) for k, v in item.items()}
    fields = Client.__dataclass_fields__
    client = Client(**{k: v for k, v in values.items() if k in fields})
    client.access_token_expiry = int(client.access_token_expiry)
    client.refresh_token_expiry = int(client.refresh_token_expiry)
    return client


class ClientStore:
    def __init__(self, table: str, client=None):
        self._table = table
        self._dynamodb = client or aws.dynamodb()

    def get(self, client_id: str) -> Client | None:
        response = self._call(
            "get_item", TableName=self._table, Key=client_key(client_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def newest_first(self) -> list[Client]:
        """Every client, newest first."""
        query = {
            "TableName": self._table,
            "IndexName": _LISTING_INDEX,
            "KeyConditionExpression": "entity = :client",
            "ExpressionAttributeValues": {":client": {"S": "client"}},
            "ScanIndexForward": False,
        }
        clients = []
        while True:
            response = self._call("query", **query)
            clients += [from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return clients
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def create(self, client: Client) -> None:
        """Write a new client and claim its name, both or neither."""
        items = [
            {"Put": {
                "TableName": self._table,
                "Item": _to_item(client),
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
            self._claim_name(client),
        ]
        codes = aws.transact(self._dynamodb, items)
        if codes:
            raise NameTaken(client.name) if codes[1] == "ConditionalCheckFailed" else \
                ConcurrentChange(client.client_id)

    def update(self, current: Client, changes: dict) -> Client:
        """Apply `changes` to `current`, moving the name claim when the name changes."""
        updated = Client(**{**asdict(current), **changes, "updated_at": now_rfc3339()})
        items = [{"Put": {
            "TableName": self._table,
            "Item": _to_item(updated),
            # Unchanged since it was read: no concurrent rename slips between.
            "ConditionExpression": "attribute_exists(pk) AND updated_at = :seen",
            "ExpressionAttributeValues": {":seen": {"S": current.updated_at}},
        }}]
        renamed = name_key(updated.name) != name_key(current.name)
        if renamed:
            items += [self._release_name(current), self._claim_name(updated)]
        codes = aws.transact(self._dynamodb, items)
        if not codes:
            return updated
        if renamed and codes[2] == "ConditionalCheckFailed":
            raise NameTaken(updated.name)
        raise self._missing_or_changed(current.client_id)

    def set_secret_version(self, client_id: str, version: str) -> None:
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key=client_key(client_id),
                UpdateExpression="SET secret_version = :version, updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":version": {"S": version}, ":now": {"S": now_rfc3339()},
                },
            )
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                raise ClientNotFound(client_id) from error
            raise

    def delete(self, client: Client) -> None:
        """Remove the client and release its name, both or neither."""
        items = [
            {"Delete": {
                "TableName": self._table,
                "Key": client_key(client.client_id),
                "ConditionExpression": "attribute_exists(pk)",
            }},
            self._release_name(client),
        ]
        if aws.transact(self._dynamodb, items):
            raise self._missing_or_changed(client.client_id)

    def _claim_name(self, client: Client) -> dict:
        item = {**_name_key(client.name), "client_id": {"S": client.client_id}}
        return {"Put": {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }}

    def _release_name(self, client: Client) -> dict:
        return {"Delete": {
            "TableName": self._table,
            "Key": _name_key(client.name),
            "ConditionExpression": "client_id = :id",
            "ExpressionAttributeValues": {":id": {"S": client.client_id}},
        }}

    def _missing_or_changed(self, client_id: str) -> Exception:
        if self.get(client_id) is None:
            return ClientNotFound(client_id)
        return ConcurrentChange(client_id)

    def _call(self, operation: str, **params) -> dict:
        return aws.call(self._dynamodb, operation, **params)
