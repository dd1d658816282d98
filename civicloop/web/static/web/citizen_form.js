/* A citizen's form on a phone (民意, 协商在线 …): text counter, the SMS code button,
   the browser's position, a voice note recorded in the browser, the photo count, and one
   submit per tap. Bound to every form[data-citizen-form]; the markup it reads is in
   web/_voice_recorder.html and the modules' forms. Vanilla JS, no external code;
   everything works without it, only less comfortably. */
(function () {
  "use strict";

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function status(el, text, ok) {
    if (!el) return;
    el.textContent = text;
    el.className = "status-line " + (ok ? "status-ok" : "status-error");
  }

  function bind(form) {
    /* Body counter */
    var body = form.querySelector("textarea[name=body]");
    var counter = form.querySelector("[data-counter-for]");
    if (body && counter) {
      var max = parseInt(body.getAttribute("maxlength") || "2000", 10);
      var count = function () { counter.textContent = body.value.length + " / " + max; };
      body.addEventListener("input", count);
      count();
    }

    /* SMS code: post the phone to the small endpoint; count down before a resend. */
    var send = form.querySelector("[data-send-code]");
    var codeStatus = form.querySelector("[data-code-status]");
    if (send && window.fetch) {
      send.addEventListener("click", function (event) {
        event.preventDefault();
        var phone = form.querySelector("input[name=phone]").value;
        if (!/^\s*(\+86)?1\d{10}\s*$/.test(phone.replace(/[\s-]/g, ""))) {
          status(codeStatus, "请先填写正确的11位手机号码。", false);
          return;
        }
        send.disabled = true;
        var data = new FormData();
        data.append("phone", phone);
        fetch(form.getAttribute("data-code-url"), {
          method: "POST",
          body: data,
          headers: { "X-CSRFToken": csrf(form), "Accept": "application/json" },
          credentials: "same-origin"
        }).then(function (r) { return r.json(); }).then(function (answer) {
          status(codeStatus, answer.message, answer.ok);
          var wait = answer.retry_after || (answer.ok ? 60 : 0);
          if (!wait) { send.disabled = false; return; }
          var label = send.getAttribute("data-label") || send.textContent;
          send.setAttribute("data-label", label);
          var timer = setInterval(function () {
            wait -= 1;
            send.textContent = wait + "s";
            if (wait <= 0) { clearInterval(timer); send.textContent = label; send.disabled = false; }
          }, 1000);
        }).catch(function () {
          status(codeStatus, "网络异常，请稍后重试。", false);
          send.disabled = false;
        });
      });
    }

    /* Location: the browser's position into the hidden lat/lng fields. */
    var locate = form.querySelector("[data-locate]");
    var locateStatus = form.querySelector("[data-locate-status]");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        status(locateStatus, "正在定位…", true);
        navigator.geolocation.getCurrentPosition(function (pos) {
          form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
          form.querySelector("input[name=lng]").value = pos.coords.longitude.toFixed(6);
          status(locateStatus, "已获取定位（" + pos.coords.latitude.toFixed(4) + ", " + pos.coords.longitude.toFixed(4) + "）", true);
        }, function () {
          status(locateStatus, "无法获取定位，请手动填写地点。", false);
        }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
      });
    }

    /* Voice: record with MediaRecorder and hand the recording to the file input, so the
       form posts it like a chosen file. Without MediaRecorder the file input stays. */
    var recorderBox = form.querySelector("[data-recorder]");
    var voiceInput = form.querySelector("input[name=voice]");
    var canRecord = recorderBox && voiceInput && window.MediaRecorder && navigator.mediaDevices &&
      navigator.mediaDevices.getUserMedia && window.DataTransfer;
    if (canRecord) {
      recorderBox.hidden = false;
      var startBtn = recorderBox.querySelector("[data-record]");
      var stopBtn = recorderBox.querySelector("[data-stop]");
      var badge = recorderBox.querySelector("[data-recording]");
      var seconds = recorderBox.querySelector("[data-seconds]");
      var preview = recorderBox.querySelector("[data-preview]");
      var recorder = null, chunks = [], ticker = null;
      var MAX_SECONDS = 120;
      startBtn.addEventListener("click", function () {
        navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
          var type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"]
            .filter(function (t) { return MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t); })[0];
          recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
          chunks = [];
          recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
          recorder.onstop = function () {
            stream.getTracks().forEach(function (t) { t.stop(); });
            var mime = (recorder.mimeType || "audio/webm").split(";")[0];
            var ext = mime.indexOf("ogg") >= 0 ? "ogg" : (mime.indexOf("mp4") >= 0 ? "m4a" : "webm");
            var blob = new Blob(chunks, { type: mime });
            var file = new File([blob], "voice." + ext, { type: mime });
            var dt = new DataTransfer();
            dt.items.add(file);
            voiceInput.files = dt.files;
            preview.src = URL.createObjectURL(blob);
            preview.hidden = false;
            startBtn.textContent = "重新录音";
          };
          recorder.start();
          var n = 0;
          seconds.textContent = "0";
          badge.hidden = false; stopBtn.hidden = false; startBtn.hidden = true;
          ticker = setInterval(function () {
            n += 1; seconds.textContent = String(n);
            if (n >= MAX_SECONDS) stopBtn.click();
          }, 1000);
        }).catch(function () {
          recorderBox.hidden = true; /* no microphone permission: the file input remains */
        });
      });
      stopBtn.addEventListener("click", function () {
        clearInterval(ticker);
        badge.hidden = true; stopBtn.hidden = true; startBtn.hidden = false;
        if (recorder && recorder.state !== "inactive") recorder.stop();
      });
    }

    /* Photos: say at once when more are chosen than the form takes (data-max). */
    var photos = form.querySelector("input[name=photos]");
    if (photos) {
      var most = parseInt(photos.getAttribute("data-max") || "9", 10);
      photos.addEventListener("change", function () {
        photos.setCustomValidity(photos.files.length > most ? "最多上传 " + most + " 张照片。" : "");
        if (photos.files.length > most) photos.reportValidity();
      });
    }

    /* One tap: the second tap is ignored here (and the server's submission key would
       return the same case anyway). */
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "send_code") return;
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      var button = form.querySelector("[data-submit]");
      if (button) { button.disabled = true; button.textContent = "正在提交…"; }
    });
  }


  document.querySelectorAll("form[data-citizen-form]").forEach(bind);
})();
