/* 坐席监控 (/desk/supervisor): agents and their load, what waits, what is late, and the
   return-visit rate against its 100% target with the cases still owed a visit, live. */
(function () {
  "use strict";
  var D = Hall.desk;

  function cell(row, value, className) {
    var td = D.el("td", className);
    if (value && value.nodeType) td.appendChild(value);
    else td.textContent = value === null || value === undefined ? "—" : String(value);
    row.appendChild(td);
  }

  function caseRows(id, cases, last) {
    var body = D.clear(document.getElementById(id));
    cases.forEach(function (c) {
      var tr = D.el("tr");
      tr.setAttribute("data-case", c.id);
      var th = D.el("th", null, c.no);
      th.scope = "row";
      tr.appendChild(th);
      cell(tr, D.channelBadge(c));
      cell(tr, c.type_name);
      cell(tr, D.statusBadge(c));
      cell(tr, c.assigned_to ? c.assigned_to.name : "待分派");
      cell(tr, last(c));
      cell(tr, D.dueLine(c));
      body.appendChild(tr);
    });
    if (!cases.length) {
      var tr = D.el("tr");
      var td = D.el("td", "muted", "没有");
      td.colSpan = 7;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function render(o) {
    var rv = o.return_visits;
    var rate = document.getElementById("visit-rate");
    rate.textContent = rv.rate === null ? "—" : (Math.floor(rv.rate * 1000) / 10) + "%";
    rate.className = "sv-big " + (rv.rate === null || rv.rate >= rv.target ? "sv-ok" : "sv-short");
    Hall.text("visit-counts", "应回访 " + rv.due + " 件,已回访 " + rv.done + " 件" + (rv.due > rv.done ? ",还差 " + (rv.due - rv.done) + " 件" : ""));
    Hall.text("waiting", o.waiting);
    Hall.text("overdue-count", o.overdue.length);
    var agents = D.clear(document.getElementById("agents"));
    o.agents.forEach(function (a) {
      var tr = D.el("tr");
      var th = D.el("th", null, a.name);
      th.scope = "row";
      tr.appendChild(th);
      cell(tr, D.el("span", "desk-p desk-p-" + a.status, a.status_name + (a.reason ? "(" + a.reason + ")" : "")));
      cell(tr, a.open_cases);
      agents.appendChild(tr);
    });
    if (!o.agents.length) {
      var tr = D.el("tr");
      var td = D.el("td", "muted", "还没有坐席上线过");
      td.colSpan = 3;
      tr.appendChild(td);
      agents.appendChild(tr);
    }
    Hall.text("owed-count", "(" + o.visit_owed.length + ")");
    caseRows("owed", o.visit_owed, function (c) { return c.visit_attempts + " 次"; });
    caseRows("late", o.overdue, function (c) { return c.escalations ? c.escalations + " 次" : "—"; });
  }

  function load() {
    return Hall.api("GET", "/api/desk/overview").then(function (answer) {
      if (answer.status === 200) render(answer.data);
    });
  }

  D.follow({
    offlineId: "desk-offline",
    load: load,
    relevant: function (event) {
      return event.type.indexOf("case.") === 0 || event.type === "agent.presence";
    },
  });
})();
