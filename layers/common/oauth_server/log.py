"""Log lines named `noun.outcome`, one per outcome, never holding a secret, code or token."""

from aws_lambda_powertools import Logger

logger = Logger()


def outcome(name: str, /, **fields) -> None:
    logger.info(name, extra={"event": name, **fields})


def failure(name: str, /, **fields) -> None:
    logger.warning(name, extra={"event": name, **fields})


def audit(name: str, actor: str, client_id: str, /, **fields) -> None:
    """An administrator's change: who did what to which client (the time is the line's)."""
    logger.info(name, extra={
        "event": name, "audit": True, "actor": actor, "client_id": client_id, **fields,
    })
