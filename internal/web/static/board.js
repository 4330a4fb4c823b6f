// The pipeline board: drag a candidate to another stage. Progressive
// enhancement: every card also has a form (a list and a button) that works
// with the keyboard and without this script; the script posts that same
// form. Rejections need a reason, so a drop on "Rejected" opens the card.
"use strict";
(function () {
  const board = document.querySelector("[data-board]");
  if (!board || !window.fetch) return;
  let dragged = null;
  board.addEventListener("dragstart", (e) => {
    const item = e.target.closest("li[data-application]");
    if (!item) return;
    dragged = item;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.application);
    item.classList.add("dragging");
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });
  board.addEventListener("dragover", (e) => {
    if (dragged && e.target.closest("[data-stage]")) e.preventDefault();
  });
  board.addEventListener("drop", async (e) => {
    const column = e.target.closest("[data-stage]");
    if (!dragged || !column) return;
    e.preventDefault();
    const item = dragged;
    const stage = column.dataset.stage;
    if (item.closest("[data-stage]") === column) return;
    if (column.dataset.kind === "rejected") {
      window.location.href = "/applications/" + item.dataset.application + "#stage-form";
      return;
    }
    const form = item.querySelector("form.move");
    if (!form) return;
    const data = new FormData(form);
    data.set("stage_id", stage);
    const res = await fetch(form.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" });
    if (!res.ok) {
      window.location.reload();
      return;
    }
    const from = item.closest("[data-stage]");
    column.querySelector("ul").appendChild(item);
    form.querySelector("select").value = stage;
    // A column shows its newest cards only; its count is the whole stage's.
    for (const [col, by] of [[from, -1], [column, 1]]) {
      const count = col.querySelector(".count");
      count.textContent = Math.max(0, (parseInt(count.textContent, 10) || 0) + by);
    }
  });
})();
