"""The HTML page's inline style sheet and script, and the policy that allows only them.

The page works without the script: every section is visible and every link works. The
script only adds the filter bar (backend, machine, family, status), sortable columns
(click a header; again to reverse) and, when a link's target is hidden by a filter,
clears the filter. The Content-Security-Policy names the two by their SHA-256, so the
browser runs no other script or style and loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import hashlib

BAR = "44px"
"""Height of the sticky bar; table headers stick just below it."""

STYLE = (
    """
:root { --bar: BAR; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2em 3em; color: #1d1d1f; }
h1 { font-size: 1.45em; margin: 0.8em 0 0.2em; }
h2 { font-size: 1.2em; margin: 1.8em 0 0.4em; padding-top: 0.2em; }
h1 small { font-weight: normal; color: #555; font-size: 0.75em; }
section, li.failure, td.cell, h2 { scroll-margin-top: calc(var(--bar) + 36px); }
nav.bar { position: sticky; top: 0; z-index: 3; height: var(--bar); box-sizing: border-box;
  display: flex; align-items: center; gap: 1em; white-space: nowrap; overflow-x: auto;
  font-size: 13px;
  background: #fff; border-bottom: 1px solid #d0d4da; margin: 0 -2em; padding: 0 2em; }
nav.bar a { color: #0b57a4; text-decoration: none; }
nav.bar a:hover { text-decoration: underline; }
nav.bar .verdict { font-weight: bold; }
form.filters { margin-left: auto; display: flex; gap: 0.7em; align-items: center; color: #555; }
form.filters select, form.filters button { font: inherit; padding: 1px 2px; max-width: 10em; }
table { border-collapse: separate; border-spacing: 0; margin: 0.5em 0; }
th, td { border: solid #cdd1d6; border-width: 0 1px 1px 0; padding: 3px 8px; text-align: left; }
tr > :first-child { border-left-width: 1px; }
thead th { position: sticky; top: var(--bar); z-index: 2; background: #eef0f3;
  border-top-width: 1px; box-shadow: 0 1px 0 #cdd1d6; }
tbody th { background: #f7f7f8; font-weight: 600; }
tbody tr > th:first-child { position: sticky; left: 0; z-index: 1; }
tr.family th { background: #e1e6ef; font-weight: bold; position: static; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.cell { text-align: center; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.cell a { color: inherit; display: block; margin: -3px -8px; padding: 3px 8px; }
td.pass { background: #c8efc8; }
td.warn { background: #ffe2a6; }
td.fail { background: #f6b3b3; font-weight: 600; }
td.fail a { text-decoration: underline dotted; }
td.na { background: #e8e8e8; color: #666; }
td.cell:target, li.failure:target { outline: 3px solid #0b57a4; outline-offset: -3px; }
td.conforms { color: #176317; font-weight: bold; } td.fails { color: #a11; font-weight: bold; }
td.fails a { color: inherit; }
pre { background: #f4f5f7; padding: 6px 8px; overflow-x: auto; margin: 0.3em 0; }
code { font-size: 0.95em; }
.legend, .note { color: #555; }
ol.failures { padding-left: 2em; }
li.failure { border: 1px solid #e3b0b0; border-left: 4px solid #c33; border-radius: 3px;
  padding: 0.1em 1em 0.5em; margin: 0 0 1em; background: #fffafa; }
li.failure h3 { font-size: 1.02em; margin: 0.6em 0 0.3em; }
li.failure .back { float: right; font-weight: normal; font-size: 0.9em; }
li.failure p { margin: 0.3em 0; }
li.failure:target { background: #fff3d6; }
details > summary { cursor: pointer; color: #0b57a4; margin: 0.4em 0; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 0.6em 0 1em;
  font: 12px system-ui, sans-serif; }
svg.chart .grid { stroke: #d9dce1; } svg.chart .axis { stroke: #888; }
svg.chart .limit { stroke: #c33; stroke-width: 1.6; stroke-dasharray: 5 3; fill: none; }
svg.chart .over { fill: #fbe9e9; } svg.chart .panel { font-weight: bold; }
.js th.sort { cursor: pointer; }
.js th.sort::after { content: " ↕"; color: #999; font-weight: normal; }
.js th[aria-sort=ascending]::after { content: " ▲"; color: #333; }
.js th[aria-sort=descending]::after { content: " ▼"; color: #333; }
.js th.sort:focus-visible { outline: 2px solid #0b57a4; }
"""
).replace("BAR", BAR)

SCRIPT = """
(function () {
  "use strict";
  var doc = document, each = function (list, f) { Array.prototype.forEach.call(list, f); };
  var form = doc.getElementById("filters");
  doc.documentElement.classList.add("js");
  if (!form) { return; }
  form.hidden = false;
  var field = function (name) { var e = form.elements[name]; return e ? e.value : ""; };
  function wanted(el, b, m, f) {
    var d = el.dataset;
    return (!b || !d.b || d.b === b) && (!m || !d.m || d.m === m) && (!f || !d.f || d.f === f);
  }
  function apply() {
    var b = field("backend"), m = field("machine"), f = field("family"), s = field("status");
    each(doc.querySelectorAll("table[data-cols]"), function (table) {
      var k = +table.dataset.cols;
      var heads = Array.prototype.slice.call(table.tHead.rows[0].cells, k);
      var show = heads.map(function (th) {
        var on = wanted(th, b, m, "");
        th.hidden = !on;
        return on;
      });
      var shown = show.filter(Boolean).length, status = table.hasAttribute("data-status") && s;
      each(table.tBodies, function (body) {
        var any = false;
        each(body.rows, function (row) {
          if (row.classList.contains("family")) { row.cells[0].colSpan = k + shown; return; }
          var hit = !status;
          for (var i = k; i < row.cells.length; i++) {
            row.cells[i].hidden = !show[i - k];
            if (show[i - k] && status && row.cells[i].classList.contains(s)) { hit = true; }
          }
          row.hidden = !(hit && wanted(row, "", "", f) && wanted(body, "", "", f));
          any = any || !row.hidden;
        });
        body.hidden = !any;
      });
    });
    each(doc.querySelectorAll(".item"), function (el) {
      el.hidden = !(wanted(el, b, m, f) && (!s || !el.dataset.s || el.dataset.s === s));
    });
  }
  function reveal() {
    var el = location.hash && doc.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!el) { return; }
    for (var up = el; up; up = up.parentElement) {
      if (up.hidden) { form.reset(); apply(); break; }
    }
    for (up = el; up; up = up.parentElement) { if (up.tagName === "DETAILS") { up.open = true; } }
    el.scrollIntoView();
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  window.addEventListener("hashchange", reveal);
  function key(cell) {
    if (!cell) { return ""; }
    if (cell.dataset.v !== undefined) { return +cell.dataset.v; }
    var text = cell.textContent.trim(), n = Number(text);
    return text !== "" && !isNaN(n) ? n : text.toLowerCase();
  }
  function compare(x, y) {
    if (typeof x !== typeof y) { x = String(x); y = String(y); }
    return x < y ? -1 : x > y ? 1 : 0;
  }
  each(doc.querySelectorAll("table.sortable thead th"), function (th) {
    th.classList.add("sort");
    th.tabIndex = 0;
    function sort() {
      var table = th.closest("table"), i = th.cellIndex;
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      each(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      each(table.tBodies, function (body) {
        var rows = Array.prototype.filter.call(body.rows, function (r) {
          return !r.classList.contains("family");
        });
        rows.sort(function (a, b) { return dir * compare(key(a.cells[i]), key(b.cells[i])); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
  apply();
  reveal();
})();
"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src '{_sha256(SCRIPT)}'; style-src '{_sha256(STYLE)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
"""Only this module's script and style run; nothing is fetched from anywhere."""
