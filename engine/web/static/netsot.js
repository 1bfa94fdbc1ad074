// netsot status page: live search, network filter and column sort. Without JavaScript the form does the same
// on the server; nothing here changes anything anywhere.
(function () {
  "use strict";
  // one-click copy of a command (the buttons show only with JavaScript; without it, a click selects the command)
  document.documentElement.classList.add("js");
  function copied(button) {
    button.classList.add("done");
    button.textContent = "copied";
    window.setTimeout(function () { button.classList.remove("done"); button.textContent = "copy"; }, 1500);
  }
  function fallback(button, text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    try { if (document.execCommand("copy")) { copied(button); } } finally { document.body.removeChild(area); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    var text = button.getAttribute("data-copy") || "";
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { fallback(button, text); });
    } else {
      fallback(button, text);
    }
  });
  var table = document.getElementById("matrix");
  if (!table) { return; }
  var body = table.tBodies[0];
  var q = document.getElementById("q"), net = document.getElementById("network");
  var shown = document.getElementById("shown");
  function filter() {
    var words = (q.value || "").toLowerCase().split(/\s+/).filter(Boolean), want = net.value, n = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var text = row.getAttribute("data-search") || "";
      var ok = (!want || row.getAttribute("data-network") === want) &&
        words.every(function (w) { return text.indexOf(w) !== -1; });
      row.classList.toggle("hidden", !ok);
      if (ok) { n += 1; }
    });
    if (shown) { shown.textContent = n + " of " + body.rows.length + " rows"; }
  }
  function ipKey(ip) {
    return (ip || "").split(".").map(function (p) { return ("00" + p).slice(-3); }).join(".");
  }
  var order = { red: 0, amber: 1, "new": 2, ok: 3, absent: 4 };
  function sortBy(key) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key) || "", y = b.getAttribute("data-" + key) || "";
      if (key === "ip") { x = ipKey(x); y = ipKey(y); }
      if (key === "state") { x = String(order[x]); y = String(order[y]); }
      return x < y ? -1 : x > y ? 1 : 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  q.addEventListener("input", filter);
  net.addEventListener("change", filter);
  Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (th) {
    th.addEventListener("click", function () { sortBy(th.getAttribute("data-sort")); });
  });
  filter();
}());
