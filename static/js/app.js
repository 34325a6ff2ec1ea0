// Small behaviours htmx does not cover: keyboard shortcuts, error toasts, row selection, unsaved-edit guard.
(function () {
  "use strict";

  function isTyping(target) {
    return target.closest("input, textarea, select, [contenteditable='true']") !== null;
  }

  // "/" focuses the page's search box, as on most back offices.
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
      var search = document.querySelector("[data-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    }
    // Ctrl/Cmd+Enter submits from a textarea, where Enter adds a line.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea")) {
      var form = event.target.form;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });

  // ---- toasts for requests htmx does not swap ---------------------------------------
  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast" + (kind ? " toast-" + kind : "");
    item.setAttribute("role", "alert");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 7000);
  }

  var STATUS_MESSAGES = {
    400: "The request was not understood. Reload the page and try again.",
    403: "Your role does not allow this action.",
    404: "This record no longer exists. Reload the page.",
    405: "This action is not available here.",
  };

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 401) return; // HX-Redirect to the login page is under way
    var message = STATUS_MESSAGES[status] ||
      "Something went wrong on the server (" + status + "). Your last change may not be saved: reload and check.";
    toast(message, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("No connection to the server: nothing was sent. Check your network and try again.", "error");
  });

  // Bookmarkable list URLs: leave out the filters left empty ("?q=acme", not "?q=acme&type=&segment=").
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    Array.from(params.keys()).forEach(function (key) {
      if (params.get(key) === "") params.delete(key);
    });
  });

  // A confirmation swapped in takes the focus, so Enter confirms and Tab reaches Cancel.
  document.addEventListener("htmx:afterSettle", function (event) {
    var focus = event.detail.target && event.detail.target.querySelector && event.detail.target.querySelector("[autofocus]");
    if (focus) focus.focus();
  });

  // Keyboard users keep their place when an action swaps the part of the page they were in: the focus goes back to
  // the control with the same id (a role chip, a tax ID's button), else to the first field with an error, else to the
  // first control of what was swapped in, rather than to the top of the page. htmx alone cannot: it disables the
  // action's buttons while the request runs, which takes their focus away.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  function isAction(event) {
    return Boolean(event.detail.requestConfig && event.detail.requestConfig.verb !== "get");  // not a poll
  }
  var focused = null;  // the element that had the focus as the action left
  var focusWasIn = null;  // what the action's answer replaces, if the focus was in it
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isAction(event)) focused = document.activeElement;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isAction(event)) return;
    var target = event.detail.target;
    focusWasIn = event.detail.shouldSwap && focused && target && target.contains(focused) ? target : null;
    if (!focusWasIn) focused = null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!focusWasIn || !(root === focusWasIn || (focusWasIn.id && root.id === focusWasIn.id))) return;
    var before = focused;
    focusWasIn = focused = null;
    if (!root.isConnected || (document.activeElement && document.activeElement !== document.body)) return;
    var same = before && before.id ? document.getElementById(before.id) : null;
    var next = (same && same.matches(FOCUSABLE) ? same : null) ||
      root.querySelector("[aria-invalid='true']") || root.querySelector(FOCUSABLE);
    if (next) next.focus();
  });

  // A link marked data-dismiss="ID" empties that element (a confirmation box) instead of leaving the page; its
  // href stays the way back without JavaScript. Here rather than in hx-on, which needs 'unsafe-eval' in the CSP.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-dismiss]");
    if (!link) return;
    var box = document.getElementById(link.getAttribute("data-dismiss"));
    if (box) {
      event.preventDefault();
      box.replaceChildren();
    }
  });

  // ---- row selection for bulk actions --------------------------------------------------
  function refreshSelection(root) {
    document.querySelectorAll("[data-bulkbar]").forEach(function (bar) {
      var form = document.getElementById(bar.getAttribute("data-bulkbar"));
      var boxes = document.querySelectorAll("input[data-select-row][form='" + form.id + "']");
      var checked = Array.prototype.filter.call(boxes, function (box) { return box.checked; });
      bar.hidden = checked.length === 0;
      var count = bar.querySelector("[data-selected-count]");
      if (count) count.textContent = checked.length + " selected";
      var all = document.querySelector("input[data-select-all='" + form.id + "']");
      if (all) {
        all.checked = boxes.length > 0 && checked.length === boxes.length;
        all.indeterminate = checked.length > 0 && checked.length < boxes.length;
      }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-select-all]")) {
      var formId = target.getAttribute("data-select-all");
      document.querySelectorAll("input[data-select-row][form='" + formId + "']").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches("input[data-select-row], input[data-select-all]")) refreshSelection();
  });
  document.addEventListener("htmx:afterSettle", function () { refreshSelection(); });

  // ---- unsaved edits: warn before leaving a form with changes not yet saved ----------------
  var dirty = new Set();
  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-guard-unsaved]");
    if (form) dirty.add(form.id);
  });
  // Before the swap: a saved form is replaced by its fresh copy, and events from a removed element never
  // reach the document. Only a save that succeeded clears the guard; errors and stale edits keep the input.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-guard-unsaved]");
    var xhr = event.detail.xhr;
    if (form && xhr.status < 300 && !xhr.getResponseHeader("X-Unsaved-Edit")) dirty.delete(form.id);
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-guard-unsaved]") && !event.target.hasAttribute("hx-post")) {
      dirty.delete(event.target.id);
    }
  });
  window.addEventListener("beforeunload", function (event) {
    var open = Array.from(dirty).filter(function (id) { return document.getElementById(id); });
    if (open.length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
