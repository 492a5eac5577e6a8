"""The admin console's pages, rendered on the server.

Signed out, the console sends the person to sign in and back; a person outside the admin
group gets a page saying so, with a way to sign out. Administrators see the clients and the
URLs to give to them. Creating and changing clients happens through the admin API.
"""

import html

from aws_lambda_powertools.event_handler import Response

from oauth_server import browser
from oauth_server.clients import Client
from oauth_server.config import settings
from oauth_server.http import html_page, redirect
from oauth_server.sessions import Session

CONSOLE_PATH = "/app/admin/oauth-client-apps/"


def sign_in_first() -> Response:
    return redirect(browser.login_url(CONSOLE_PATH))


def sign_out_form(session: Session) -> str:
    token = html.escape(session.csrf_token)
    return ('<form method="post" action="/oauth/v1/logout">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            '<button type="submit">Sign out</button></form>')


def not_an_admin(session: Session) -> Response:
    message = (f"You are signed in as {session.name}, who is not in the "
               f"{settings().admin_group} group. Ask an administrator for access, or sign "
               "out and sign in as someone else.")
    return html_page(403, "Not an administrator", message, extra=sign_out_form(session))


def _cell(value) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def _row(client: Client) -> str:
    uris = "<br>".join(html.escape(uri) for uri in client.redirect_uris)
    cells = [
        _cell(client.name), _cell(client.client_id), _cell(client.client_type),
        f"<td>{uris}</td>", _cell(client.access_token_expiry),
        _cell(client.refresh_token_expiry), _cell("yes" if client.pkce_required else "no"),
        _cell(client.created_at),
    ]
    return f"<tr>{''.join(cells)}</tr>"


def client_list(session: Session, clients: list[Client]) -> Response:
    issuer = html.escape(settings().issuer)
    headings = ["Name", "Client ID", "Type", "Redirect URIs", "Access token expiry (s)",
                "Refresh token expiry (s)", "PKCE required", "Created"]
    table = (
        "<table><thead><tr>"
        + "".join(f'<th scope="col">{h}</th>' for h in headings)
        + "</tr></thead><tbody>"
        + ("".join(_row(c) for c in clients) or '<tr><td colspan="8">No clients yet.</td></tr>')
        + "</tbody></table>"
    )
    urls = (f"<dl><dt>Authorization URL</dt><dd><code>{issuer}/oauth/v1/authorize</code></dd>"
            f"<dt>Token URL</dt><dd><code>{issuer}/oauth/v1/token</code></dd></dl>")
    message = (f"Signed in as {session.name}. Create, edit, rotate and delete clients "
               "through the admin API under /api/v1/oauth-clients.")
    return html_page(200, "OAuth Client Applications", message,
                     extra=urls + table + sign_out_form(session))
