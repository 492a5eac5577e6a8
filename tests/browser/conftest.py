"""A real browser against `python -m local`: the system's Chromium, driven by Playwright.

Chromium comes from the system (Debian's `chromium` package, which .ci/run installs), since
`playwright install` downloads its own; CHROMIUM_PATH names another. Without a browser these
tests are skipped on a developer's machine, but fail under CI: a green CI run must mean that
they ran.

Each test gets a fresh browser context (no cookies), a screenshot of each step under
test-artifacts/screenshots/<test>/, and a record of every request the browser made.
"""

import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect, sync_playwright


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
STEP_TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """The browser's path; checked before any stack starts."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing = f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH"
        if under_ci():
            pytest.fail(f"{missing} (CI is set, so the browser tests may not be skipped)",
                        pytrace=False)
        pytest.skip(missing)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium):
    # A worker process's first request is a cold start: allow for a slow machine.
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def register(stack, admin_api):
    """Registers a confidential client through the admin API; returns the function."""
    def register(redirect_uri: str, **fields) -> dict:
        response = admin_api.post(f"{stack.admin_api_url}/oauth-clients", json={
            "name": f"Browser app {secrets.token_hex(3)}", "client_type": "confidential",
            "redirect_uris": [redirect_uri], **fields,
        })
        assert response.status_code == 201, response.text
        return response.json()
    return register


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Sent:
    """A request the browser made, and the page it was on when it made it."""
    method: str
    url: str
    document: str
    navigation: bool


class Person:
    """A person at the browser: one page, screenshots of each step, every request made."""

    def __init__(self, page: Page, stack, folder: Path):
        self.page = page
        self.stack = stack
        self.sent: list[Sent] = []
        self._folder = folder
        self._steps = 0
        page.context.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.sent.append(Sent(request.method, request.url, request.frame.url,
                              request.is_navigation_request()))

    def shot(self, step: str) -> Path:
        """What the person sees (the viewport), named after the step, numbered in order.

        Not the full page: a modal dialog's backdrop covers only the viewport.
        """
        self._steps += 1
        path = self._folder / f"{self._steps:02d}-{step}.png"
        self.page.screenshot(path=path)
        return path

    def sign_in(self, subject: str) -> None:
        """At the provider's form, sign in as `subject`; returns once back on the server."""
        provider = self.stack.provider_issuer
        expect(self.page).to_have_url(re.compile(f"^{re.escape(provider)}/"))
        self.page.locator('input[name="sub"]').fill(subject)
        self.shot(f"provider-form-{subject}")
        self.page.get_by_role("button", name="Authorize", exact=True).click()
        self.page.wait_for_url(lambda url: not url.startswith(provider))

    def strays(self, also: tuple[str, ...] = ()) -> list[str]:
        """Requests that left the server's origin, the provider's and those of `also` aside.

        The provider's own pages may load what they like (the mock's stylesheet comes from a
        CDN): that is the identity provider's business, not this server's.
        """
        home = {origin(self.stack.issuer), origin(self.stack.provider_issuer)}
        home |= {origin(url) for url in also}
        provider = origin(self.stack.provider_issuer)
        return [s.url for s in self.sent if origin(s.url) not in home
                and (s.navigation or origin(s.document) != provider)]


def _off_this_machine(url: str) -> bool:
    return urlsplit(url).hostname not in LOOPBACK_HOSTS


@pytest.fixture
def person(browser, stack, request) -> Person:
    # The console's Copy buttons write to the clipboard; the tests read it back.
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"],
                                  viewport=VIEWPORT)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    # Recorded all the same, but never fetched: the tests do not depend on the network.
    context.route(_off_this_machine, lambda route: route.abort())
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    yield Person(context.new_page(), stack, folder)
    context.close()


class LoopbackApp(ThreadingHTTPServer):
    """A native app's loopback listener (RFC 8252 §7.3): records the URLs it is sent to."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _AppHandler)
        self.received: list[str] = []

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/callback"


class _AppHandler(BaseHTTPRequestHandler):
    PAGE = (b"<!doctype html><title>Example app</title><h1>Example app</h1>"
            b"<p>The authorization server answered. You may close this window.</p>")

    def do_GET(self):
        self.server.received.append(f"http://127.0.0.1:{self.server.server_port}{self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def app():
    server = LoopbackApp()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
