"""Log lines named `noun.outcome`, one per outcome, never holding a secret, code or token.

Each line is mirrored by a CloudWatch metric of the same name (a count of 1, in embedded
metric format), so an operator can graph and alarm on `token.issued`, `code.replayed` or
`refresh.reuse_detected` without a log query. The metric carries no client or person: those
would make a metric per value, and the log line already holds them.
"""

import functools
import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()


@functools.cache
def metrics() -> Metrics:
    """The metrics of this process; counts wait in it until the request's end publishes them.

    The template names the namespace after the stack (POWERTOOLS_METRICS_NAMESPACE), so that
    two deployments in one account count apart; the dimension is POWERTOOLS_SERVICE_NAME.
    """
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OAuthServer"))


def outcome(name: str, /, **fields) -> None:
    logger.info(name, extra={"event": name, **fields})
    _count(name)


def failure(name: str, /, **fields) -> None:
    logger.warning(name, extra={"event": name, **fields})
    _count(name)


def defect(name: str, /) -> None:
    """A request that failed on an unexpected error, logged with its traceback; the caller
    answers 500. Counted, so that an operator hears of it without reading logs."""
    logger.exception(name, extra={"event": name})
    _count(name)


def audit(name: str, actor: str, client_id: str, /, **fields) -> None:
    """An administrator's change: who did what to which client (the time is the line's)."""
    logger.info(name, extra={
        "event": name, "audit": True, "actor": actor, "client_id": client_id, **fields,
    })
    _count(name)


def _count(name: str) -> None:
    metrics().add_metric(name=name, unit=MetricUnit.Count, value=1)


def observed(handler):
    """A Lambda handler with the request's correlation id on each line, and its metrics
    published when it returns (or raises)."""
    @functools.wraps(handler)
    def handle(event: dict, context) -> dict:
        try:
            return handler(event, context)
        finally:
            # Not Powertools' log_metrics: it warns on every request without an outcome
            # (a console file, a preflight), which has simply nothing to count.
            if metrics().metric_set:
                metrics().flush_metrics()

    return logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)(
        handle)
