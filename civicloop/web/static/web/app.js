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
