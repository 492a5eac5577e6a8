"""The admin console in a real browser, found the way a person (or a screen reader) finds it:
by the roles and labels of SPEC.md §5."""

import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REDIRECT_URI = "https://app.example.com/oauth/callback"


@pytest.fixture
def console(person, stack):
    """The console, signed in as `admin` and showing its list."""
    person.page.goto(stack.console_url)
    person.sign_in("admin")
    expect(person.page).to_have_url(stack.console_url)
    expect(person.page.get_by_text("Loading…")).to_have_count(0)
    return person.page


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def secret_works(stack, client_id: str, secret: str) -> bool:
    """Whether the client authenticates: introspection answers 200 only to its own secret."""
    answer = requests.post(f"{stack.issuer}/oauth/v1/introspect", data={"token": "oat_x"},
                           auth=(client_id, secret), timeout=10)
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


def client(stack, admin_api, client_id: str) -> requests.Response:
    return admin_api.get(f"{stack.admin_api_url}/oauth-clients/{client_id}")


def row(page, name: str):
    return page.get_by_role("row").filter(has_text=name)


def open_row_menu(page, name: str, item: str) -> None:
    page.get_by_role("button", name=f"Actions for {name}").click()
    page.get_by_role("menuitem", name=item).click()


def test_console_create_confidential_shows_secret_once_with_copy(person, console, stack,
                                                                 admin_api):
    page = console
    page.get_by_role("button", name="Create").click()
    form = page.get_by_role("dialog", name="Create application")
    form.get_by_label("Name", exact=True).fill("Browser-made app")
    client_type = form.get_by_role("group", name="Client Type")
    expect(client_type.get_by_label("Confidential")).to_be_checked()
    form.get_by_label("Redirect URIs").fill(f"{REDIRECT_URI}\nhttp://127.0.0.1/callback")
    form.get_by_label("Access Token Expiry (seconds)").fill("7200")
    expect(form.get_by_label("Refresh Token Expiry (seconds)")).to_have_value("2592000")
    expect(form.get_by_label("PKCE Required")).to_be_checked()
    person.shot("create-form")
    form.get_by_role("button", name="Continue").click()

    created = page.get_by_role("dialog", name="Application created")
    expect(created).to_contain_text("will not be shown again")
    created.get_by_role("button", name="Copy Client ID").click()
    client_id = clipboard(page)
    created.get_by_role("button", name="Copy Client Secret").click()
    secret = clipboard(page)
    expect(created).to_contain_text(client_id)
    expect(created).to_contain_text(secret)
    person.shot("credentials")
    assert secret_works(stack, client_id, secret)

    created.get_by_role("button", name="Done").click()
    expect(created).to_be_hidden()
    expect(row(page, "Browser-made app")).to_contain_text(client_id)
    expect(page.get_by_text(secret)).to_have_count(0)  # gone from the page once closed
    person.shot("listed")
    saved = client(stack, admin_api, client_id).json()
    assert saved["client_type"] == "confidential" and saved["access_token_expiry"] == 7200
    assert saved["redirect_uris"] == [REDIRECT_URI, "http://127.0.0.1/callback"]
    assert person.strays() == []


def test_console_view_edit_saves_changed_expiry(person, console, stack, admin_api, register):
    app = register(REDIRECT_URI)
    console.reload()
    open_row_menu(console, app["name"], "View / Edit")

    form = console.get_by_role("dialog", name=f"Edit {app['name']}")
    expect(form.get_by_label("Name", exact=True)).to_have_value(app["name"])
    expect(form.get_by_label("Redirect URIs")).to_have_value(REDIRECT_URI)
    form.get_by_label("Access Token Expiry (seconds)").fill("10800")
    person.shot("edit-form")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    person.shot("saved")

    assert client(stack, admin_api, app["client_id"]).json()["access_token_expiry"] == 10800
    assert person.strays() == []


def test_console_rotate_secret_after_confirmation(person, console, stack, register):
    app = register(REDIRECT_URI)
    console.reload()
    open_row_menu(console, app["name"], "Rotate Secret")

    confirm = console.get_by_role("alertdialog", name=f"Rotate the secret of {app['name']}?")
    person.shot("confirm-rotate")
    confirm.get_by_role("button", name="Rotate Secret").click()
    rotated = console.get_by_role("dialog", name="New client secret")
    rotated.get_by_role("button", name="Copy Client Secret").click()
    secret = clipboard(console)
    person.shot("new-secret")

    assert secret != app["client_secret"]
    assert secret_works(stack, app["client_id"], secret)
    assert not secret_works(stack, app["client_id"], app["client_secret"])
    assert person.strays() == []


def test_console_delete_after_confirmation(person, console, stack, admin_api, register):
    app = register(REDIRECT_URI)
    console.reload()
    listed = row(console, app["name"])
    expect(listed).to_be_visible()
    open_row_menu(console, app["name"], "Delete")

    confirm = console.get_by_role("alertdialog", name=f"Delete {app['name']}?")
    person.shot("confirm-delete")
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm).to_be_hidden()
    expect(listed).to_have_count(0)
    person.shot("deleted")

    assert client(stack, admin_api, app["client_id"]).status_code == 404
    assert person.strays() == []


def test_console_row_menu_works_with_keyboard(person, console, register):
    app = register(REDIRECT_URI)
    console.reload()
    menu_button = console.get_by_role("button", name=f"Actions for {app['name']}")
    menu_button.focus()

    console.keyboard.press("ArrowDown")
    expect(console.get_by_role("menuitem", name="View / Edit")).to_be_focused()
    console.keyboard.press("ArrowDown")
    expect(console.get_by_role("menuitem", name="Rotate Secret")).to_be_focused()
    person.shot("menu-by-keyboard")
    console.keyboard.press("Enter")

    # A destructive question starts on Cancel; Escape backs out to where the person was.
    confirm = console.get_by_role("alertdialog", name=f"Rotate the secret of {app['name']}?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    person.shot("confirm-by-keyboard")
    console.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(menu_button).to_be_focused()


def test_console_create_public_from_preset_has_no_secret(person, console, stack, admin_api):
    page = console
    page.get_by_role("button", name="Create").click()
    form = page.get_by_role("dialog", name="Create application")
    form.get_by_label("Platform").select_option(label="Cursor")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Cursor")
    expect(form.get_by_label("Redirect URIs")).to_have_value(
        "cursor://anysphere.cursor-mcp/oauth/callback")
    form.get_by_role("group", name="Client Type").get_by_label("Public").check()
    expect(form.get_by_label("PKCE Required")).to_be_checked()
    expect(form.get_by_label("PKCE Required")).to_be_disabled()
    person.shot("public-from-preset")
    form.get_by_role("button", name="Continue").click()

    created = page.get_by_role("dialog", name="Application created")
    expect(created).to_contain_text("A public client has no secret")
    expect(created.get_by_role("button", name="Copy Client Secret")).to_be_hidden()
    created.get_by_role("button", name="Copy Client ID").click()
    person.shot("public-created")
    saved = client(stack, admin_api, clipboard(page)).json()
    assert saved["name"] == "Cursor" and saved["client_type"] == "public"
    assert saved["pkce_required"] is True
    assert person.strays() == []


def test_console_create_refused_uri_shown_at_its_field(person, console):
    page = console
    page.get_by_role("button", name="Create").click()
    form = page.get_by_role("dialog", name="Create application")
    form.get_by_label("Name", exact=True).fill("Plain HTTP app")
    uris = form.get_by_label("Redirect URIs")
    uris.fill(f"{REDIRECT_URI}\nhttp://app.example.com/callback")
    form.get_by_role("button", name="Continue").click()

    # The API's 422 names redirect_uris[1]: the form says which line, tied to the box itself.
    expect(uris).to_have_attribute("aria-invalid", "true")
    expect(uris).to_have_accessible_description(re.compile(r"line 2 .*https"))
    expect(form).to_be_visible()
    person.shot("refused-uri")
    assert person.strays() == []


CLAUDE_CALLBACKS = ["https://claude.ai/api/mcp/auth_callback",
                    "https://claude.com/api/mcp/auth_callback"]


def test_console_create_confidential_through_a_preset(person, console, stack, admin_api):
    page = console
    page.get_by_role("button", name="Create").click()
    form = page.get_by_role("dialog", name="Create application")
    form.get_by_label("Platform").select_option(label="Claude")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Claude")
    expect(form.get_by_label("Redirect URIs")).to_have_value("\n".join(CLAUDE_CALLBACKS))
    expect(form.get_by_role("group", name="Client Type").get_by_label("Confidential")
           ).to_be_checked()
    person.shot("claude-preset")
    form.get_by_role("button", name="Continue").click()

    created = page.get_by_role("dialog", name="Application created")
    expect(created).to_contain_text("will not be shown again")
    client_id = created.locator("#secret-client-id").inner_text()
    secret = created.locator("#secret-client-secret").inner_text()
    assert client_id and secret and client_id != secret
    created.get_by_role("button", name="Copy Client Secret").click()
    expect(page.get_by_role("status")).to_have_text("Copied")
    assert clipboard(page) == secret
    person.shot("secret-copied")
    assert secret_works(stack, client_id, secret)

    saved = client(stack, admin_api, client_id).json()
    assert saved["name"] == "Claude" and saved["client_type"] == "confidential"
    assert saved["redirect_uris"] == CLAUDE_CALLBACKS
    assert person.strays() == []


def test_console_edit_invalid_lifetime_shows_error_then_fix_saves(person, console, stack,
                                                                   admin_api, register):
    app = register(REDIRECT_URI)
    console.reload()
    open_row_menu(console, app["name"], "View / Edit")
    form = console.get_by_role("dialog", name=f"Edit {app['name']}")
    expiry = form.get_by_label("Access Token Expiry (seconds)")
    expect(expiry).to_have_value("3600")
    # The error sits in the field's own box, under its input.
    expiry_field = form.locator(".field").filter(
        has=console.get_by_label("Access Token Expiry (seconds)"))
    bounds = re.compile(r"Access token expiry must be between 3,600 and 259,200 seconds")

    for step, refused in (("too-long", "259201"), ("too-short", "3599")):
        expiry.fill(refused)
        form.get_by_role("button", name="Save").click()
        expect(expiry).to_have_attribute("aria-invalid", "true")
        expect(expiry).to_have_accessible_description(bounds)
        expect(expiry_field).to_contain_text(bounds)
        expect(expiry).to_be_focused()
        expect(form.get_by_label("Refresh Token Expiry (seconds)")).not_to_have_attribute(
            "aria-invalid", "true")
        expect(form).to_be_visible()
        person.shot(f"refused-{step}")
        assert client(stack, admin_api, app["client_id"]).json()["access_token_expiry"] == 3600

    expiry.fill("7200")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(row(console, app["name"]).get_by_title("7200 seconds")).to_have_text("Access: 2 hours")
    person.shot("fixed-and-saved")
    assert client(stack, admin_api, app["client_id"]).json()["access_token_expiry"] == 7200
    assert person.strays() == []


def focused(page) -> str:
    """What has the focus, as its id or, failing that, its tag."""
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def test_console_create_public_client_with_keyboard_alone(person, console, stack, admin_api):
    page = console
    keys = page.keyboard
    name = f"Keyboard app {secrets.token_hex(3)}"
    redirect_uri = "http://127.0.0.1:5555/cb"

    # From the top of the page: the skip link, Sign out, then Create.
    create = page.get_by_role("button", name="Create")
    for _ in range(3):
        keys.press("Tab")
    expect(create).to_be_focused()
    person.shot("create-focused")
    keys.press("Enter")

    form = page.get_by_role("dialog", name="Create application")
    expect(form.get_by_label("Platform")).to_be_focused()
    keys.press("Tab")
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    keys.type(name)
    keys.press("Tab")
    client_type = form.get_by_role("group", name="Client Type")
    expect(client_type.get_by_label("Confidential")).to_be_focused()
    keys.press("ArrowDown")  # arrow keys move within a radio group, and choose
    expect(client_type.get_by_label("Public")).to_be_focused()
    expect(client_type.get_by_label("Public")).to_be_checked()
    keys.press("Tab")
    expect(form.get_by_label("Redirect URIs")).to_be_focused()
    keys.type(redirect_uri)
    # Past the two lifetimes; PKCE Required is fixed for a public client, so not a stop.
    for _ in range(2):
        keys.press("Tab")
    expect(form.get_by_label("Refresh Token Expiry (seconds)")).to_be_focused()
    expect(form.get_by_label("PKCE Required")).to_be_disabled()
    keys.press("Tab")
    expect(form.get_by_role("button", name="Cancel")).to_be_focused()
    keys.press("Tab")
    continue_button = form.get_by_role("button", name="Continue")
    expect(continue_button).to_be_focused()
    assert focused(page) == "client-submit"
    person.shot("form-filled-by-keyboard")
    keys.press("Enter")

    created = page.get_by_role("dialog", name="Application created")
    expect(created).to_contain_text("A public client has no secret")
    expect(created.get_by_role("button", name="Copy Client Secret")).to_be_hidden()
    expect(created.get_by_text("will not be shown again")).to_be_hidden()
    copy_id = created.get_by_role("button", name="Copy Client ID")
    expect(copy_id).to_be_focused()
    keys.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Copied")
    client_id = clipboard(page)
    person.shot("public-created-by-keyboard")

    saved = client(stack, admin_api, client_id).json()
    assert saved["name"] == name and saved["client_type"] == "public"
    assert saved["pkce_required"] is True
    assert saved["redirect_uris"] == [redirect_uri]
    assert "client_secret" not in saved

    keys.press("Tab")
    expect(created.get_by_role("button", name="Done")).to_be_focused()
    keys.press("Enter")
    expect(created).to_be_hidden()
    expect(create).to_be_focused()
    expect(row(page, name)).to_contain_text(client_id)
    person.shot("listed")
    assert person.strays() == []
