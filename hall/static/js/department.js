/* 部门工单 (/department): a department's cases, those to sign for first; sign for, answer
   (反馈), return with a reason (退单) or ask for more time (延期), live. */
(function () {
  "use strict";
  var D = Hall.desk;
  var data = JSON.parse(document.getElementById("desk-data").textContent);
  var serial = Hall.serial();
  var cases = [];
  var openId = null;
  var pane = document.getElementById("case-body");

  function loadList() {
    return Hall.api("GET", "/api/desk/inbox").then(function (answer) {
      if (answer.status !== 200) return;
      cases = answer.data.cases;
      renderList();
    });
  }
  var refreshList = Hall.coalesced(serial, loadList);

  function renderList() {
    var list = D.clear(document.getElementById("inbox"));
    cases.forEach(function (c) {
      var li = D.el("li", "desk-item" + (c.id === openId ? " desk-open" : ""));
      li.setAttribute("data-case", c.id);
      var button = D.el("button", "desk-item-button");
      button.type = "button";
      if (c.id === openId) button.setAttribute("aria-current", "true");
      var top = D.el("span", "desk-item-top");
      top.appendChild(D.el("span", "desk-case-no", c.no));
      top.appendChild(D.el("span", "desk-type", c.type_name));
      if (c.share) top.appendChild(D.el("span", "desk-status desk-d-" + c.share.status, c.share.status_name));
      button.appendChild(top);
      button.appendChild(D.el("span", "desk-snippet", c.title || ""));
      var bottom = D.el("span", "desk-item-bottom");
      bottom.appendChild(D.dueLine(c));
      if (c.share && c.share.extension_requested) bottom.appendChild(D.el("span", "muted", "已申请延期"));
      button.appendChild(bottom);
      button.addEventListener("click", function () { openCase(c.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    Hall.text("inbox-count", "(" + cases.length + ")");
    document.getElementById("inbox-empty").hidden = cases.length > 0;
  }

  function myShare(c) {
    var mine = c.dispatches.filter(function (d) { return d.department === data.department && d.round === c.round; });
    return mine.length ? mine[mine.length - 1] : null;
  }

  function show(c) {
    openId = c.id;
    document.getElementById("case-placeholder").hidden = true;
    pane.hidden = false;
    Hall.text("case-title", "工单 " + c.no);
    D.clear(pane);
    pane.setAttribute("data-case", c.id);
    var share = myShare(c);
    pane.setAttribute("data-share", share ? share.status : "");

    var head = D.el("div", "desk-case-head");
    var title = D.el("p", "desk-case-title");
    title.appendChild(D.el("strong", "desk-case-no", c.no));
    title.appendChild(D.channelBadge(c));
    title.appendChild(D.el("span", "desk-type", c.type_name));
    if (share) {
      var badge = D.el("span", "desk-status desk-d-" + share.status, "本部门:" + share.status_name);
      badge.id = "share-status";
      title.appendChild(badge);
    }
    head.appendChild(title);
    if (c.title) head.appendChild(D.el("p", "desk-case-subject", c.title));
    var line = D.el("p", "desk-case-line");
    line.appendChild(D.dueLine(c));
    var contact = [c.contact.name, c.contact.phone, c.contact.email].filter(Boolean).join(" ");
    line.appendChild(D.el("span", "muted", " · 登记 " + D.when(c.created_at) + (contact ? " · 联系人 " + contact : "")));
    head.appendChild(line);
    if (share && share.instructions) head.appendChild(D.el("p", "desk-note", "转办意见:" + share.instructions));
    pane.appendChild(head);

    pane.appendChild(D.conversation(c));
    pane.appendChild(actions(c, share));
    pane.appendChild(D.dispatches(c));
    pane.appendChild(D.history(c, data.states));
    D.shown(pane, c);
    renderList();
  }

  function actions(c, share) {
    var s = D.section("办理", "case-actions-title");
    var box = D.el("div", "desk-actions");
    box.id = "case-actions";
    var path = function (action) { return "/api/cases/" + c.id + "/" + action; };
    var done = function (updated) { show(updated); refreshList(); };
    var st = share ? share.status : null;
    if (st === "answered") box.appendChild(D.el("p", "muted", "本部门已反馈(" + D.when(share.answered_at) + "),等待坐席审核。"));
    if (st === "returned") box.appendChild(D.el("p", "muted", "本部门已退单:" + (share.return_reason || "")));
    if (!st) box.appendChild(D.el("p", "muted", "本轮没有转办给本部门。"));

    if (st === "pending") {
      box.appendChild(D.form({
        action: "sign", title: "签收", submit: "签收", path: path("sign"),
        hint: "签收后开始办理,办理结果在此反馈。",
        fields: function () {},
        build: function () { return {}; },
        done: done,
      }));
    }
    if (st === "signed") {
      box.appendChild(D.form({
        action: "feedback", title: "反馈办理结果", submit: "提交反馈", path: path("feedback"),
        fields: function (f) { D.field(f, "textarea", "answer", "办理结果", { max: 5000, required: true, rows: 5 }); },
        build: function (f) { return { answer: f.elements.answer.value }; },
        done: done,
      }));
    }
    if (st === "pending" || st === "signed") {
      box.appendChild(D.form({
        action: "return", title: "退单", submit: "退单", path: path("return"),
        hint: "不属于本部门职责的,说明理由后退回坐席重新转办。",
        fields: function (f) { D.field(f, "textarea", "reason", "退单理由", { max: 1000 }); },
        build: function (f) { return { reason: f.elements.reason.value }; },
        done: done,
      }));
      box.appendChild(D.form({
        action: "extend", title: "申请延期", submit: "提交申请", path: path("extend"),
        hint: share.extension_requested ? "已申请延期 " + share.extension_requested + " 个工作日,等待坐席审批。" : "由坐席审批;批准后期限顺延。",
        fields: function (f) {
          D.field(f, "number", "days", "延长工作日(1–" + data.extension_max_days + ")", { min: 1, max: data.extension_max_days });
          D.field(f, "input", "reason", "延期理由", { maxLength: 1000 });
        },
        build: function (f) {
          var days = parseInt(f.elements.days.value, 10);
          if (!days) throw new D.Problem("请填写延长的工作日数");
          return { days: days, reason: f.elements.reason.value };
        },
        done: done,
      }));
    }
    s.appendChild(box);
    return s;
  }

  /** Fetch case `id`; `live`: after an event (do not overwrite what the handler is typing). */
  function loadCase(id, live) {
    return Hall.api("GET", "/api/cases/" + id).then(function (answer) {
      if (answer.status !== 200 || openId !== id) return;
      if (live) D.update(pane, answer.data, show, function () { openCase(id); });
      else show(answer.data);
    });
  }

  function openCase(id) {
    openId = id;
    return serial(function () { return loadCase(id, false); });
  }

  D.follow({
    offlineId: "desk-offline",
    load: function () {
      return loadList().then(function () {
        if (openId !== null) return loadCase(openId, true);
      });
    },
    relevant: function (event) {
      return event.type.indexOf("case.") === 0;
    },
  });
})();
