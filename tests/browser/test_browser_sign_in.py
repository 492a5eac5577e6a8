"""Signing in to the console in a real browser: through the provider's form and back."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_console_admin_signs_in_and_lands_on_console(person, stack):
    page = person.page
    page.goto(stack.console_url)
    person.sign_in("admin")

    expect(page).to_have_url(stack.console_url)
    expect(page.get_by_text(f"{stack.issuer}/oauth/v1/authorize", exact=True)).to_be_visible()
    expect(page.get_by_text("Not an administrator")).to_have_count(0)
    expect(page.get_by_text("Loading…")).to_have_count(0)  # the list has arrived
    person.shot("console")
    assert person.strays() == []


def test_console_non_admin_sees_refusal_and_signs_out(person, stack):
    page = person.page
    page.goto(stack.console_url)
    person.sign_in("bob")

    expect(page.get_by_role("heading", name="Not an administrator")).to_be_visible()
    expect(page.get_by_text("bob").first).to_be_visible()
    person.shot("not-an-administrator")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    person.shot("signed-out")

    # The session is gone: the console sends the person to sign in again.
    page.goto(stack.console_url)
    expect(page).to_have_url(re.compile(f"^{re.escape(stack.provider_issuer)}/"))
    person.shot("asked-to-sign-in-again")
    assert person.strays() == []
