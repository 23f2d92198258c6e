// Roster console: small progressive enhancements. Every page works without
// this file; it adds search as you type, auto-submitting selects, copying
// links, extra invite rows and the agent-ID typeahead.
"use strict";
(function () {
  function qs(sel, root) { return (root || document).querySelector(sel); }
  function qsa(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function debounce(fn, ms) {
    var t;
    return function () { var args = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, args); }, ms); };
  }

  // Selects marked data-autosubmit submit their form on change.
  function autosubmit(root) {
    qsa("select[data-autosubmit]", root).forEach(function (sel) {
      sel.addEventListener("change", function () { if (sel.form) sel.form.requestSubmit ? sel.form.requestSubmit() : sel.form.submit(); });
    });
  }

  // Search as you type: a form marked data-live fetches its own results and
  // swaps the element named by data-live (the list), keeping focus in the box.
  function liveSearch() {
    qsa("form[data-live]").forEach(function (form) {
      var target = form.getAttribute("data-live");
      var input = qs("input[type=search]", form);
      if (!input) return;
      var seq = 0;
      var run = debounce(function () {
        var params = new URLSearchParams(new FormData(form));
        params.delete("page");
        var url = form.getAttribute("action") + "?" + params.toString();
        var mine = ++seq;
        fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            if (mine !== seq) return;
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById(target), old = document.getElementById(target);
            if (fresh && old) {
              old.replaceWith(fresh);
              autosubmit(fresh);
              labelCells(fresh);
              // Links in the form that depend on the search (Download CSV)
              // follow it too.
              qsa("a[id]", form).forEach(function (a) {
                var twin = doc.getElementById(a.id);
                if (twin) a.setAttribute("href", twin.getAttribute("href"));
              });
              qsa("[data-select-all]", fresh).forEach(function (b) { b.hidden = false; });
              history.replaceState(null, "", url);
            }
          })
          .catch(function () {});
      }, 250);
      input.addEventListener("input", run);
    });
  }

  // At phone width a list's rows become cards (console.css): each cell
  // carries its column's heading as data-label, shown before the value.
  // Headings that are only for screen readers ("Actions") label nothing.
  function labelCells(root) {
    qsa("table.table", root).forEach(function (table) {
      var heads = qsa("thead th", table).map(function (th) {
        var text = th.textContent.trim();
        var hidden = qsa(".sr-only", th).map(function (e) { return e.textContent.trim(); }).join(" ");
        return text === hidden ? "" : text.replace(/[▲▼↕]/g, "").trim();
      });
      qsa("tbody tr", table).forEach(function (tr) {
        var col = 0;
        qsa(":scope > td, :scope > th", tr).forEach(function (td) {
          if (heads[col] && !td.hasAttribute("data-label")) td.setAttribute("data-label", heads[col]);
          col += td.colSpan || 1;
        });
      });
    });
  }

  // Copy buttons: data-copy holds the text, or data-copy-from the id of an
  // input, or data-copy-url an address answering the text to copy.
  function copyButtons() {
    document.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-copy], [data-copy-from], [data-copy-url]");
      if (!btn) return;
      ev.preventDefault();
      var done = function (text) {
        var ok = function () { say(btn, msg("copied", "Copied")); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(ok, function () { fallbackCopy(text); ok(); });
        } else { fallbackCopy(text); ok(); }
      };
      if (btn.hasAttribute("data-copy")) return done(btn.getAttribute("data-copy"));
      if (btn.hasAttribute("data-copy-from")) return done(qs("#" + btn.getAttribute("data-copy-from")).value);
      fetch(btn.getAttribute("data-copy-url"), { headers: { "Accept": "text/plain" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (t) { btn.setAttribute("data-copied", t.trim()); done(t.trim()); })
        .catch(function () { say(btn, msg("copyFailed", "Could not copy")); });
    });
  }
  // Copy-link forms (a fresh invitation link is made by a POST): with a
  // script, post in the background and put the answer on the clipboard.
  function copyForms() {
    document.addEventListener("submit", function (ev) {
      var form = ev.target.closest("form[data-copy-form]");
      if (!form) return;
      ev.preventDefault();
      var btn = qs("button[type=submit]", form);
      fetch(form.getAttribute("action"), {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "text/plain", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(form)).toString()
      })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (url) {
          url = url.trim();
          btn.setAttribute("data-copied", url);
          var ok = function () { say(btn, msg("linkCopied", "Link copied"), msg("linkCopiedSpoken", "Link copied. The emailed link stops working: send this one instead.")); };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(url).then(ok, function () { fallbackCopy(url); ok(); });
          } else { fallbackCopy(url); ok(); }
        })
        .catch(function () { say(btn, msg("copyFailed", "Could not copy")); });
    });
  }
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.className = "sr-only";
    document.body.appendChild(ta); ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(ta);
  }
  // msg is a word of the page's language: the layout puts them on <body> as
  // data-msg-* attributes, so this file holds no language.
  function msg(name, fallback) {
    return document.body.getAttribute("data-msg-" + name.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); })) || fallback;
  }

  // say shows text on the button for a moment and tells screen readers
  // (spoken, when given, is the longer sentence for the live region).
  function say(btn, text, spoken) {
    var live = qs("#live-region");
    if (!live) {
      live = document.createElement("div");
      live.id = "live-region"; live.className = "sr-only"; live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = spoken || text;
    if (!btn.dataset.label) btn.dataset.label = btn.innerHTML;
    btn.textContent = text;
    clearTimeout(btn._sayTimer);
    btn._sayTimer = setTimeout(function () { btn.innerHTML = btn.dataset.label; delete btn.dataset.label; }, 1600);
  }

  // Confirm-less destructive buttons do not exist: destructive actions have
  // their own confirmation page. This only guards double submits.
  function noDoubleSubmit() {
    document.addEventListener("submit", function (ev) {
      var f = ev.target;
      if (f.method.toLowerCase() !== "post" || f.hasAttribute("data-copy-form")) return;
      if (f.dataset.sent) { ev.preventDefault(); return; }
      f.dataset.sent = "1";
      setTimeout(function () { delete f.dataset.sent; }, 3000);
    });
  }

  // Invite page: "Add a user" clones the row template, renumbering names.
  function inviteRows() {
    var add = qs("[data-add-row]");
    var tpl = qs("#invite-row-template");
    var rows = qs("#invite-rows");
    if (!add || !tpl || !rows) return;
    add.hidden = false;
    add.addEventListener("click", function () {
      var n = qsa(".invite-row", rows).length;
      var html = tpl.innerHTML.replace(/__N__/g, String(n)).replace(/__NUM__/g, String(n + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      rows.appendChild(row);
      setupRow(row);
      syncRemove();
      var first = qs("input[type=text], input[type=email]", row);
      if (first) first.focus();
    });
    qsa(".invite-row", rows).forEach(setupRow);
    document.addEventListener("click", function (ev) {
      var rm = ev.target.closest("[data-remove-row]");
      if (!rm) return;
      var row = rm.closest(".invite-row");
      if (row && qsa(".invite-row", rows).length > 1) { row.remove(); syncRemove(); add.focus(); }
    });
    // "Remove" shows when there is more than one row.
    function syncRemove() {
      var all = qsa(".invite-row", rows);
      all.forEach(function (r) { var b = qs("[data-remove-row]", r); if (b) b.hidden = all.length < 2; });
    }
    syncRemove();
  }

  // The agent picker of a row shows when one of its roles is Agent.
  function setupRow(row) {
    var roleBoxes = qsa("input[data-role]", row);
    var picker = qs(".agent-picker", row);
    if (picker) {
      var sync = function () {
        var agent = roleBoxes.some(function (b) { return b.checked && b.getAttribute("data-role") === "agent"; });
        picker.hidden = !agent;
      };
      roleBoxes.forEach(function (b) { b.addEventListener("change", sync); });
      sync();
    }
    // Ticking Team Leader opens the row's Teams: a team leader needs one.
    var teams = qs("details.teams", row);
    roleBoxes.forEach(function (b) {
      if (b.getAttribute("data-role") !== "team_leader") return;
      b.addEventListener("change", function () { if (b.checked && teams) teams.open = true; });
    });
    qsa(".typeahead", row).forEach(setupTypeahead);
  }

  // Agent-ID typeahead: type a name or ID, pick from the list (which says who
  // holds an ID already); picked IDs become hidden inputs and removable chips.
  function setupTypeahead(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var input = qs("input[type=search]", box);
    var list = qs(".typeahead-list", box);
    var picked = qs(".picked", box);
    var name = box.getAttribute("data-name");
    var url = box.getAttribute("data-url");
    var exceptUser = box.getAttribute("data-user") || "";
    var active = -1, items = [];
    if (!input || !list) return;
    input.hidden = false;
    var noscript = qs(".typeahead-fallback", box);
    if (noscript) noscript.remove();
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function highlight(i) {
      qsa("li", list).forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      var li = qsa("li", list)[i];
      if (li) input.setAttribute("aria-activedescendant", li.id); else input.removeAttribute("aria-activedescendant");
    }
    function has(id) { return !!qs('input[type=hidden][value="' + id + '"]', picked); }
    function pick(item) {
      if (!has(item.id)) {
        var li = document.createElement("li");
        var h = document.createElement("input");
        h.type = "hidden"; h.name = name; h.value = item.id;
        var label = document.createElement("span");
        label.textContent = item.label;
        var b = document.createElement("button");
        b.type = "button"; b.textContent = "×"; b.setAttribute("aria-label", msg("remove", "Remove") + " " + item.label);
        b.addEventListener("click", function () { li.remove(); input.focus(); });
        li.appendChild(h); li.appendChild(label); li.appendChild(b);
        picked.appendChild(li);
      }
      input.value = ""; close(); input.focus();
    }
    var search = debounce(function () {
      var q = input.value.trim();
      if (!q) { close(); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          items = data.items || [];
          list.innerHTML = "";
          items.forEach(function (it, i) {
            var li = document.createElement("li");
            li.id = box.id + "-opt-" + i;
            li.setAttribute("role", "option");
            var main = document.createElement("span");
            main.textContent = it.label;
            var holder = document.createElement("span");
            holder.className = "holder";
            if (it.holder && String(it.holder_id) !== exceptUser) { li.className = "taken"; holder.textContent = msg("heldBy", "held by") + " " + it.holder; }
            else { holder.textContent = it.interactions + " " + msg("interactions", "interactions"); }
            li.appendChild(main); li.appendChild(holder);
            li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(it); });
            list.appendChild(li);
          });
          if (!items.length) {
            var none = document.createElement("li");
            none.textContent = msg("noAgentMatch", "No agent ID matches");
            none.setAttribute("aria-disabled", "true");
            list.appendChild(none);
          }
          open(); highlight(items.length ? 0 : -1);
        })
        .catch(close);
    }, 150);
    input.addEventListener("input", search);
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && items.length) { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (e.key === "Enter") { if (!list.hidden && active >= 0 && items[active]) { e.preventDefault(); pick(items[active]); } }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  // The sign-in page's "Sign in with ..." buttons follow the organisation
  // as it is typed (without this file they come once it is known).
  function ssoOptions() {
    var box = qs("[data-sso-tenant]");
    var input = box && qs("input[name=" + box.getAttribute("data-sso-tenant") + "]");
    if (!input) return;
    var seq = 0;
    input.addEventListener("input", debounce(function () {
      var n = ++seq, tenant = input.value.trim();
      if (!tenant) { box.replaceChildren(); return; }
      fetch("/api/v1/sso/options?tenant=" + encodeURIComponent(tenant), { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.json() : { items: [] }; })
        .then(function (data) {
          if (n !== seq) return;
          box.replaceChildren.apply(box, (data.items || []).map(function (o) {
            var a = document.createElement("a");
            a.className = "btn";
            a.href = "/sso/" + encodeURIComponent(o.id) + "/start";
            a.textContent = msg("signInWith", "Sign in with") + " " + o.name;
            return a;
          }));
        })
        .catch(function () {});
    }, 300));
  }

  // "Sign in with your organisation's account" takes the organisation
  // typed in the sign-in form above it.
  function ssoRoute() {
    var form = qs("#sso-route");
    var from = qs("input[name=tenant]");
    var to = form && qs("[data-copy-tenant]", form);
    if (!to || !from || from === to) return;
    form.addEventListener("submit", function (ev) {
      to.value = from.value.trim();
      var email = qs("input[name=email]", form).value.trim();
      if (!to.value || !email) return; // the server says what is missing
      ev.preventDefault();
      fetch("/api/v1/sso/route?tenant=" + encodeURIComponent(to.value) + "&email=" + encodeURIComponent(email), { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (o) { if (o && o.start_url) location.assign(o.start_url); else form.submit(); })
        .catch(function () { form.submit(); });
    });
  }

  // A link to follow at once (the IdP's logout after signing out).
  function followNow() {
    var a = qs("a[data-follow-now]");
    if (a) location.assign(a.href);
  }

  // Chips rendered by the server remove themselves too.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-unpick]");
    if (!b) return;
    var box = b.closest(".typeahead");
    b.closest("li").remove();
    var input = box && qs("input[type=search]", box);
    if (input) input.focus();
  });

  // Bulk selection on the Users list: the header's box ticks every row of
  // the page (it stays hidden without this script); ticking a row chooses
  // "users ticked below" again. Delegated, so live search's fresh rows work.
  function bulkSelect() {
    qsa("[data-select-all]").forEach(function (b) { b.hidden = false; });
    document.addEventListener("change", function (ev) {
      var all = ev.target.closest("[data-select-all]");
      var form = all ? all.getAttribute("data-select-all") : ev.target.getAttribute("form");
      if (!form || ev.target.type !== "checkbox") return;
      var boxes = qsa('input[type=checkbox][form="' + form + '"]');
      if (all) boxes.forEach(function (b) { b.checked = all.checked; });
      var ticked = qs("#bulk-scope-selected");
      if (ticked) ticked.checked = true;
    });
  }

  // The import's progress page polls its run and, once it is done,
  // reloads the page, which then leads to the result.
  function importProgress() {
    var box = qs("[data-import-progress]");
    if (!box) return;
    var bar = qs("#import-bar", box), label = qs("#import-stage", box);
    var poll = function () {
      fetch(box.getAttribute("data-import-progress"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          bar.value = p.percent;
          bar.textContent = p.percent + "%";
          label.textContent = p.text; // in the reader's language, from the server
          if (p.done) { location.assign(box.getAttribute("data-done")); return; }
          setTimeout(poll, 400);
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 200);
  }

  document.addEventListener("DOMContentLoaded", function () {
    importProgress();
    bulkSelect();
    autosubmit(document);
    labelCells(document);
    liveSearch();
    copyButtons();
    ssoRoute();
    followNow();
    copyForms();
    noDoubleSubmit();
    inviteRows();
    ssoOptions();
    qsa(".typeahead").forEach(function (box) { if (!box.closest(".invite-row")) setupTypeahead(box); });
  });
})();
