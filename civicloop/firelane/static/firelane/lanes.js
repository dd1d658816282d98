/* 生命通道 lane editor: draws the camera's lanes over its picture and lets staff click,
 * tap or key in the corners of a new or changed lane. Points are [x, y] fractions (0–1)
 * of the picture, as Lane.polygon stores them; the server checks them again (lanes.py).
 * Every word shown comes from the page (translated on the server); text is set with
 * textContent, never innerHTML. No framework, nothing loaded from elsewhere. */
(function () {
  "use strict";

  var root = document.querySelector("[data-lanes-editor]");
  if (!root) return;

  var SVG_NS = "http://www.w3.org/2000/svg";
  var L = document.getElementById("lane-labels").dataset;
  var MIN = parseInt(L.min, 10) || 3;
  var MAX = parseInt(L.max, 10) || 20;
  var KEY_STEP = 0.01;
  var KEY_STEP_FAST = 0.05;
  var TAP_SLOP_PX = 8;

  var lanes = JSON.parse(document.getElementById("lane-data").textContent) || [];
  var draftIn = JSON.parse(document.getElementById("lane-draft").textContent);

  var canvas = document.getElementById("lane-canvas");
  var picture = document.getElementById("lane-picture");
  var form = document.getElementById("lane-form");
  var idInput = document.getElementById("lane-id");
  var nameInput = document.getElementById("lane-name");
  var polygonInput = document.getElementById("lane-polygon");
  var countOut = document.getElementById("lane-count");
  var announceOut = document.getElementById("lane-announce");
  var problemOut = document.getElementById("lane-problem");
  var pointsList = document.getElementById("lane-points");
  var title = document.getElementById("lane-form-title");
  var newButton = document.getElementById("lane-new");

  var viewBox = canvas.getAttribute("viewBox").split(/\s+/).map(Number);
  var W = viewBox[2] || 16;
  var H = viewBox[3] || 9;

  var state = {
    editing: null, // id of the lane being changed, or null for a new lane
    points: [],
    cursor: null, // keyboard crosshair [x, y] while the canvas has focus
    drag: null // {index, pointerId} while a corner is being moved
  };
  var down = null; // where a tap started: {x, y, pointerId}

  // ------------------------------------------------------------------ helpers

  function clamp01(v) {
    if (!isFinite(v)) return 0;
    return Math.min(1, Math.max(0, v));
  }

  function round4(v) {
    return Math.round(v * 10000) / 10000;
  }

  function fmt(template, n) {
    return template.replace("{n}", String(n));
  }

  function el(name, attrs) {
    var node = document.createElementNS(SVG_NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function pointsAttr(points) {
    return points.map(function (p) { return (p[0] * W).toFixed(2) + "," + (p[1] * H).toFixed(2); }).join(" ");
  }

  // One screen pixel in viewBox units, so handles keep their size on a phone and a desktop.
  function px() {
    var rect = canvas.getBoundingClientRect();
    return rect.width ? W / rect.width : 1;
  }

  function fromEvent(ev) {
    var rect = canvas.getBoundingClientRect();
    return [
      round4(clamp01((ev.clientX - rect.left) / rect.width)),
      round4(clamp01((ev.clientY - rect.top) / rect.height))
    ];
  }

  function orientation(a, b, c) {
    var cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    return Math.abs(cross) < 1e-12 ? 0 : (cross > 0 ? 1 : -1);
  }

  function onSegment(a, b, p) {
    return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
      Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  }

  function segmentsMeet(a, b, c, d) {
    var o1 = orientation(a, b, c), o2 = orientation(a, b, d);
    var o3 = orientation(c, d, a), o4 = orientation(c, d, b);
    if (o1 !== o2 && o3 !== o4) return true;
    return (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) ||
      (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b));
  }

  // The same test as lanes.py: a crossed outline would track the wrong cars.
  function crossesItself(points) {
    var n = points.length;
    if (n < 4) return false;
    for (var i = 0; i < n; i++) {
      for (var j = i + 1; j < n; j++) {
        if (j === i + 1 || (i === 0 && j === n - 1)) continue;
        if (segmentsMeet(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ drawing

  function draw() {
    while (canvas.firstChild) canvas.removeChild(canvas.firstChild);
    var unit = px();
    var placed = [];
    lanes.forEach(function (lane) {
      if (lane.id === state.editing || !lane.polygon || lane.polygon.length < 3) return;
      canvas.appendChild(el("polygon", { "class": "lane-saved", points: pointsAttr(lane.polygon) }));
      var cx = 0, cy = 0;
      lane.polygon.forEach(function (p) { cx += p[0]; cy += p[1]; });
      var label = el("text", {
        "class": "lane-label",
        x: (cx / lane.polygon.length * W).toFixed(2),
        y: (cy / lane.polygon.length * H).toFixed(2),
        "font-size": (14 * unit).toFixed(2),
        "text-anchor": "middle"
      });
      label.textContent = lane.name;
      canvas.appendChild(label);
      nudge(label, placed, 18 * unit);
    });
    var pts = state.points;
    if (pts.length >= 3) {
      canvas.appendChild(el("polygon", { "class": "lane-draft", points: pointsAttr(pts) }));
    } else if (pts.length === 2) {
      canvas.appendChild(el("polyline", { "class": "lane-draft", points: pointsAttr(pts) }));
    }
    pts.forEach(function (p, i) {
      var handle = el("circle", {
        "class": "lane-handle" + (state.drag && state.drag.index === i ? " is-dragging" : ""),
        cx: (p[0] * W).toFixed(2),
        cy: (p[1] * H).toFixed(2),
        r: (9 * unit).toFixed(2),
        "data-index": String(i)
      });
      canvas.appendChild(handle);
      var num = el("text", {
        "class": "lane-handle-label",
        x: (p[0] * W).toFixed(2),
        y: (p[1] * H + 4 * unit).toFixed(2),
        "font-size": (11 * unit).toFixed(2),
        "text-anchor": "middle"
      });
      num.textContent = String(i + 1);
      canvas.appendChild(num);
    });
    if (state.cursor) {
      var c = state.cursor, arm = 14 * unit;
      var g = el("g", { "class": "lane-cursor" });
      g.appendChild(el("line", { x1: c[0] * W - arm, y1: c[1] * H, x2: c[0] * W + arm, y2: c[1] * H }));
      g.appendChild(el("line", { x1: c[0] * W, y1: c[1] * H - arm, x2: c[0] * W, y2: c[1] * H + arm }));
      canvas.appendChild(g);
    }
    report();
  }

  // Lanes drawn over the same stretch would print their names on top of each other:
  // move a name down a line until it is clear of the names already placed.
  function nudge(label, placed, step) {
    var box;
    try { box = label.getBBox(); } catch (e) { return; }
    var y = Number(label.getAttribute("y"));
    for (var tries = 0; tries < 6; tries++) {
      var hit = placed.some(function (b) {
        return box.x < b.x + b.width && b.x < box.x + box.width &&
          box.y < b.y + b.height && b.y < box.y + box.height;
      });
      if (!hit) break;
      y += step;
      box = { x: box.x, y: box.y + step, width: box.width, height: box.height };
    }
    label.setAttribute("y", y.toFixed(2));
    placed.push(box);
  }

  function report() {
    countOut.textContent = fmt(L.count, state.points.length);
    while (pointsList.firstChild) pointsList.removeChild(pointsList.firstChild);
    state.points.forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = "[" + p[0].toFixed(4) + ", " + p[1].toFixed(4) + "]";
      pointsList.appendChild(li);
    });
    polygonInput.value = JSON.stringify(state.points);
    // A refused "save" stays on screen until the drawing changes; a crossing shows at once.
    var key = JSON.stringify(state.points);
    if (key !== shownFor) {
      shownFor = key;
      showProblem(crossesItself(state.points) ? L.crossing : "");
    }
  }

  var shownFor = null;

  function showProblem(text) {
    problemOut.textContent = text;
    problemOut.hidden = !text;
  }

  // Spoken, not shown: changing the visible count line's length would move the buttons
  // under a finger or mouse between press and release.
  function announce(text) {
    announceOut.textContent = text + " · " + fmt(L.count, state.points.length);
  }

  // ------------------------------------------------------------------ editing

  function addPoint(p) {
    if (state.points.length >= MAX) {
      showProblem(L.full);
      return;
    }
    state.points.push([round4(clamp01(p[0])), round4(clamp01(p[1]))]);
    draw();
    announce(fmt(L.pointAdded, state.points.length));
  }

  function undo() {
    if (!state.points.length) return;
    state.points.pop();
    draw();
    announce(L.pointRemoved);
  }

  function startNew() {
    state.editing = null;
    state.points = [];
    idInput.value = "";
    nameInput.value = "";
    title.textContent = L.titleNew;
    newButton.hidden = true;
    markRows();
    draw();
  }

  function startEdit(id) {
    var lane = lanes.filter(function (l) { return l.id === id; })[0];
    if (!lane) return;
    state.editing = lane.id;
    state.points = (lane.polygon || []).map(function (p) { return [Number(p[0]), Number(p[1])]; });
    idInput.value = String(lane.id);
    nameInput.value = lane.name;
    title.textContent = L.titleEdit + "：" + lane.name;
    newButton.hidden = false;
    markRows();
    draw();
    canvas.focus({ preventScroll: true });
  }

  function markRows() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-lane-row]"), function (row) {
      row.classList.toggle("is-editing", Number(row.getAttribute("data-lane-row")) === state.editing);
    });
  }

  // ------------------------------------------------------------------ pointer (mouse, pen, touch)

  canvas.addEventListener("pointerdown", function (ev) {
    if (ev.button !== undefined && ev.button !== 0) return;
    var target = ev.target;
    if (target && target.getAttribute && target.hasAttribute("data-index")) {
      state.drag = { index: Number(target.getAttribute("data-index")), pointerId: ev.pointerId };
      canvas.setPointerCapture(ev.pointerId);
      ev.preventDefault();
      draw();
      return;
    }
    down = { x: ev.clientX, y: ev.clientY, pointerId: ev.pointerId };
  });

  canvas.addEventListener("pointermove", function (ev) {
    if (!state.drag || state.drag.pointerId !== ev.pointerId) return;
    state.points[state.drag.index] = fromEvent(ev);
    draw();
  });

  function endDrag(ev) {
    if (state.drag && state.drag.pointerId === ev.pointerId) {
      var index = state.drag.index;
      state.drag = null;
      draw();
      announce(fmt(L.pointMoved, index + 1));
      return true;
    }
    return false;
  }

  canvas.addEventListener("pointerup", function (ev) {
    if (endDrag(ev)) return;
    if (!down || down.pointerId !== ev.pointerId) return;
    var moved = Math.abs(ev.clientX - down.x) + Math.abs(ev.clientY - down.y);
    down = null;
    if (moved <= TAP_SLOP_PX) addPoint(fromEvent(ev));
  });

  canvas.addEventListener("pointercancel", function (ev) {
    endDrag(ev);
    down = null;
  });

  // ------------------------------------------------------------------ keyboard

  // The crosshair is for keyboard users only: a mouse click also focuses the canvas.
  canvas.addEventListener("focus", function () {
    var keyboard = true;
    try { keyboard = canvas.matches(":focus-visible"); } catch (e) { keyboard = true; }
    if (keyboard && !state.cursor) {
      state.cursor = [0.5, 0.5];
      draw();
    }
  });

  canvas.addEventListener("blur", function () {
    if (!state.cursor) return;
    state.cursor = null;
    draw();
  });

  canvas.addEventListener("keydown", function (ev) {
    var step = ev.shiftKey ? KEY_STEP_FAST : KEY_STEP;
    var c = state.cursor || [0.5, 0.5];
    var handled = true;
    switch (ev.key) {
      case "ArrowLeft": c = [c[0] - step, c[1]]; break;
      case "ArrowRight": c = [c[0] + step, c[1]]; break;
      case "ArrowUp": c = [c[0], c[1] - step]; break;
      case "ArrowDown": c = [c[0], c[1] + step]; break;
      case "Enter":
      case " ":
        addPoint(c);
        break;
      case "Backspace":
      case "Delete":
        undo();
        break;
      default:
        handled = false;
    }
    if (!handled) return;
    ev.preventDefault();
    state.cursor = [round4(clamp01(c[0])), round4(clamp01(c[1]))];
    draw();
  });

  // ------------------------------------------------------------------ buttons and form

  document.getElementById("lane-undo").addEventListener("click", undo);
  document.getElementById("lane-clear").addEventListener("click", function () {
    state.points = [];
    draw();
  });
  newButton.addEventListener("click", startNew);
  nameInput.addEventListener("input", function () {
    if (problemOut.textContent === L.noName && nameInput.value.trim()) showProblem("");
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-edit]"), function (button) {
    button.addEventListener("click", function () {
      startEdit(Number(button.getAttribute("data-edit")));
    });
  });

  form.addEventListener("submit", function (ev) {
    polygonInput.value = JSON.stringify(state.points);
    var problem = "";
    if (!nameInput.value.trim()) problem = L.noName;
    else if (state.points.length < MIN) problem = L.tooFew;
    else if (crossesItself(state.points)) problem = L.crossing;
    if (problem) {
      ev.preventDefault();
      // Not sent: keep the shell's double-submit guard (web/app.js) from disabling "save".
      ev.stopPropagation();
      showProblem(problem);
      (problem === L.noName ? nameInput : canvas).focus();
    }
  });

  // The picture's own size decides the drawing's coordinates once it has loaded.
  function fitPicture() {
    if (picture && picture.naturalWidth && picture.naturalHeight) {
      W = picture.naturalWidth;
      H = picture.naturalHeight;
      canvas.setAttribute("viewBox", "0 0 " + W + " " + H);
    }
    draw();
  }
  if (picture) {
    if (picture.complete) fitPicture();
    else picture.addEventListener("load", fitPicture);
  }
  window.addEventListener("resize", draw);

  // ------------------------------------------------------------------ start

  if (draftIn) {
    // The server refused a drawing: show it again so only the problem needs fixing.
    var parsed = [];
    try { parsed = JSON.parse(draftIn.raw || "[]"); } catch (e) { parsed = []; }
    state.points = (Array.isArray(parsed) ? parsed : []).filter(function (p) {
      return Array.isArray(p) && p.length === 2 && isFinite(p[0]) && isFinite(p[1]);
    }).slice(0, MAX).map(function (p) { return [round4(clamp01(Number(p[0]))), round4(clamp01(Number(p[1])))]; });
    if (draftIn.id) {
      state.editing = Number(draftIn.id);
      title.textContent = L.titleEdit + "：" + (draftIn.name || "");
      newButton.hidden = false;
      markRows();
    }
  }
  draw();
})();
