"""The admin console's page and static files (SPEC.md §5), and the stylesheet all pages share."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from local.harness import ISSUER

CONSOLE = "/app/admin/oauth-client-apps/"
STATIC = CONSOLE + "static/"
CONSOLE_DIR = Path(__file__).resolve().parents[2] / "functions" / "admin" / "console"


class PageReader(HTMLParser):
    """The tags of a page, with their attributes, and the text of every script element."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.script_text = ""
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data.strip()

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.tags if "id" in attrs}


# The page --------------------------------------------------------------------------------

def test_console_sends_a_signed_out_person_to_sign_in_and_back(api):
    response = api.anonymous().get(CONSOLE)
    assert response.status == 302
    assert response.headers["Location"] == (
        f"{ISSUER}/oauth/v1/login?return_to=%2Fapp%2Fadmin%2Foauth-client-apps%2F")


def test_console_tells_a_non_admin_so_with_a_way_to_sign_out(api):
    response = api.as_person("bob", is_admin=False).get(CONSOLE)
    assert response.status == 403
    assert "Not an administrator" in response.body
    assert 'action="/oauth/v1/logout"' in response.body
    page = PageReader(response.body)
    assert {"rel": "stylesheet", "href": STATIC + "console.css"} in page.all("link")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [CONSOLE, CONSOLE.rstrip("/")])
def test_console_page_for_an_admin_loads_its_script_and_style_from_files(api, path):
    response = api.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = PageReader(response.body)
    assert [s["src"] for s in page.all("script")] == [STATIC + "console.js"]
    assert page.all("script")[0]["type"] == "module"
    assert page.script_text == ""
    assert STATIC + "console.css" in [link["href"] for link in page.all("link")]
    assert not page.all("style") and not any("style" in attrs for _, attrs in page.tags)
    assert not re.search(r"\son[a-z]+=", response.body)  # no inline event handlers


def test_console_page_is_told_the_issuer_and_where_to_sign_in(api):
    body = PageReader(api.get(CONSOLE).body).all("body")[0]
    assert body["data-issuer"] == ISSUER
    assert body["data-login-url"].startswith(f"{ISSUER}/oauth/v1/login?return_to=")
    assert "{{" not in api.get(CONSOLE).body


def test_console_page_has_the_security_headers(api):
    headers = api.get(CONSOLE).headers
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_console_page_loads_nothing_from_another_origin(api):
    page = PageReader(api.get(CONSOLE).body)
    urls = [attrs.get(name, "") for _, attrs in page.tags for name in ("src", "href")]
    assert all(not url or url.startswith(("/", "#")) for url in urls)


def test_every_input_of_the_console_has_a_label():
    page = PageReader((CONSOLE_DIR / "index.html").read_text())
    labelled = {attrs["for"] for attrs in page.all("label")}
    inputs = [a for tag in ("input", "select", "textarea") for a in page.all(tag)
              if a.get("type") != "hidden"]
    assert inputs and all(attrs["id"] in labelled for attrs in inputs)


def test_every_element_the_script_looks_up_is_on_the_page():
    script = (CONSOLE_DIR / "console.js").read_text()
    wanted = set(re.findall(r'\$\("([a-z-]+)"\)', script))
    wanted |= set(re.findall(r'input: "([a-z-]+)"', script))
    page = PageReader((CONSOLE_DIR / "index.html").read_text())
    assert wanted and wanted <= page.ids()


# Static files ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, content_type", [
    ("console.css", "text/css; charset=utf-8"),
    ("console.js", "text/javascript; charset=utf-8"),
    ("consent.js", "text/javascript; charset=utf-8"),
    ("icon.svg", "image/svg+xml"),
])
def test_static_files_are_served_with_their_type_and_headers(front, name, content_type):
    response = front.get(STATIC + name)  # no session needed: sign-in pages use them
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.body == (CONSOLE_DIR / name).read_text()


def test_static_file_unchanged_since_last_time_is_304(front):
    etag = front.get(STATIC + "console.js").headers["ETag"]
    response = front.get(STATIC + "console.js", headers={"If-None-Match": etag})
    assert response.status == 304 and response.body == ""
    other = front.get(STATIC + "console.js", headers={"If-None-Match": '"other"'})
    assert other.status == 200


@pytest.mark.parametrize("path", [
    STATIC + "../admin_handler.py",
    STATIC + "%2e%2e/admin_handler.py",
    STATIC + "..%2fadmin_handler.py",
    STATIC + "%2e%2e%2f%2e%2e%2fadmin_handler.py",
    STATIC + "..",
    STATIC + "admin_handler.py",
    STATIC + "index.html",
    STATIC + "console.js.map",
    STATIC,
    CONSOLE + "../admin/oauth-client-apps/static/console.css",
    CONSOLE + "elsewhere",
])
def test_nothing_else_is_served(front, path):
    response = front.get(path)
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "lambda_handler" not in response.body


# The shared look -------------------------------------------------------------------------

def test_signed_out_page_uses_the_console_stylesheet(front):
    page = PageReader(front.get("/oauth/v1/logout").body)
    hrefs = [link["href"] for link in page.all("link") if link.get("rel") == "stylesheet"]
    assert hrefs == [STATIC + "console.css"]
    assert front.get(hrefs[0]).status == 200
