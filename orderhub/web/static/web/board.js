/* The collaboration board: drag a card to a column (or use its "move to…" menu) to perform that
 * transition on the server; backward moves and cancellations ask for a reason first; polling pauses
 * while a card is being dragged or moved; time-in-state colours keep ticking between refreshes. */
(function () {
  "use strict";

  var transitions = JSON.parse(document.getElementById("board-transitions").textContent);
  var words = JSON.parse(document.getElementById("board-i18n").textContent);
  var dialog = document.getElementById("reason-dialog");
  var pending = null; // the move waiting for its reason
  var dragged = null;

  function board() { return document.getElementById("board"); }

  // On a phone the filters start folded (unless some are set), so the columns come first.
  var panel = document.getElementById("filter-panel");
  if (panel && window.matchMedia("(max-width: 719px)").matches && !panel.dataset.active) panel.open = false;

  function values(extra) {
    var out = {};
    var filters = document.getElementById("board-filters");
    if (filters) {
      new FormData(filters).forEach(function (v, k) { if (v !== "") out[k] = v; });
    }
    document.querySelectorAll(".col-sig").forEach(function (el) { out[el.name] = el.value; });
    var sel = [];
    document.querySelectorAll(".card-select:checked").forEach(function (el) { sel.push(el.value); });
    if (sel.length) out.sel = sel;
    Object.keys(extra).forEach(function (k) { out[k] = extra[k]; });
    return out;
  }

  function send(card, to, reason) {
    window.ohBoardBusy = true;
    card.classList.add("moving");
    card.setAttribute("aria-busy", "true");
    var done = function () {
      window.ohBoardBusy = false;
      var still = document.getElementById(card.id);
      if (still) { still.classList.remove("moving"); still.removeAttribute("aria-busy"); }
    };
    var request = htmx.ajax("POST", board().dataset.moveUrl, {
      swap: "none",
      values: values({
        order_id: card.dataset.id,
        to: to,
        expected_version: card.dataset.version,
        reason: reason || ""
      })
    });
    if (request && request.then) request.then(done, done); else done();
  }

  function move(card, to) {
    var from = card.dataset.status;
    if (!to || to === from) return;
    var t = (transitions[from] || {})[to];
    if (t && t.reason) {
      pending = { card: card, to: to };
      document.getElementById("reason-desc").textContent = card.dataset.no + " · " + t.label;
      document.getElementById("reason-input").value = "";
      window.ohBoardBusy = true;
      dialog.showModal();
      return;
    }
    send(card, to, "");
  }

  dialog.addEventListener("close", function () {
    var p = pending;
    pending = null;
    window.ohBoardBusy = false;
    if (p && dialog.returnValue === "ok") {
      send(p.card, p.to, document.getElementById("reason-input").value);
    }
  });

  // --- drag and drop (mouse) ------------------------------------------------------------------
  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".bcard");
    if (!card) return;
    dragged = card;
    window.ohBoardBusy = true;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("dragging");
    var allowed = (card.dataset.allowed || "").split(" ");
    document.querySelectorAll(".col").forEach(function (col) {
      if (allowed.indexOf(col.dataset.status) >= 0) col.classList.add("drop-ok");
    });
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".col.drop-ok, .col.drop-over").forEach(function (col) {
      col.classList.remove("drop-ok", "drop-over");
    });
    if (!pending) window.ohBoardBusy = false;
  });

  document.addEventListener("dragover", function (e) {
    var col = dragged && e.target.closest && e.target.closest(".col");
    if (!col || col.dataset.status === dragged.dataset.status) return;
    e.preventDefault(); // every column accepts the drop: the server says yes or why not
    e.dataTransfer.dropEffect = "move";
    col.classList.add("drop-over");
  });

  document.addEventListener("dragleave", function (e) {
    var col = e.target.closest && e.target.closest(".col");
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-over");
  });

  document.addEventListener("drop", function (e) {
    var col = dragged && e.target.closest && e.target.closest(".col");
    if (!col) return;
    e.preventDefault();
    var card = dragged;
    dragged = null;
    col.classList.remove("drop-over");
    move(card, col.dataset.status);
  });

  // --- the menu alternative (keyboard and touch) -------------------------------------------------
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-move]");
    if (!button) return;
    var card = button.closest(".bcard");
    var menu = button.closest("details");
    if (menu) menu.open = false;
    move(card, button.dataset.move);
  });

  // --- selection count ---------------------------------------------------------------------------
  function countSelected() {
    var el = document.getElementById("bulk-count");
    if (!el) return;
    var n = document.querySelectorAll(".card-select:checked").length;
    el.textContent = el.dataset.template.replace("{n}", n);
  }
  document.addEventListener("change", function (e) {
    if (e.target.classList && e.target.classList.contains("card-select")) countSelected();
  });

  // --- connection state --------------------------------------------------------------------------
  function offline(on) {
    var el = document.getElementById("board-offline");
    if (el) el.hidden = !on;
  }
  document.addEventListener("htmx:sendError", function () { offline(true); });
  document.addEventListener("htmx:responseError", function () { offline(true); });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.successful) offline(false);
  });
  document.addEventListener("htmx:afterSettle", countSelected);

  // --- time in state keeps ticking between refreshes -----------------------------------------------
  function ageText(minutes) {
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d) return d + words.d + (h ? h + words.h : "");
    if (h) return h + words.h + (m ? m + words.m : "");
    return m + words.m;
  }
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".bcard[data-since]").forEach(function (card) {
      var minutes = Math.max(0, Math.floor((now - Number(card.dataset.since)) / 60));
      var text = card.querySelector(".age-text");
      if (text) text.textContent = ageText(minutes);
      var target = Number(card.dataset.target || 0);
      if (!target) return;
      var ratio = minutes * 100 / target;
      var level = ratio >= 100 ? "late" : ratio >= Number(card.dataset.amber) ? "warn" : "ok";
      ["ok", "warn", "late"].forEach(function (l) { card.classList.toggle("lvl-" + l, l === level); });
      var age = card.querySelector(".age");
      if (age) ["ok", "warn", "late"].forEach(function (l) { age.classList.toggle("lvl-" + l, l === level); });
    });
  }
  setInterval(tick, 30000);
})();
