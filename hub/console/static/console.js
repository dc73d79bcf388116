// The console's only script: the lesson page's live board (server-sent events), its
// countdown ticked on this device's own clock, and lesson controls sent without reloading
// the page. Every page works without it: forms post and the server answers with a page.
"use strict";
(function () {
  var csrf = document.body.dataset.csrf || "";
  var clockEl = document.getElementById("clock");
  var board = document.getElementById("board");
  var state = null;

  function countdown(seconds) {
    seconds = Math.max(0, Math.floor(seconds + 0.999));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  function setClock(data) {
    state = { data: data, at: performance.now() };
    tick();
  }

  function tick() {
    if (!clockEl || !state) return;
    var d = state.data;
    var words = JSON.parse(clockEl.querySelector("[data-part=word]").dataset.words);
    var gone = d.phase === "running" ? (performance.now() - state.at) / 1000 : 0;
    var active = d.phase === "running" || d.phase === "paused";
    var moving = Math.max(0, d.moving - gone);
    var left = Math.max(0, d.remaining - gone);
    clockEl.className = "clock phase-" + d.phase + (d.warning ? " warning" : "");
    clockEl.querySelector("[data-part=block]").textContent = active
      ? words.block.replace("%(block)d", d.block).replace("%(blocks)d", d.blocks) : "";
    clockEl.querySelector("[data-part=time]").textContent = active
      ? countdown(moving > 0 ? moving : left) : "";
    clockEl.querySelector("[data-part=word]").textContent =
      d.phase === "running" ? (moving > 0 ? words.moving : words.left) : words[d.phase] || "";
  }

  if (clockEl) {
    setClock(JSON.parse(clockEl.dataset.clock));
    setInterval(tick, 250);
  }

  if (board && window.EventSource) {
    var source = new EventSource("/lesson/events");
    var phase = clockEl ? JSON.parse(clockEl.dataset.clock).phase : "";
    source.addEventListener("lesson", function (e) {
      var msg = JSON.parse(e.data);
      if (board.innerHTML !== msg.board) board.innerHTML = msg.board;
      setClock(msg.clock);
      // The controls offered depend on the phase (start or pause, …): a new phase, a new page.
      if (msg.clock.phase !== phase) { phase = msg.clock.phase; reloadControls(); }
    });
    source.addEventListener("signedout", function () { source.close(); location.reload(); });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) location.reload();
    };
  }

  function reloadControls() {
    fetch(location.pathname, { credentials: "same-origin" }).then(function (r) {
      if (r.redirected || !r.ok) { location.reload(); return null; }
      return r.text();
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".controls");
      var here = document.querySelector(".controls");
      if (!fresh || !here) return;
      var hadFocus = here.contains(document.activeElement);
      here.replaceWith(fresh);
      wire(fresh);
      if (hadFocus) { var first = fresh.querySelector("button, summary"); if (first) first.focus(); }
    });
  }

  // Lesson controls: sent with fetch() and the CSRF header; the event stream shows the result.
  function wire(root) {
    root.querySelectorAll("form[data-live]").forEach(function (form) {
      if (form.dataset.wired) return;
      form.dataset.wired = "1";
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var body = new FormData(form);
        if (e.submitter && e.submitter.name) body.append(e.submitter.name, e.submitter.value);
        // getAttribute: a control named "action" hides the form's own .action
        fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                             headers: { "X-CSRF-Token": csrf } })
          .then(function (r) { if (r.status === 401) location.reload(); });
      });
    });
  }
  wire(document);
})();
