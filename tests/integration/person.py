"""A person at a browser, over real HTTP: reads forms the way a browser submits them."""

from urllib.parse import urljoin

import requests

from local.harness import Form, forms


def submit(browser: requests.Session, page: requests.Response, form: Form,
           extra: dict | None = None, follow: bool = True) -> requests.Response:
    """Submit `form` of `page` as a browser would, with `extra` typed into it."""
    data = {**form.fields, **(extra or {})}
    return browser.post(urljoin(page.url, form.action), data=data, allow_redirects=follow)


def sign_in_at_provider(browser: requests.Session, page: requests.Response,
                        subject: str, follow: bool = True) -> requests.Response:
    """On the provider's login form (it asks for the subject), sign in as `subject`."""
    form = next(f for f in forms(page.text) if "sub" in f.fields)
    return submit(browser, page, form, {"sub": subject}, follow=follow)


def signed_in_admin(stack) -> requests.Session:
    """An administrator's script: signed in as `admin`, with the session's CSRF header."""
    session = requests.Session()
    page = session.get(f"{stack.issuer}/oauth/v1/login", params={"return_to": "/api/v1/session"})
    sign_in_at_provider(session, page, "admin")
    csrf = session.get(f"{stack.admin_api_url}/session").json()["csrf_token"]
    session.headers["X-CSRF-Token"] = csrf
    return session
