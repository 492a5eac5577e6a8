"""Warm requests of the authorization-code flow: AWS calls against DESIGN.md's budgets, and time.

The real handlers run in this process behind the local gateway, with moto's in-process mock,
as in the functional tests (local.harness). Calls are counted with botocore's `before-call`
hook on the handlers' clients, so the counts are exact and are held against the budgets.
Times are medians on a shared, noisy machine: printed beside one moto GetItem round trip
measured in the same loop, never held against a limit.
"""

import base64
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from hashlib import sha256
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from local import harness
from local.provider import ADMIN_SUBJECT

WARM_UP = 5  # the first requests fetch client secrets and fill the handlers' caches
RUNS = 50
REDIRECT_URI = "https://app.example.com/callback"
RESOURCE = "https://mcp.example.com/mcp"
VERIFIER = "bench-code-verifier-" + "v" * 40
CHALLENGE = base64.urlsafe_b64encode(sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
FORM = "application/x-www-form-urlencoded"
# Sessions are minted, never signed in upstream: a request there would fail at once.
UNREACHABLE_ISSUER = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Operation:
    label: str
    budget: int  # the most AWS calls one warm request may make (DESIGN.md, Budgets)
    at_most: bool = False  # the budget is a ceiling, not the expected count

    @property
    def shown_budget(self) -> str:
        return f"<= {self.budget}" if self.at_most else str(self.budget)


OPERATIONS = {
    "exchange": Operation("token exchange (authorization_code)", 2),
    "refresh": Operation("refresh", 2),
    "introspect": Operation("introspection", 2, at_most=True),
    "authorize": Operation("authorize, remembered consent", 2),
}
BASELINE = "GetItem"  # one moto round trip, by the bench's own client: no handler involved
SECRETS_MANAGER_BUDGET = 0


class FlowError(Exception):
    """A request answered otherwise than the flow expects: nothing worth timing."""


@dataclass
class Measured:
    seconds: list[float] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)


@dataclass
class Results:
    measured: dict[str, Measured]
    secrets_operations: frozenset[str]  # to tell Secrets Manager's calls from DynamoDB's


def _expect(reply: harness.Reply, status: int) -> harness.Reply:
    if reply.status != status:
        raise FlowError(f"expected {status}, got {reply.status}: {reply.body[:300]}")
    return reply


def _redirect_query(reply: harness.Reply, status: int = 302) -> dict[str, str]:
    query = parse_qs(urlsplit(_expect(reply, status).headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}


def _code_of(reply: harness.Reply, status: int = 302) -> str:
    answer = _redirect_query(reply, status)
    if "code" not in answer:
        raise FlowError(f"no code in the redirect: {answer}")
    return answer["code"]


def _basic(client: dict) -> dict[str, str]:
    """RFC 6749 §2.3.1: client_secret_basic."""
    pair = f"{quote(client['client_id'], safe='')}:{quote(client['client_secret'], safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


@dataclass
class Flow:
    """A person, an app and a resource server, sending warm requests one after another."""

    aws_clients: harness.AwsClients
    calls: list[str]
    person: harness.AdminApi
    client: dict
    resource_server: dict
    measured: dict[str, Measured] = field(default_factory=dict)
    kept: dict[str, set[str]] = field(default_factory=dict)  # table -> pk present at setup

    def timed(self, name: str, send: Callable[[], object]):
        """`send()`'s answer; its time and the handlers' AWS calls are kept under `name`."""
        self.calls.clear()
        started = time.perf_counter()
        answer = send()
        took = time.perf_counter() - started
        record = self.measured.setdefault(name, Measured())
        record.seconds.append(took)
        record.calls.append(list(self.calls))
        return answer

    def authorize(self) -> harness.Reply:
        return self.person.get("/oauth/v1/authorize", query={
            "response_type": "code", "client_id": self.client["client_id"],
            "redirect_uri": REDIRECT_URI, "scope": "mcp:read", "state": "bench",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256",
            "resource": RESOURCE,
        })

    def post(self, path: str, client: dict, form: dict) -> dict:
        reply = self.person.anonymous().request(
            "POST", path, raw=urlencode(form).encode(), content_type=FORM,
            headers=_basic(client))
        return _expect(reply, 200).json

    def exchange(self, code: str) -> dict:
        return self.post("/oauth/v1/token", self.client, {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": VERIFIER})

    def refresh(self, refresh_token: str) -> dict:
        return self.post("/oauth/v1/token", self.client, {
            "grant_type": "refresh_token", "refresh_token": refresh_token})

    def introspect(self, token: str) -> dict:
        return self.post("/oauth/v1/introspect", self.resource_server, {"token": token})

    def iteration(self) -> None:
        """Each operation once, interleaved so that a noisy neighbour slows them alike."""
        code = _code_of(self.timed("authorize", self.authorize))
        tokens = self.timed("exchange", lambda: self.exchange(code))
        tokens = self.timed("refresh", lambda: self.refresh(tokens["refresh_token"]))
        answer = self.timed("introspect", lambda: self.introspect(tokens["access_token"]))
        if not answer["active"]:
            raise FlowError("a fresh access token introspected as inactive")
        self.timed(BASELINE, self.get_client_item)
        self.delete_new_items()

    def get_client_item(self) -> dict:
        from oauth_server.clients import client_key
        from oauth_server.config import settings

        # Read as the handlers read: strongly consistent.
        return self.aws_clients.dynamodb.get_item(
            TableName=settings().clients_table, Key=client_key(self.client["client_id"]),
            ConsistentRead=True)

    def keep_items(self) -> None:
        from oauth_server.config import settings

        for table in (settings().codes_table, settings().tokens_table):
            self.kept[table] = _pks(self.aws_clients.dynamodb, table)

    def delete_new_items(self) -> None:
        """Deletes what the iteration wrote, so that each iteration costs what the first did.

        moto copies every table a transaction touches (to roll it back), so in moto, not in
        DynamoDB, a code exchange or a refresh gets slower as the tables grow.
        """
        dynamodb = self.aws_clients.dynamodb
        for table, kept in self.kept.items():
            for pk in _pks(dynamodb, table) - kept:
                dynamodb.delete_item(TableName=table, Key={"pk": {"S": pk}})


def _pks(dynamodb, table: str) -> set[str]:
    items = dynamodb.scan(TableName=table, ProjectionExpression="pk")["Items"]
    return {item["pk"]["S"] for item in items}


def _register(admin: harness.AdminApi, name: str) -> dict:
    return _expect(admin.post("/api/v1/oauth-clients", {
        "name": name, "redirect_uris": [REDIRECT_URI]}), 201).json


def _approve_once(flow: Flow) -> None:
    """The consent page and its Approve, so that later authorizations remember it."""
    asked = _expect(flow.authorize(), 302).headers["Location"]
    page = _expect(flow.person.get(asked.removeprefix(harness.ISSUER)), 200)
    [form] = harness.forms(page.body)
    approved = flow.person.post_form("/oauth/v1/consent/", {**form.fields, "decision": "approve"})
    _code_of(approved, status=303)


def _flow(aws_clients: harness.AwsClients) -> Flow:
    gateway = harness.local_gateway(aws_clients.resolver)
    admin = harness.signed_in_api(gateway, ADMIN_SUBJECT, is_admin=True, lifetime=600)
    flow = Flow(aws_clients, harness.record_aws_calls(), admin.as_person("bob", False),
                _register(admin, "Bench app"), _register(admin, "Bench resource server"))
    _approve_once(flow)
    flow.keep_items()
    return flow


def measure() -> Results:
    from oauth_server import aws

    with pytest.MonkeyPatch.context() as env, \
            harness.mocked_aws(env, UNREACHABLE_ISSUER) as aws_clients:
        flow = _flow(aws_clients)
        for _ in range(WARM_UP):
            flow.iteration()
        flow.measured = {}  # what the warm-up cost is a cold start's, not a warm request's
        for _ in range(RUNS):
            flow.iteration()
        names = aws.secretsmanager().meta.service_model.operation_names
        return Results(flow.measured, frozenset(names))


def _calls_row(label: str, counts: list[int], budget: int, shown: str, names: str) -> str:
    count = str(max(counts)) if len(set(counts)) == 1 else f"{min(counts)}-{max(counts)}"
    mark = "" if max(counts) <= budget else "  OVER BUDGET"
    return f"  {label:<38} {count:>5} {shown:>7}   {names}{mark}".rstrip()


def _sequences(calls: list[list[str]]) -> str:
    """The operations of one request, in order; every distinct sequence if they differ."""
    return " | ".join(dict.fromkeys(", ".join(c) or "none" for c in calls))


def report_calls(results: Results) -> bool:
    """The AWS-call table; True when every count is within its budget."""
    print(f"AWS calls per warm request, over {RUNS} requests each (budgets: DESIGN.md)")
    print(f"  {'operation':<38} {'calls':>5} {'budget':>7}   operations")
    within = True
    for name, operation in OPERATIONS.items():
        calls = results.measured[name].calls
        counts = [len(c) for c in calls]
        within &= max(counts) <= operation.budget
        print(_calls_row(operation.label, counts, operation.budget, operation.shown_budget,
                         _sequences(calls)))
    return _report_secrets_manager(results) and within


def _report_secrets_manager(results: Results) -> bool:
    calls = [[n for n in c if n in results.secrets_operations]
             for name in OPERATIONS for c in results.measured[name].calls]
    counts = [len(c) for c in calls]
    print(_calls_row("Secrets Manager, in any of the above", counts, SECRETS_MANAGER_BUDGET,
                     str(SECRETS_MANAGER_BUDGET), _sequences(calls)))
    return max(counts) <= SECRETS_MANAGER_BUDGET


def report_times(results: Results) -> None:
    baseline = statistics.median(results.measured[BASELINE].seconds)
    print(f"in-process time of a warm request, median of {RUNS}: gateway, handler and moto")
    print(f"  {'moto GetItem round trip':<38} {baseline * 1000:7.2f} ms    1.0x GetItem")
    for name, operation in OPERATIONS.items():
        median = statistics.median(results.measured[name].seconds)
        print(f"  {operation.label:<38} {median * 1000:7.2f} ms "
              f"{median / baseline:6.1f}x GetItem")


def main() -> int:
    # The handlers import as Lambda imports them: from their code and layer directories.
    sys.path[0:0] = harness.handler_import_roots()
    # The handlers log one JSON line per request to the stdout they find at import: writing
    # it is part of a request's cost, but the lines are no part of the report.
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        results = measure()
    within = report_calls(results)
    print()
    report_times(results)
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
