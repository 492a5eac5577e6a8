// The admin console (SPEC.md §5): everything it shows and changes goes through the admin
// JSON API (SPEC.md §4). The page's CSP allows no inline script, so this file is the script.

const API = "/api/v1";
const page = document.body.dataset;  // data-issuer and data-login-url, set by the server
const $ = (id) => document.getElementById(id);

const state = {
  csrf: "",
  clients: [],
  editing: null,       // the client the form edits; null when it creates one
  presetName: "",      // the name the last preset filled in, replaced by the next preset
  confirmRun: null,    // what the confirm dialog's button does
};

// Platforms whose redirect URIs are known; LibreChat's depends on its domain and server name.
const PRESETS = {
  vscode: { name: "VS Code", uris: ["https://vscode.dev/redirect"] },
  claude: {
    name: "Claude",
    uris: ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"],
  },
  chatgpt: { name: "ChatGPT", uris: ["https://chatgpt.com/connector_platform_oauth_redirect"] },
  cursor: { name: "Cursor", uris: ["cursor://anysphere.cursor-mcp/oauth/callback"] },
  librechat: { name: "LibreChat", uris: null },
};

// The form's inputs by API field, with the words an error message follows.
const FIELDS = {
  name: { input: "client-name", label: "Name" },
  client_type: { input: "client-type-field", label: "Client type" },
  redirect_uris: { input: "client-redirect-uris", label: "Redirect URIs" },
  access_token_expiry: { input: "client-access-expiry", label: "Access token expiry" },
  refresh_token_expiry: { input: "client-refresh-expiry", label: "Refresh token expiry" },
  pkce_required: { input: "client-pkce", label: "PKCE" },
};

const BUSY_MESSAGE = "The service is busy. Try again in a moment.";

// The API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(status === 503 ? BUSY_MESSAGE : body.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body.error || "";
    this.details = Array.isArray(body.details) ? body.details : [];
  }
}

async function api(method, path, body, retried = false) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(API + path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "The server could not be reached. Check the connection "
      + "and try again." });
  }
  if (response.status === 401) {
    signInAgain();
    throw new ApiError(401, { error: "unauthorized", message: "Your session has ended." });
  }
  const payload = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (response.ok) return payload;

  const error = new ApiError(response.status, payload);
  if (error.code === "forbidden") location.reload();  // no longer an admin: the server says so
  if (error.code === "csrf_failed" && !retried) {
    // The session was renewed in another tab: take its token and send once more.
    await loadSession();
    return api(method, path, body, true);
  }
  throw error;
}

function signInAgain() {
  location.assign(page.loginUrl);
}

async function loadSession() {
  const session = await api("GET", "/session");
  state.csrf = session.csrf_token;
  $("sign-out-csrf").value = session.csrf_token;
  const who = session.user.name || session.user.email || session.user.sub;
  $("signed-in-as").textContent = `Signed in as ${who}`;
  return session;
}

async function loadClients() {
  const table = document.querySelector("table.clients");
  table.setAttribute("aria-busy", "true");
  try {
    state.clients = (await api("GET", "/oauth-clients")).items;
    renderClients();
  } finally {
    table.setAttribute("aria-busy", "false");
  }
}

// Small helpers -----------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "className") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value != null) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function announce(message) {
  const region = $("announcer");
  region.textContent = "";
  // A fresh text node after a tick is announced again even when it repeats the last one.
  setTimeout(() => { region.textContent = message; }, 50);
}

function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function formatDuration(seconds) {
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  const [unit, size] = units.find(([, size]) => seconds % size === 0) || ["second", 1];
  const format = new Intl.NumberFormat(undefined, { style: "unit", unit, unitDisplay: "long" });
  return format.format(seconds / size);
}

function showPageError(error) {
  if (error.status === 401) return;  // already on the way to sign in
  const box = $("page-error");
  box.textContent = error.message;
  box.hidden = false;
}

function hidePageError() {
  $("page-error").hidden = true;
}

// The list --------------------------------------------------------------------------------

function renderClients() {
  const rows = $("client-rows");
  rows.replaceChildren();
  if (state.clients.length === 0) {
    rows.append(el("tr", { className: "placeholder" },
      el("td", { colspan: "7" }, "No applications yet. Choose Create to add one.")));
    return;
  }
  for (const client of state.clients) rows.append(clientRow(client));
}

function clientRow(client) {
  const uris = el("ul", {},
    ...client.redirect_uris.map((uri) => el("li", {}, el("code", {}, uri))));
  const lifetimes = el("span", {},
    el("span", { title: `${client.access_token_expiry} seconds` },
      `Access: ${formatDuration(client.access_token_expiry)}`),
    el("br"),
    el("span", { title: `${client.refresh_token_expiry} seconds` },
      `Refresh: ${formatDuration(client.refresh_token_expiry)}`));
  const type = client.client_type === "public" ? "Public" : "Confidential";
  return el("tr", { "data-client-id": client.client_id },
    el("td", { "data-label": "Name" },
      el("span", { className: "client-name" }, client.name),
      el("code", { className: "client-id" }, client.client_id)),
    el("td", { "data-label": "Type" }, el("span", { className: "badge" }, type)),
    el("td", { "data-label": "Redirect URIs" }, uris),
    el("td", { "data-label": "Token lifetimes" }, lifetimes),
    el("td", { "data-label": "PKCE" }, client.pkce_required ? "Required" : "Optional"),
    el("td", { "data-label": "Created" },
      el("time", { datetime: client.created_at }, formatDate(client.created_at))),
    el("td", { className: "cell-actions" }, rowMenu(client)));
}

// The row menu (WAI-ARIA menu button pattern) -------------------------------------------------

let openMenu = null;

function rowMenu(client) {
  const menuId = `menu-${client.client_id}`;
  const button = el("button", {
    type: "button", className: "menu-button", "aria-haspopup": "menu",
    "aria-expanded": "false", "aria-controls": menuId, "aria-label": `Actions for ${client.name}`,
  }, "…");
  const item = (text, options = {}) => el("li", { role: "none" }, el("button", {
    type: "button", role: "menuitem", tabindex: "-1", className: options.className,
    "aria-disabled": options.disabled ? "true" : null, title: options.title,
  }, text));
  const isPublic = client.client_type === "public";
  const actions = [
    ["View / Edit", () => openEditForm(client.client_id, button)],
    ["Rotate Secret", () => confirmRotate(client, button),
      { disabled: isPublic, title: isPublic ? "Public clients have no secret." : null }],
    ["Delete", () => confirmDelete(client, button), { className: "danger" }],
  ];
  const menu = el("ul", { role: "menu", id: menuId, className: "menu", hidden: true,
    "aria-label": `Actions for ${client.name}` },
    ...actions.map(([text, , options]) => item(text, options)));
  const items = [...menu.querySelectorAll('[role="menuitem"]')];

  items.forEach((menuItem, index) => {
    const [, run, options = {}] = actions[index];
    menuItem.addEventListener("click", () => {
      if (options.disabled) return;
      closeMenu(true);
      run();
    });
  });
  button.addEventListener("click", () => {
    if (openMenu && openMenu.button === button) closeMenu(true);
    else showMenu(button, menu, items, 0);
  });
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      showMenu(button, menu, items, event.key === "ArrowDown" ? 0 : items.length - 1);
    }
  });
  menu.addEventListener("keydown", (event) => menuKey(event, items));
  return el("div", { className: "menu-wrap" }, button, menu);
}

function showMenu(button, menu, items, focusIndex) {
  closeMenu(false);
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  openMenu = { button, menu };
  items[focusIndex].focus();
}

function closeMenu(returnFocus) {
  if (!openMenu) return;
  const { button, menu } = openMenu;
  openMenu = null;
  menu.hidden = true;
  button.setAttribute("aria-expanded", "false");
  if (returnFocus) button.focus();
}

function menuKey(event, items) {
  const index = items.indexOf(document.activeElement);
  const moves = {
    ArrowDown: (index + 1) % items.length,
    ArrowUp: (index - 1 + items.length) % items.length,
    Home: 0,
    End: items.length - 1,
  };
  if (event.key in moves) {
    event.preventDefault();
    items[moves[event.key]].focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeMenu(true);
  } else if (event.key === "Tab") {
    closeMenu(false);
  }
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.menu.parentNode.contains(event.target)) closeMenu(false);
});

// Dialogs ---------------------------------------------------------------------------------

function openDialog(dialog, opener) {
  dialog.returnFocusTo = opener;
  dialog.showModal();
}

function wireDialog(dialog) {
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) dialog.close();
  });
  dialog.addEventListener("close", () => {
    const opener = dialog.returnFocusTo;
    dialog.returnFocusTo = null;
    if (document.querySelector("dialog[open]")) return;  // another dialog took over
    if (opener && opener.isConnected) opener.focus();
    else $("create-button").focus();
  });
}

// Create and edit ---------------------------------------------------------------------------

const form = () => $("client-form");

function resetForm() {
  form().reset();
  clearErrors();
  state.presetName = "";
  $("librechat-fields").hidden = true;
  $("client-type-confidential").disabled = false;
  $("client-type-public").disabled = false;
  syncPkce();
}

function openCreateForm() {
  resetForm();
  state.editing = null;
  $("client-dialog-title").textContent = "Create application";
  $("client-submit").textContent = "Continue";
  $("preset-field").hidden = false;
  $("client-facts").hidden = true;
  openDialog($("client-dialog"), $("create-button"));
  $("client-preset").focus();
}

async function openEditForm(clientId, opener) {
  hidePageError();
  let client;
  try {
    client = await api("GET", `/oauth-clients/${encodeURIComponent(clientId)}`);
  } catch (error) {
    showPageError(error);
    if (error.status === 404) loadClients().catch(showPageError);
    return;
  }
  resetForm();
  state.editing = client;
  $("client-dialog-title").textContent = `Edit ${client.name}`;
  $("client-submit").textContent = "Save";
  $("preset-field").hidden = true;
  $("client-facts").hidden = false;
  $("client-facts-id").textContent = client.client_id;
  $("client-facts-created").textContent = formatDate(client.created_at);
  $("client-facts-updated").textContent = formatDate(client.updated_at);
  fillForm(client);
  openDialog($("client-dialog"), opener);
  $("client-name").focus();
}

function fillForm(client) {
  $("client-name").value = client.name;
  $(`client-type-${client.client_type}`).checked = true;
  $("client-type-confidential").disabled = true;  // fixed at creation
  $("client-type-public").disabled = true;
  $("client-redirect-uris").value = client.redirect_uris.join("\n");
  $("client-access-expiry").value = client.access_token_expiry;
  $("client-refresh-expiry").value = client.refresh_token_expiry;
  $("client-pkce").checked = client.pkce_required;
  syncPkce();
}

function clientType() {
  return $("client-type-public").checked ? "public" : "confidential";
}

function syncPkce() {
  // A public client cannot keep a secret, so PKCE is what binds its codes (SPEC.md §4).
  const pkce = $("client-pkce");
  if (clientType() === "public") {
    pkce.checked = true;
    pkce.disabled = true;
  } else {
    pkce.disabled = false;
  }
}

function applyPreset() {
  const key = $("client-preset").value;
  $("librechat-fields").hidden = key !== "librechat";
  const preset = PRESETS[key];
  if (!preset) return;
  const name = $("client-name");
  if (!name.value.trim() || name.value === state.presetName) {
    name.value = preset.name;
    state.presetName = preset.name;
  }
  if (preset.uris) {
    $("client-redirect-uris").value = preset.uris.join("\n");
    announce(`Redirect URIs filled in for ${preset.name}.`);
  } else {
    buildLibreChatUri();
  }
}

function buildLibreChatUri() {
  const domain = $("librechat-domain").value.trim()
    .replace(/^https?:\/\//i, "").replace(/\/+$/, "");
  const server = $("librechat-server").value.trim();
  if (!domain || !server) return;
  const uri = `https://${domain}/api/mcp/${encodeURIComponent(server)}/oauth/callback`;
  $("client-redirect-uris").value = uri;
}

function readSeconds(id, problems, field) {
  const raw = $(id).value.trim();
  if (raw === "") {
    problems.push({ field, message: "needs a number of seconds" });
    return undefined;
  }
  return Number(raw);
}

// The non-blank lines of the Redirect URIs box, each with its line number as the person sees it.
function uriLines() {
  return $("client-redirect-uris").value.split("\n")
    .map((line, index) => [index + 1, line.trim()])
    .filter(([, uri]) => uri);
}

function readForm() {
  const problems = [];
  const values = {
    name: $("client-name").value.trim(),
    client_type: clientType(),
    redirect_uris: uriLines().map(([, uri]) => uri),
    access_token_expiry: readSeconds("client-access-expiry", problems, "access_token_expiry"),
    refresh_token_expiry: readSeconds("client-refresh-expiry", problems,
      "refresh_token_expiry"),
    pkce_required: $("client-pkce").checked,
  };
  return { values, problems };
}

function changedFields(values, client) {
  const changes = {};
  for (const field of ["name", "access_token_expiry", "refresh_token_expiry",
    "pkce_required"]) {
    if (values[field] !== client[field]) changes[field] = values[field];
  }
  if (values.redirect_uris.join("\n") !== client.redirect_uris.join("\n")) {
    changes.redirect_uris = values.redirect_uris;
  }
  return changes;
}

async function submitClient(event) {
  event.preventDefault();
  clearErrors();
  const { values, problems } = readForm();
  if (problems.length) {
    showErrors(problems, "");
    return;
  }
  const submit = $("client-submit");
  submit.disabled = true;
  try {
    if (state.editing) await saveChanges(values);
    else await createClient(values);
  } catch (error) {
    if (error.status !== 401) showErrors(error.details, error.message);
  } finally {
    submit.disabled = false;
  }
}

async function createClient(values) {
  const created = await api("POST", "/oauth-clients", values);
  const { client_secret: secret, ...client } = created;
  state.clients.unshift(client);
  renderClients();
  $("client-dialog").close();
  showCredentials(client, secret, "created", $("create-button"));
}

async function saveChanges(values) {
  const client = state.editing;
  delete values.client_type;
  const changes = changedFields(values, client);
  if (Object.keys(changes).length === 0) {
    $("client-dialog").close();
    announce("Nothing was changed.");
    return;
  }
  const path = `/oauth-clients/${encodeURIComponent(client.client_id)}`;
  const updated = await api("PATCH", path, changes);
  state.clients = state.clients.map((c) => (c.client_id === updated.client_id ? updated : c));
  renderClients();
  const dialog = $("client-dialog");
  dialog.returnFocusTo = rowButton(updated.client_id) || dialog.returnFocusTo;
  $("client-dialog").close();
  announce(`Saved ${updated.name}.`);
}

function rowButton(clientId) {
  const row = [...$("client-rows").rows].find((r) => r.dataset.clientId === clientId);
  return row ? row.querySelector(".menu-button") : null;
}

// Field errors: next to their input, tied to it with aria-describedby and aria-invalid.

function clearErrors() {
  for (const node of form().querySelectorAll(".field-error")) node.remove();
  for (const node of form().querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
  }
  for (const node of form().querySelectorAll("[data-describedby]")) {
    node.setAttribute("aria-describedby", node.dataset.describedby);
  }
  $("client-form-error").hidden = true;
}

function showErrors(details, message) {
  const byField = new Map();
  const unplaced = [];
  for (const { field = "", message: text = "" } of details) {
    const [, base, index] = /^([a-z_]+)(?:\[(\d+)\])?/.exec(field) || [];
    const target = FIELDS[base];
    if (!target) {
      unplaced.push(`${field} ${text}`.trim());
      continue;
    }
    const line = index === undefined ? null : (uriLines()[Number(index)] || [])[0];
    const subject = index === undefined ? target.label
      : `Redirect URI on line ${line || Number(index) + 1}`;
    const list = byField.get(base) || [];
    list.push(`${subject} ${text}.`.replace(/\.\.$/, "."));
    byField.set(base, list);
  }
  let first = null;
  const inFormOrder = Object.keys(FIELDS).filter((field) => byField.has(field));
  for (const field of inFormOrder) {
    const texts = byField.get(field);
    const input = $(FIELDS[field].input);
    const error = el("p", { className: "field-error", id: `${input.id}-error` },
      texts.join(" "));
    (input.tagName === "FIELDSET" ? input : input.closest(".field")).append(error);
    if (!input.dataset.describedby) {
      input.dataset.describedby = input.getAttribute("aria-describedby") || "";
    }
    input.setAttribute("aria-describedby", `${error.id} ${input.dataset.describedby}`.trim());
    if (input.tagName !== "FIELDSET") input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  const box = $("client-form-error");
  if (unplaced.length || !first) {
    box.textContent = [first ? "" : message, ...unplaced].filter(Boolean).join(" ");
    box.hidden = false;
  }
  if (first) (first.tagName === "FIELDSET" ? first.querySelector("input") : first).focus();
}

// Credentials, rotation and deletion --------------------------------------------------------

function showCredentials(client, secret, reason, opener) {
  const created = reason === "created";
  $("secret-dialog-title").textContent = created ? "Application created" : "New client secret";
  $("secret-dialog-intro").textContent = created
    ? `${client.name} is ready. Give the application these credentials.`
    : `${client.name} has a new client secret. The previous one no longer works.`;
  $("secret-client-id").textContent = client.client_id;
  $("secret-client-secret").textContent = secret || "";
  $("secret-row").hidden = !secret;
  $("secret-warning").hidden = !secret;
  if (!secret) {
    $("secret-dialog-intro").textContent += " A public client has no secret: it uses PKCE.";
  }
  openDialog($("secret-dialog"), opener);
}

function confirmAction({ title, message, action, opener, run }) {
  $("confirm-dialog-title").textContent = title;
  $("confirm-dialog-message").textContent = message;
  $("confirm-ok").textContent = action;
  $("confirm-dialog-error").hidden = true;
  state.confirmRun = run;
  openDialog($("confirm-dialog"), opener);
  $("confirm-cancel").focus();
}

async function submitConfirm(event) {
  event.preventDefault();
  const button = $("confirm-ok");
  button.disabled = true;
  try {
    await state.confirmRun();
  } catch (error) {
    if (error.status !== 401) {
      $("confirm-dialog-error").textContent = error.message;
      $("confirm-dialog-error").hidden = false;
    }
  } finally {
    button.disabled = false;
  }
}

function confirmRotate(client, opener) {
  confirmAction({
    title: `Rotate the secret of ${client.name}?`,
    message: "The current client secret stops working at once. The application fails to "
      + "get tokens until it is given the new one.",
    action: "Rotate Secret",
    opener,
    run: async () => {
      const path = `/oauth-clients/${encodeURIComponent(client.client_id)}/rotate-secret`;
      const rotated = await api("POST", path);
      $("confirm-dialog").close();
      showCredentials(client, rotated.client_secret, "rotated", opener);
    },
  });
}

function confirmDelete(client, opener) {
  confirmAction({
    title: `Delete ${client.name}?`,
    message: "The application, its secret and every token it holds are removed at once. "
      + "This cannot be undone.",
    action: "Delete",
    opener,
    run: async () => {
      await api("DELETE", `/oauth-clients/${encodeURIComponent(client.client_id)}`);
      const index = state.clients.findIndex((c) => c.client_id === client.client_id);
      state.clients = state.clients.filter((c) => c.client_id !== client.client_id);
      renderClients();
      const next = state.clients[Math.min(index, state.clients.length - 1)];
      $("confirm-dialog").returnFocusTo = next ? rowButton(next.client_id) : $("create-button");
      $("confirm-dialog").close();
      announce(`Deleted ${client.name}.`);
    },
  });
}

// Copy ------------------------------------------------------------------------------------

async function copyFrom(button) {
  const source = $(button.dataset.copyFrom);
  try {
    await navigator.clipboard.writeText(source.textContent);
  } catch {
    // No clipboard access (an old browser, or permission refused): select it for the person.
    getSelection().selectAllChildren(source);
    announce("Selected: press Control+C or Command+C to copy.");
    return;
  }
  announce("Copied");
  const text = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = text; }, 1500);
}

// Start -----------------------------------------------------------------------------------

function wire() {
  $("authorization-url").textContent = `${page.issuer}/oauth/v1/authorize`;
  $("token-url").textContent = `${page.issuer}/oauth/v1/token`;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-from]");
    if (button) copyFrom(button);
  });
  for (const id of ["client-dialog", "secret-dialog", "confirm-dialog"]) wireDialog($(id));
  // A secret is shown once: once its dialog closes, it is gone from the page too.
  $("secret-dialog").addEventListener("close", () => {
    $("secret-client-secret").textContent = "";
  });
  $("create-button").addEventListener("click", openCreateForm);
  $("client-form").addEventListener("submit", submitClient);
  $("confirm-dialog").querySelector("form").addEventListener("submit", submitConfirm);
  $("client-preset").addEventListener("change", applyPreset);
  $("librechat-domain").addEventListener("input", buildLibreChatUri);
  $("librechat-server").addEventListener("input", buildLibreChatUri);
  for (const radio of document.querySelectorAll('input[name="client_type"]')) {
    radio.addEventListener("change", syncPkce);
  }
}

async function start() {
  wire();
  try {
    const session = await loadSession();
    if (!session.is_admin) {
      location.reload();  // the server renders the page for people who are not admins
      return;
    }
    await loadClients();
  } catch (error) {
    showPageError(error);
  }
}

start();
