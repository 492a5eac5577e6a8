"""boto3 clients shared by a process, and how AWS failures become domain errors."""

from functools import cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Short timeouts: API Gateway gives up after 30 s, and a person waits on every call.
_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
)

# Error codes that mean "try again later", not "your request is wrong".
_TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "Throttling",
    "InternalServerError",
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "LimitExceededException",
})


class ServiceUnavailable(Exception):
    """An AWS dependency is throttled or unavailable; the caller may retry."""


@cache
def dynamodb():
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def secretsmanager():
    return boto3.client("secretsmanager", config=_CONFIG)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_transient(error: Exception) -> bool:
    if isinstance(error, BotoCoreError):
        return True  # timeouts, connection resets, endpoint errors
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in _TRANSIENT_CODES or status >= 500
    return False


def unavailable(error: Exception) -> ServiceUnavailable:
    """The domain error for a transient AWS failure, chained by the caller with `from`."""
    reason = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return ServiceUnavailable(reason)


def call(client, operation: str, **params) -> dict:
    """Call one AWS operation; a throttled or unavailable service becomes ServiceUnavailable."""
    try:
        return getattr(client, operation)(**params)
    except (ClientError, BotoCoreError) as error:
        if is_transient(error):
            raise unavailable(error) from error
        raise


def transact(client, items: list[dict]) -> list[str]:
    """Run one TransactWriteItems, all of it or nothing.

    Returns [] when it was applied, or each item's cancellation reason when a condition
    failed ("ConditionalCheckFailed" where it did, "None" elsewhere), in the items' order.
    """
    try:
        call(client, "transact_write_items", TransactItems=items)
        return []
    except ClientError as error:
        reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons:
            return reasons
        if error_code(error) == "TransactionCanceledException":
            # A conflict with a concurrent transaction, or throttling: the caller may retry.
            raise unavailable(error) from error
        raise
