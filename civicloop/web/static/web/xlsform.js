// The application form page: live checks through the server's own evaluator, repeat
// rows added from a <template>, the phone's location for a geopoint. Without this
// script the page still works: the server checks everything on submit.
(function () {
  "use strict";
  var form = document.querySelector("form.xf-form");
  if (!form) return;
  document.documentElement.classList.add("xf-js");
  var url = form.getAttribute("data-evaluate");
  var timer = null;
  var sequence = 0;
  var shown = 0;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function wrapperOf(key) {
    var found = null;
    each(form.querySelectorAll("[data-key]"), function (el) {
      if (!found && el.getAttribute("data-key") === key) found = el;
    });
    return found;
  }

  // Inputs of hidden questions are disabled so their answers are not sent (the server
  // drops them anyway); read-only and filtered-out choices stay disabled.
  function syncDisabled() {
    each(form.querySelectorAll("input, select, textarea"), function (input) {
      if (input.type === "hidden" || input.hasAttribute("data-readonly") || input.hasAttribute("data-filtered")) return;
      input.disabled = !!input.closest("[data-irrelevant]");
    });
  }

  function setError(wrapper, message) {
    var p = wrapper.querySelector("[data-error]");
    if (!p || p.closest("[data-key]") !== wrapper) return;
    p.textContent = message || "";
    p.hidden = !message;
    wrapper.classList.toggle("has-error", !!message);
    each(wrapper.querySelectorAll("input, select, textarea"), function (input) {
      if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    });
  }

  function apply(data) {
    var relevant = data.relevant || {};
    // New rows are checked again (their own relevance, calculations and choices).
    if (syncCounted(relevant)) schedule();
    each(form.querySelectorAll("[data-key]"), function (el) {
      var key = el.getAttribute("data-key");
      if (Object.prototype.hasOwnProperty.call(relevant, key)) {
        if (relevant[key]) el.removeAttribute("data-irrelevant");
        else el.setAttribute("data-irrelevant", "");
      }
    });
    var values = data.values || {};
    Object.keys(values).forEach(function (key) {
      var wrapper = wrapperOf(key);
      if (!wrapper) return;
      each(wrapper.querySelectorAll("[data-readonly]"), function (input) {
        if (input.type === "radio" || input.type === "checkbox") {
          input.checked = String(values[key]).split(" ").indexOf(input.value) >= 0;
        } else {
          input.value = values[key];
        }
      });
    });
    // Answers shown inside labels and hints (`${name}` in the XLSForm's text).
    each(form.querySelectorAll("[data-output]"), function (span) {
      var value = values[span.getAttribute("data-output")];
      span.textContent = value === undefined || value === null ? "" : String(value);
    });
    var errors = data.errors || {};
    each(form.querySelectorAll(".xf-q[data-key]"), function (wrapper) {
      var key = wrapper.getAttribute("data-key");
      if (wrapper.hasAttribute("data-server-error") && !errors[key]) return;
      setError(wrapper, errors[key] || "");
    });
    var choices = data.choices || {};
    Object.keys(choices).forEach(function (key) {
      var wrapper = wrapperOf(key);
      if (!wrapper) return;
      var allowed = choices[key];
      each(wrapper.querySelectorAll("[data-choice]"), function (el) {
        var ok = allowed.indexOf(el.getAttribute("data-choice")) >= 0;
        el.hidden = !ok;
        var input = el.tagName === "OPTION" ? el : el.querySelector("input");
        if (!input) return;
        if (ok) input.removeAttribute("data-filtered"); else input.setAttribute("data-filtered", "");
        input.disabled = !ok || input.hasAttribute("data-readonly");
        if (!ok) {
          if (el.tagName === "OPTION") { if (el.selected) el.parentNode.value = ""; }
          else input.checked = false;
        }
      });
      // A list filtered down to nothing (a village before its town): say why.
      var none = wrapper.querySelector("[data-no-choices]");
      if (none) none.hidden = allowed.length > 0;
    });
    syncDisabled();
  }

  function send() {
    var mine = ++sequence;
    var data = new FormData(form);
    // Files are never uploaded for a check: only how many were chosen.
    each(form.querySelectorAll('input[type="file"]'), function (input) {
      data.delete(input.name);
      if (input.files && input.files.length && !input.disabled) data.set(input.name, String(input.files.length));
    });
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (result && mine > shown) { shown = mine; apply(result); }
      })
      .catch(function () { /* offline: the server checks on submit */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(send, 250);
  }

  function changed(event) {
    var wrapper = event.target.closest && event.target.closest(".xf-q[data-key]");
    if (wrapper && wrapper.hasAttribute("data-server-error")) {
      wrapper.removeAttribute("data-server-error");
      setError(wrapper, "");
    }
    schedule();
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  // ---- repeats
  function rowsOf(section) {
    var container = section.querySelector(":scope > .xf-rows");
    return container ? Array.prototype.slice.call(container.querySelectorAll(":scope > .xf-row")) : [];
  }

  function domId(key) { return "f-" + key.replace(/[^A-Za-z0-9_-]/g, "-"); }

  function rekey(root, oldKey, newKey) {
    var pairs = [[oldKey, newKey], [domId(oldKey), domId(newKey)]];
    function fix(value) {
      for (var i = 0; i < pairs.length; i++) {
        var from = pairs[i][0], to = pairs[i][1];
        if (value.indexOf(from) === 0) return to + value.slice(from.length);
        if (value.indexOf("q-" + from) === 0) return "q-" + to + value.slice(from.length + 2);
        if (value.indexOf("h-" + from) === 0) return "h-" + to + value.slice(from.length + 2);
        if (value.indexOf("e-" + from) === 0) return "e-" + to + value.slice(from.length + 2);
      }
      return value;
    }
    var all = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    all.forEach(function (el) {
      ["name", "id", "for", "data-key", "data-row", "data-prefix", "value", "aria-describedby"].forEach(function (attr) {
        if (!el.hasAttribute(attr)) return;
        if (attr === "value" && !(el.name === "__remove" || el.name === "__add" || el.type === "hidden")) return;
        var parts = el.getAttribute(attr).split(" ").map(fix);
        el.setAttribute(attr, parts.join(" "));
      });
      if (el.tagName === "TEMPLATE") {
        el.innerHTML = el.innerHTML.split(oldKey + ".").join(newKey + ".").split(domId(oldKey)).join(domId(newKey));
      }
    });
  }

  function renumber(section) {
    var prefix = section.getAttribute("data-prefix");
    rowsOf(section).forEach(function (row, index) {
      var want = prefix + "[" + index + "]";
      var have = row.getAttribute("data-row");
      if (have !== want) rekey(row, have, want);
      var number = row.querySelector(":scope > legend .xf-row-no");
      if (number) number.textContent = String(index + 1);
    });
  }

  function addRow(section) {
    var template = section.querySelector(":scope > template");
    var depth = section.getAttribute("data-depth");
    var index = rowsOf(section).length;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__i" + depth + "__").join(String(index));
    var row = holder.firstElementChild;
    section.querySelector(":scope > .xf-rows").appendChild(row);
    renumber(section);
    setupGeo(row);
    return row;
  }

  // A repeat whose rows `repeat_count` sets: as many rows as the evaluator made.
  function syncCounted(relevant) {
    var grew = false;
    each(form.querySelectorAll(".xf-repeat[data-counted]"), function (section) {
      var prefix = section.getAttribute("data-prefix");
      if (!Object.prototype.hasOwnProperty.call(relevant, prefix)) return;
      var want = 0;
      while (Object.prototype.hasOwnProperty.call(relevant, prefix + "[" + want + "]") && want < 200) want++;
      var rows = rowsOf(section);
      while (rows.length > want) { var last = rows.pop(); last.parentNode.removeChild(last); }
      while (rows.length < want) { rows.push(addRow(section)); grew = true; }
    });
    return grew;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    if (!button || !form.contains(button)) return;
    if (button.name === "__add") {
      event.preventDefault();
      var row = addRow(button.closest(".xf-repeat"));
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
      schedule();
    } else if (button.name === "__remove") {
      event.preventDefault();
      var rowEl = button.closest(".xf-row");
      var owner = rowEl.closest(".xf-repeat");
      rowEl.parentNode.removeChild(rowEl);
      renumber(owner);
      schedule();
    }
  });

  // ---- geopoint: the phone's location, manual entry as the fallback
  function setupGeo(root) {
    if (!navigator.geolocation) return;
    each(root.querySelectorAll("[data-geo]"), function (button) {
      if (button.closest("[data-readonly]")) return;
      button.hidden = false;
    });
  }
  setupGeo(form);
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-geo]");
    if (!button) return;
    event.preventDefault();
    var box = button.closest(".xf-q");
    var status = box.querySelector("[data-geo-status]");
    status.textContent = button.getAttribute("data-locating") || "…";
    navigator.geolocation.getCurrentPosition(function (position) {
      box.querySelector("[data-geo-lat]").value = position.coords.latitude.toFixed(6);
      box.querySelector("[data-geo-lng]").value = position.coords.longitude.toFixed(6);
      status.textContent = button.getAttribute("data-located") || "";
      schedule();
    }, function () {
      status.textContent = button.getAttribute("data-failed") || "";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // Server errors stay until their question is changed; the first one gets the focus.
  each(form.querySelectorAll(".xf-q.has-error[data-key]"), function (wrapper) {
    wrapper.setAttribute("data-server-error", "");
  });
  var summary = document.getElementById("xf-summary");
  if (summary) summary.focus();
  syncDisabled();
  // A page shown again after a refusal: bring it up to date at once.
  schedule();
})();
