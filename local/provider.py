"""The upstream OpenID Connect provider people sign in with locally: oidc-provider-mock.

It accepts any client id, client secret and redirect URI, and shows a form asking for the
subject to sign in as. The subject ADMIN_SUBJECT is made a member of the admin group; any
other subject signs in as an ordinary person.
"""

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ADMIN_SUBJECT = "admin"
ADMIN_CLAIMS = {"groups": ["oauth-admins"], "name": "Admin", "email": "admin@example.com"}
START_TIMEOUT_S = 20


class ProviderError(Exception):
    """The mock provider did not start."""


def _check_port_free(port: int) -> None:
    # Otherwise whatever holds the port would answer the readiness check in its place.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the provider binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ProviderError(f"port {port} is in use; stop what holds it, or choose another"
                                " port for the provider") from None


class Provider:
    def __init__(self, port: int = 9400, quiet: bool = False):
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self._quiet = quiet
        self._process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        """Starts the provider, waits until it answers, and registers the administrator."""
        _check_port_free(self.port)
        # Quietly, its log goes to a file that is shown only if it fails to start.
        self._log = tempfile.TemporaryFile() if self._quiet else None
        self._process = subprocess.Popen(
            [str(Path(sys.executable).parent / "oidc-provider-mock"), "--port", str(self.port)],
            stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL)
        self._wait_until_ready()
        answer = requests.put(f"{self.issuer}/users/{ADMIN_SUBJECT}", json=ADMIN_CLAIMS,
                              timeout=5)
        answer.raise_for_status()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProviderError(f"oidc-provider-mock exited ({self._process.returncode})"
                                    f" on port {self.port}{self._log_text()}")
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise ProviderError(f"oidc-provider-mock did not answer on port {self.port} within "
                            f"{START_TIMEOUT_S} s{self._log_text()}")

    def _log_text(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return ":\n" + self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()
        self._process = self._log = None
