// Reading time: while the page is visible, report the seconds spent every few seconds
// (POST /api/v1/bulletins/items/<id>/reading); the finish form carries what is unsent.
(function () {
  "use strict";
  var box = document.querySelector("[data-reading]");
  if (!box) return;
  var url = box.getAttribute("data-reading");
  var every = parseInt(box.getAttribute("data-every") || "15", 10) * 1000;
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var token = tokenInput ? tokenInput.value : "";
  var pending = 0;
  var last = Date.now();
  var secondsInput = document.querySelector("input[name=seconds]");
  function tick() {
    var now = Date.now();
    if (document.visibilityState === "visible") pending += (now - last) / 1000;
    last = now;
    if (secondsInput) secondsInput.value = String(Math.round(pending));
  }
  function send() {
    tick();
    var seconds = Math.round(pending);
    if (seconds <= 0) return;
    pending -= seconds;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ event: "heartbeat", seconds: seconds })
    }).catch(function () { pending += seconds; });
  }
  setInterval(tick, 1000);
  setInterval(send, every);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(); else last = Date.now();
  });
})();
