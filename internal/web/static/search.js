// Results as one types on the candidate list. Progressive enhancement: the
// search box is in a form that submits as usual without this script. With
// it, a pause of 250 ms in typing fetches the same list with partial=1,
// which answers the results region alone, puts it in place and writes the
// query into the address bar. Every request carries a number and aborts
// the one before, so an answer that arrives late never replaces a newer one.
"use strict";
(function () {
  const form = document.getElementById("candidate-filters");
  const box = document.getElementById("q");
  const region = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  if (!form || !box || !region || !window.fetch || !window.AbortController) return;
  let timer = 0;
  let seq = 0;
  let controller = null;

  function listURL() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (typeof v === "string" && v !== "") params.append(k, v);
    }
    return params;
  }

  async function refresh() {
    const params = listURL();
    const mine = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    const partial = new URLSearchParams(params);
    partial.set("partial", "1");
    region.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(form.action + "?" + partial.toString(), {
        headers: { "Accept": "text/html" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      // A query that cannot be read answers 422 with its message: shown too.
      if (!res.ok && res.status !== 422) return;
      const html = await res.text();
      if (mine !== seq) return; // a newer request is under way
      region.innerHTML = html;
      const query = params.toString();
      history.replaceState(null, "", form.action + (query ? "?" + query : ""));
      box.setAttribute("aria-invalid", region.querySelector("#q-error") ? "true" : "false");
      const total = region.querySelector("#candidates-total");
      if (status && total) status.textContent = total.textContent;
    } catch (e) {
      if (e.name !== "AbortError") throw e;
    } finally {
      if (mine === seq) region.removeAttribute("aria-busy");
    }
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
