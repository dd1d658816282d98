// Disable a form's submit button once it is sent, so a double tap sends one request.
// (The server ignores a repeated idempotency key anyway.)
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  window.setTimeout(function () {
    // A handler that cancelled the submit (a form's own check) keeps the buttons usable.
    if (event.defaultPrevented) return;
    form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = true; });
  }, 0);
});

// The top bar's section menus: one open at a time; a click elsewhere or Escape closes it.
document.addEventListener("toggle", function (event) {
  var menu = event.target;
  if (!(menu instanceof HTMLDetailsElement) || !menu.hasAttribute("data-nav-menu") || !menu.open) return;
  document.querySelectorAll("details[data-nav-menu][open]").forEach(function (other) {
    if (other !== menu) other.open = false;
  });
}, true);
document.addEventListener("click", function (event) {
  document.querySelectorAll("details[data-nav-menu][open]").forEach(function (menu) {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details[data-nav-menu][open]").forEach(function (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});
