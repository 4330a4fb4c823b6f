// The API reference's "try it" forms (templates/api_reference.html). The
// page is a complete reference without this script; with it, each
// operation gets a form that sends the request from the browser with the
// token typed at the top of the page. The token lives in that input only:
// it is never written to storage, a cookie or the URL.
(function () {
  "use strict";
  var tokenBox = document.getElementById("try-token");
  var tokenInput = document.getElementById("try-token-value");
  if (!tokenBox || !tokenInput || !window.fetch) {
    return;
  }
  tokenBox.hidden = false;
  var forms = document.querySelectorAll("form.api-try");
  Array.prototype.forEach.call(forms, function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send(form);
    });
  });

  function send(form) {
    var method = form.getAttribute("data-method");
    var path = form.getAttribute("data-path");
    var query = [];
    var headers = { Accept: "application/json" };
    var token = tokenInput.value.trim();
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    var inputs = form.querySelectorAll("input[data-name]");
    Array.prototype.forEach.call(inputs, function (input) {
      var name = input.getAttribute("data-name");
      var value = input.value;
      switch (input.getAttribute("data-in")) {
        case "path":
          path = path.split("{" + name + "}").join(encodeURIComponent(value));
          break;
        case "query":
          if (value !== "") {
            query.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
          }
          break;
        case "header":
          if (value !== "") {
            headers[name] = value;
          }
          break;
      }
    });
    var init = { method: method, headers: headers, credentials: "omit", cache: "no-store" };
    var body = form.querySelector("textarea[data-body]");
    if (body) {
      headers["Content-Type"] = "application/json";
      init.body = body.value;
    }
    var out = form.querySelector("output");
    out.textContent = "…";
    fetch(path + (query.length ? "?" + query.join("&") : ""), init)
      .then(function (res) {
        return res.text().then(function (text) {
          show(out, res, text);
        });
      })
      .catch(function (err) {
        out.textContent = String(err);
      });
  }

  function show(out, res, text) {
    var pre = document.createElement("pre");
    var lines = [res.status + " " + res.statusText];
    ["Content-Type", "ETag", "Location", "Link", "RateLimit", "RateLimit-Policy", "Retry-After"].forEach(function (h) {
      var v = res.headers.get(h);
      if (v) {
        lines.push(h + ": " + v);
      }
    });
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      // not JSON: shown as it came
    }
    pre.textContent = lines.join("\n") + "\n\n" + text;
    out.textContent = "";
    out.appendChild(pre);
  }
})();
