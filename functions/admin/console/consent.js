// The consent page's only script: the form sends one answer. A second click while the first
// answer is on its way makes the browser drop that answer's redirect (which carries the app's
// code) and show the server's refusal of the second. The page works without this file.
"use strict";

const forms = document.querySelectorAll("form.consent-decision");

for (const form of forms) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    // Not `disabled`: a disabled button would drop its own name and value from the answer.
    form.setAttribute("aria-busy", "true");
    for (const button of form.querySelectorAll("button")) {
      button.setAttribute("aria-disabled", "true");
    }
  });
}

// Back from the app, the browser may show this page from its back-forward cache: let the
// form be used again (the server tells the person the request was already answered).
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of forms) {
    delete form.dataset.sent;
    form.removeAttribute("aria-busy");
    for (const button of form.querySelectorAll("button")) button.removeAttribute("aria-disabled");
  }
});
