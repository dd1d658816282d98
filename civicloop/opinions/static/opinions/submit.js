/* 民意: the deputy's dispatch form (unit follows the chosen grade). The citizen's form
   is bound by web/citizen_form.js. Vanilla JS, no external code. */
(function () {
  "use strict";

  /* ---------- the deputy's dispatch form: the unit follows the chosen grade */
  var dispatch = document.getElementById("act-dispatch");
  if (dispatch) {
    var select = dispatch.querySelector("[data-unit-select]");
    dispatch.querySelectorAll("input[name=grade]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var unit = radio.getAttribute("data-unit");
        if (select && unit) select.value = unit;
      });
    });
  }
})();
