"""Fixtures of the OAuth flow tests: an app and a resource server, both registered clients."""

import pytest

from tests.functional.token_flows import oauth_client


@pytest.fixture
def client(api):
    return oauth_client(api)


@pytest.fixture
def resource_server(api):
    return oauth_client(api, name="Resource server")
