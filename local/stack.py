"""Starts and stops the whole local stack in this process, or in a child process.

start() brings up, in order: moto, the template's tables and secrets in it, the mock OpenID
Connect provider, the functions' environment, and the gateway. Each function runs in worker
processes started on demand (local.environments), which inherit that environment. A failure at
any step stops what was already started, and stop() undoes everything, worker processes and
os.environ included, so tests can start and stop stacks one after another.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import boto3
import requests

from local.aws import MotoServer
from local.cfn_yaml import load_template
from local.environments import PooledFunction
from local.functions import functions_from_template
from local.gateway import Gateway, GatewayServer
from local.provider import Provider
from local.resources import (REGION, create_secrets, create_tables, function_environment,
                             local_resolver)
from local.routes import RouteTable

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
UPSTREAM_CLIENT_ID = "oauth-server-local"
CONCURRENCY = 10  # execution environments per function: enough for a race, few for 2 cores

# Variables that would point a handler at real AWS, or at another endpoint, instead of moto.
_AWS_VARIABLES_DROPPED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                          "AWS_SECURITY_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")


class Stack:
    """A running local stack; the URLs and names tests and developers need."""

    def __init__(self, template: Mapping, settings: Mapping[str, str], quiet: bool,
                 concurrency: int):
        self.template = template
        self.resolver = local_resolver(template, settings)  # refuses bad settings first
        functions = functions_from_template(template, self.resolver, ROOT)
        self.functions = {i: PooledFunction(f, concurrency) for i, f in functions.items()}
        self.gateway = Gateway(RouteTable.from_template(template, self.resolver),
                               self.functions, quiet=quiet)
        self.tables: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self._quiet = quiet
        self._saved_environ = dict(os.environ)
        self._moto: MotoServer | None = None
        self._provider: Provider | None = None
        self._server: GatewayServer | None = None

    @property
    def issuer(self) -> str:
        return self._server.url

    @property
    def console_url(self) -> str:
        return f"{self.issuer}/app/admin/oauth-client-apps/"

    @property
    def admin_api_url(self) -> str:
        return f"{self.issuer}/api/v1"

    @property
    def provider_issuer(self) -> str:
        return self._provider.issuer

    @property
    def endpoint_url(self) -> str:
        return self._moto.endpoint_url

    def _start(self, port: int, provider_port: int, moto_port: int) -> None:
        try:
            self._server = GatewayServer(self.gateway, port=port)  # a port in use fails first
        except OSError as error:
            raise OSError(f"port {port}: {error.strerror}; set PORT to another") from None
        self._start_moto(moto_port)
        self._create_resources()
        self._provider = Provider(provider_port, quiet=self._quiet)
        self._provider.start()
        self.environment = function_environment(self.template, self.resolver, {
            "ISSUER": self.issuer,
            "UPSTREAM_ISSUER": self._provider.issuer,
            "UPSTREAM_CLIENT_ID": UPSTREAM_CLIENT_ID,
        })
        os.environ.update(self.environment)
        self._server.start()

    def _start_moto(self, moto_port: int) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per AWS call
        self._moto = MotoServer(port=moto_port)
        self._moto.start()
        _point_aws_at(self.endpoint_url)

    def _create_resources(self) -> None:
        self.tables = create_tables(boto3.client("dynamodb"), self.template, self.resolver)
        self.secrets = create_secrets(boto3.client("secretsmanager"), self.template,
                                      self.resolver)

    def stop(self) -> None:
        """Stops the gateway, the workers, the provider and moto, and restores os.environ."""
        if self._server is not None:
            self._server.stop()
        for function in self.functions.values():
            function.close()
        if self._provider is not None:
            self._provider.stop()
        if self._moto is not None:
            # moto keeps its state in this process, not in the server: forget it, as a new
            # process would, so that the next stack starts empty.
            requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=5)
            self._moto.stop()
        self._server = self._provider = self._moto = None
        os.environ.clear()
        os.environ.update(self._saved_environ)
        boto3.DEFAULT_SESSION = None

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _point_aws_at(endpoint_url: str) -> None:
    """Sends every boto3 client of this process, the handlers' included, to `endpoint_url`."""
    for name in _AWS_VARIABLES_DROPPED:
        os.environ.pop(name, None)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        del os.environ[name]
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # The developer's own AWS configuration must not leak into the handlers.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })
    boto3.setup_default_session()  # one made earlier would keep the old settings


def start(port: int = 8000, provider_port: int = 9400, moto_port: int = 0,
          settings: Mapping[str, str] | None = None, template_path: Path = TEMPLATE,
          quiet: bool = False, concurrency: int = CONCURRENCY) -> Stack:
    """Starts the stack in this process; port 0 picks a free port (not for the provider).

    `settings` are the developer's settings (default: os.environ), applied as the template's
    parameters would be. Workers inherit os.environ, which the stack changes, so one stack at
    a time. Each function runs in up to `concurrency` worker processes at once.
    """
    stack = Stack(load_template(template_path),
                  os.environ if settings is None else settings, quiet, concurrency)
    try:
        stack._start(port, provider_port, moto_port)
    except BaseException:
        stack.stop()
        raise
    return stack


def free_port() -> int:
    """A port free now (another process may take it before it is used)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChildStack:
    """`python -m local` in a child process: state and handlers apart from the tests."""

    def __init__(self, port: int, provider_port: int, moto_port: int, settings: Mapping):
        self.issuer = f"http://127.0.0.1:{port}"
        self.console_url = f"{self.issuer}/app/admin/oauth-client-apps/"
        self.admin_api_url = f"{self.issuer}/api/v1"
        self.provider_issuer = f"http://127.0.0.1:{provider_port}"
        self.endpoint_url = f"http://127.0.0.1:{moto_port}"
        environ = {**os.environ, **settings, "PORT": str(port),
                   "PROVIDER_PORT": str(provider_port), "MOTO_PORT": str(moto_port)}
        self._process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT,
                                         env=environ, stdin=subprocess.DEVNULL)

    def wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local stack exited ({self._process.returncode})")
            try:
                requests.get(self.issuer, timeout=1)  # any answer, even a 404, means ready
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"the local stack did not answer within {timeout_s} s")

    def stop(self) -> None:
        """Ctrl-C, as a developer would stop it; killed if it does not stop in time."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    def __enter__(self) -> "ChildStack":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def spawn(port: int | None = None, provider_port: int | None = None,
          settings: Mapping[str, str] | None = None, timeout_s: float = 60) -> ChildStack:
    """Starts `python -m local` as a child process on free ports; returns once it answers."""
    child = ChildStack(port or free_port(), provider_port or free_port(), free_port(),
                       settings or {})
    try:
        child.wait_until_ready(timeout_s)
    except BaseException:
        child.stop()
        raise
    return child
