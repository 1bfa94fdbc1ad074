// netsot status page: live search, network filter and column sort. Without JavaScript the form does the same
// on the server; nothing here changes anything anywhere.
(function () {
  "use strict";
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
