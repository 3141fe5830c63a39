/* Today live (/manage): refreshes its figures from /api/stats/live every few seconds. */
(function () {
  "use strict";
  var Hall = window.Hall;
  var WINDOW_STATES = { open: "服务中", paused: "暂停服务", closed: "未开窗" };
  var SECTION_STATES = { open: "取号中", closed: "未到取号时间", full: "今日号满" };

  /** Seconds for people, as the server writes them: 45秒, 12分05秒, 1小时05分. */
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.round(seconds);
    if (s < 60) return s + "秒";
    if (s < 3600) return Math.floor(s / 60) + "分" + pad(s % 60) + "秒";
    return Math.floor(s / 3600) + "小时" + pad(Math.floor((s % 3600) / 60)) + "分";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) {
      var td = document.createElement("td");
      if (c.strong !== undefined) {
        var b = document.createElement("strong");
        b.textContent = c.strong;
        td.appendChild(b);
        td.appendChild(document.createTextNode(" " + c.text));
      } else {
        td.textContent = c.text;
      }
      if (c.num) td.className = "num";
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(id, rows) {
    var body = document.getElementById(id);
    if (!body) return;
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function sectionRow(s) {
    return row([
      { strong: s.id, text: s.name },
      { text: SECTION_STATES[s.state] || s.state },
      { text: String(s.waiting), num: true },
      { text: s.longest_number ? duration(s.longest_wait_s) + "(" + s.longest_number + ")" : "—" },
      { text: String(s.issued), num: true },
      { text: String(s.served), num: true },
      { text: String(s.no_shows), num: true },
      { text: duration(s.wait_avg_s) },
      { text: duration(s.service_avg_s) },
      { text: s.windows_open + " / " + s.windows, num: true }
    ]);
  }

  function windowRow(w) {
    var staff = "—";
    if (w.staff) staff = w.staff.name + (w.staff.staff_no ? "(工号 " + w.staff.staff_no + ")" : "");
    return row([
      { strong: String(w.no), text: w.name },
      { text: WINDOW_STATES[w.state] || w.state },
      { text: staff },
      { text: w.current ? w.current.number + " " + w.current.status_name : "—" },
      { text: String(w.served), num: true },
      { text: duration(w.service_avg_s) },
      { text: duration(w.on_duty_s) },
      { text: duration(w.idle_s) },
      { text: duration(w.paused_s) }
    ]);
  }

  function show(data) {
    var t = data.totals;
    Hall.text("t-waiting", t.waiting);
    Hall.text("t-issued", t.issued);
    Hall.text("t-served", t.served);
    Hall.text("t-no_shows", t.no_shows);
    Hall.text("t-wait_avg_s", duration(t.wait_avg_s));
    Hall.text("t-service_avg_s", duration(t.service_avg_s));
    Hall.text("live-day", data.hall.day);
    Hall.text("live-now", data.hall.now.slice(11, 19));
    fill("live-sections", data.sections.map(sectionRow));
    fill("live-windows", data.windows.map(windowRow));
  }

  function refresh() {
    Hall.api("GET", "/api/stats/live").then(function (answer) {
      if (answer.status === 200) {
        Hall.text("live-error", "");
        show(answer.data);
      } else {
        Hall.text("live-error", Hall.errorMessage(answer));
      }
    }, function () {
      Hall.text("live-error", "网络中断,稍后自动重试");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (!live) return;
    var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 15;
    Hall.manageRefresh = refresh; // lets a test refresh without waiting
    window.setInterval(refresh, seconds * 1000);
  });
})();
