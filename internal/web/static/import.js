// The progress of an import (or of its dry run): asks the server every two
// seconds and shows the counts; the page is loaded again when the run (or
// the check) ends. Without this
// script, the page's refresh link does the same by hand.
(function () {
  "use strict";
  var box = document.getElementById("import-run");
  if (!box || (box.dataset.status !== "running" && box.dataset.status !== "checking")) {
    return;
  }
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("import-progress-text");
  var set = function (id, v) {
    var el = document.getElementById(id);
    if (el) {
      el.textContent = String(v);
    }
  };
  var poll = function () {
    fetch("/imports/" + encodeURIComponent(box.dataset.run) + "/progress", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (p) {
        if (!p) {
          return;
        }
        if (bar) {
          bar.max = p.total;
          bar.value = p.done;
        }
        if (text) {
          text.textContent = p.done + " / " + p.total;
        }
        set("run-created", p.created);
        set("run-merged", p.merged);
        set("run-skipped", p.skipped);
        set("run-problems", p.problems);
        if (p.status !== box.dataset.status || !p.held) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  };
  window.setTimeout(poll, 1000);
})();
