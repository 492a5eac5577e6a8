"""Fixtures: moto holding the template's own tables and secrets, the real handlers behind the
local gateway (routed from template.yaml, called in-process), and a real OpenID Connect
provider on a thread. The harness itself lives in local.harness, shared with the benchmarks."""

import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread

from local.harness import (AdminApi, AwsClients, Browser, local_gateway, mocked_aws,
                           record_aws_calls, signed_in_api)
from local.provider import ADMIN_CLAIMS, ADMIN_SUBJECT
from local.stack import spawn
from tests.integration.person import signed_in_admin


@pytest.fixture(scope="session")
def provider():
    """oidc-provider-mock, where `admin` is in the admin group."""
    admin = User(sub=ADMIN_SUBJECT, claims=ADMIN_CLAIMS)
    with run_server_in_thread(port=0, user_claims=[admin]) as server:
        server.issuer = f"http://localhost:{server.server_port}"
        yield server


@pytest.fixture
def aws_clients(monkeypatch, provider) -> AwsClients:
    with mocked_aws(monkeypatch, provider.issuer) as clients:
        yield clients


@pytest.fixture
def aws_calls(aws_clients) -> list[str]:
    """The name of every AWS operation the handlers call from now on, in order."""
    return record_aws_calls()


@pytest.fixture
def gateway(aws_clients):
    return local_gateway(aws_clients.resolver)


@pytest.fixture
def api(gateway) -> AdminApi:
    return signed_in_api(gateway, ADMIN_SUBJECT, is_admin=True, lifetime=600)


@pytest.fixture
def front(gateway) -> Browser:
    return Browser(gateway)


@pytest.fixture(scope="module")
def stack():
    """The whole system as `make run` starts it, in a child process, for one test module."""
    child = spawn(settings={"SCOPES_SUPPORTED": "mcp:read mcp:write"})
    yield child
    child.stop()


@pytest.fixture(scope="module")
def admin_api(stack) -> requests.Session:
    """The admin API, signed in as `admin` over plain HTTP."""
    return signed_in_admin(stack)
