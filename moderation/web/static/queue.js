/* Keyboard shortcuts for the moderators' page, and the lease heartbeat.
   Plain JS loaded from our own origin (the CSP allows no inline script). It only
   clicks buttons and follows links that exist in the HTML, so every action also works
   without it, and the server checks everything (CSRF token, lease, role) again. */
(function () {
  "use strict";

  var body = document.body;
  var page = body.getAttribute("data-page");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Keys typed into a text field are text, not commands. */
  function typing(event) {
    var t = event.target;
    if (!t || !t.tagName) { return false; }
    if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") { return true; }
    if (t.tagName === "INPUT") {
      var type = (t.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "submit", "button", "reset"].indexOf(type) === -1;
    }
    return false;
  }

  function submit(selector) {
    var el = document.querySelector(selector);
    if (!el || el.disabled) { return false; }
    if (el.tagName === "FORM") { el.requestSubmit(); } else { el.click(); }
    return true;
  }

  /* Help overlay: "?" toggles, Escape closes. */
  var help = document.getElementById("help");
  function toggleHelp(show) {
    if (!help) { return; }
    help.hidden = show === undefined ? !help.hidden : !show;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".js-help-toggle"), function (b) {
    b.addEventListener("click", function () { toggleHelp(); });
  });

  /* The site picker switches on change; its button remains for keyboards and no-JS. */
  var picker = document.getElementById("site-choice");
  if (picker) {
    picker.addEventListener("change", function () { picker.form.requestSubmit(); });
  }

  /* ---- Queue page: j/k select, Enter/o open, x tick, A/R bulk decide. ---- */
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.entry"));
  var selected = -1;
  var countLabel = document.querySelector(".js-selected-count");

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (selected >= 0 && rows[selected]) {
      rows[selected].classList.remove("selected");
      rows[selected].removeAttribute("aria-selected");
    }
    selected = index;
    rows[selected].classList.add("selected");
    rows[selected].setAttribute("aria-selected", "true");
    rows[selected].scrollIntoView({block: "nearest"});
  }

  function ticked() {
    return document.querySelectorAll('input[name="items"]:checked').length;
  }

  function updateCount() {
    if (countLabel) { countLabel.textContent = String(ticked()); }
  }

  if (page === "queue") {
    select(0);
    rows.forEach(function (row, index) {
      row.addEventListener("click", function (event) {
        if (event.target.tagName !== "INPUT" && event.target.tagName !== "A") { select(index); }
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll('input[name="items"]'), function (box) {
      box.addEventListener("change", updateCount);
    });
    updateCount();
  }

  function queueKey(event) {
    var key = event.key;
    if (key === "j") { select(selected + 1); return true; }
    if (key === "k") { select(selected - 1); return true; }
    if ((key === "Enter" || key === "o") && selected >= 0) {
      var target = event.target;
      if (key === "Enter" && target && (target.tagName === "A" || target.tagName === "BUTTON")) {
        return false;  /* the focused link or button does its own thing */
      }
      window.location.assign(rows[selected].getAttribute("data-href"));
      return true;
    }
    if (key === "x" && selected >= 0) {
      var box = rows[selected].querySelector('input[name="items"]');
      if (box) { box.checked = !box.checked; updateCount(); }
      return true;
    }
    if (key === "A" || key === "R") {
      if (!ticked()) {
        var hint = document.querySelector(".js-bulk-hint");
        if (hint) { hint.hidden = false; }
        return true;
      }
      return submit(key === "A" ? "#bulk-approve" : "#bulk-reject");
    }
    if (key === "/") {
      var search = document.getElementById("search");
      if (search) { search.focus(); return true; }
    }
    return false;
  }

  /* ---- Decision view: a/r/e decide, u undo, n/j p/k move, q queue. ---- */
  function itemKey(event) {
    switch (event.key) {
      case "a": return submit("#decide-approve");
      case "r": return submit("#decide-reject");
      case "e": return submit("#decide-escalate");
      case "n": case "j": return submit("#nav-next button");
      case "p": case "k": return submit("#nav-prev button");
      case "q": return submit("#nav-queue button");
      default: return false;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape") { toggleHelp(false); return; }
    if (typing(event)) { return; }
    var handled = false;
    if (event.key === "?") {
      toggleHelp();
      handled = true;
    } else if (event.key === "u") {
      handled = submit("form.js-undo");  /* the flash's offer first, else this item's */
    } else if (page === "queue") {
      handled = queueKey(event);
    } else if (page === "item") {
      handled = itemKey(event);
    }
    if (handled) { event.preventDefault(); }
  });

  /* ---- Lease heartbeat: keep the comment held while its page is open. ---- */
  var renewUrl = body.getAttribute("data-renew");
  if (renewUrl && window.fetch) {
    var lost = document.querySelector(".js-lease-lost");
    var timer = window.setInterval(function () {
      window.fetch(renewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"X-CSRF-Token": csrfToken()}
      }).then(function (response) {
        if (!response.ok && lost) {
          lost.hidden = false;
          window.clearInterval(timer);
        }
      }).catch(function () { /* offline for a moment: try again next time */ });
    }, 120000);
  }
}());
