/* The seat desk's case pane: one case with its conversation, contact (masked; the whole
   number on request, logged), links and history, and a form for each move its state allows. */
(function () {
  "use strict";
  var D = Hall.desk;

  /**
   * Show case `c` in `root`. ctx: {data (the page's JSON), onChange(case) after a move}.
   */
  D.showCase = function (root, c, ctx) {
    var data = ctx.data;
    D.clear(root);
    root.setAttribute("data-case", c.id);
    root.setAttribute("data-status", c.status);

    var head = D.el("div", "desk-case-head");
    var title = D.el("p", "desk-case-title");
    title.appendChild(D.el("strong", "desk-case-no", c.no));
    title.appendChild(D.channelBadge(c));
    title.appendChild(D.el("span", "desk-type", c.type_name));
    title.appendChild(D.statusBadge(c));
    if (c.round > 1) title.appendChild(D.el("span", "desk-mark desk-warning", "第 " + c.round + " 轮(重办)"));
    head.appendChild(title);
    if (c.title) head.appendChild(D.el("p", "desk-case-subject", c.title));
    var line = D.el("p", "desk-case-line");
    line.appendChild(D.dueLine(c));
    line.appendChild(D.el("span", "muted", " · 登记 " + D.when(c.created_at) + " · 坐席 " + (c.assigned_to ? c.assigned_to.name : "待分派")));
    head.appendChild(line);
    root.appendChild(head);

    var facts = D.el("div", "desk-facts");
    facts.appendChild(contactPart(c));
    facts.appendChild(linksPart(c));
    root.appendChild(facts);

    root.appendChild(D.conversation(c));
    root.appendChild(actions(c, data, ctx.onChange));
    root.appendChild(D.dispatches(c));
    root.appendChild(D.visits(c));
    root.appendChild(D.history(c, data.states));
  };

  function contactPart(c) {
    var s = D.section("联系人", "case-contact-title");
    var who = D.el("span", "desk-contact");
    who.id = "case-contact";
    function fill(contact) {
      var bits = [contact.name, contact.phone, contact.wechat ? "微信 " + contact.wechat : null, contact.email];
      who.textContent = bits.filter(function (b) { return b; }).join(" · ") || "(无联系方式)";
    }
    fill(c.contact);
    s.appendChild(who);
    if (c.contact.phone || c.contact.email || c.contact.wechat) {
      var button = D.el("button", "desk-btn desk-quiet", "显示完整号码");
      button.type = "button";
      button.id = "reveal-contact";
      var note = D.el("span", "desk-error");
      note.setAttribute("role", "alert");
      button.addEventListener("click", function () {
        button.disabled = true;
        Hall.api("GET", "/api/cases/" + c.id + "/contact?purpose=" + encodeURIComponent("坐席回复或回访")).then(
          function (answer) {
            if (answer.status === 200) {
              fill(answer.data);
              button.textContent = "已显示(查看已记录)";
            } else {
              button.disabled = false;
              note.textContent = Hall.errorMessage(answer);
            }
          },
          function () {
            button.disabled = false;
            note.textContent = Hall.errorMessage(null);
          }
        );
      });
      s.appendChild(D.el("span", null, " "));
      s.appendChild(button);
      s.appendChild(note);
    }
    return s;
  }

  function linksPart(c) {
    var s = D.section("关联", "case-links-title");
    var l = c.links;
    var pairs = [
      ["号票", l.ticket_id ? "#" + l.ticket_id : null],
      ["窗口", l.window_no ? l.window_no + "号窗口" : null],
      ["工作人员", l.staff_user_id ? "#" + l.staff_user_id : null],
      ["事项", l.matter],
      ["评价", l.rating_id ? "#" + l.rating_id : null],
    ];
    if (pairs.every(function (p) { return !p[1]; })) s.appendChild(D.el("p", "muted", "未关联号票、窗口、工作人员或事项"));
    else s.appendChild(D.dl(pairs));
    return s;
  }

  // -- the moves ------------------------------------------------------------------------------

  /** 拨打回访电话: the phone system rings the agent, then the citizen (the number stays on the server). */
  function callButton(c) {
    var row = D.el("div", "desk-call");
    var button = D.el("button", "desk-btn desk-quiet", "拨打市民电话");
    button.type = "button";
    var message = D.el("span", "desk-call-msg");
    message.setAttribute("role", "status");
    button.addEventListener("click", function () {
      button.disabled = true;
      message.textContent = "正在呼叫您的话机…";
      Hall.api("POST", "/api/cases/" + c.id + "/call", {}).then(function (answer) {
        button.disabled = false;
        if (answer.status === 200) {
          message.textContent = answer.data.ok ? "已接通您的话机,正在呼叫市民" : "呼叫没有接通(" + answer.data.reason_text + ")";
        } else {
          message.textContent = Hall.errorMessage(answer);
        }
      }, function () {
        button.disabled = false;
        message.textContent = Hall.errorMessage(null);
      });
    });
    row.appendChild(button);
    row.appendChild(message);
    return row;
  }

  function actions(c, data, onChange) {
    var s = D.section("办理", "case-actions-title");
    var box = D.el("div", "desk-actions");
    box.id = "case-actions";
    var path = function (action) { return "/api/cases/" + c.id + "/" + action; };
    var done = function (updated) { onChange(updated); };
    var st = c.status;
    var known = data.types.some(function (t) { return t[0] === c.type; });
    var types = (c.type ? (known ? [] : [[c.type, c.type_name]]) : [["", "请选择类型"]]).concat(data.types);

    if (st === "closed") {
      box.appendChild(D.el("p", "muted", "工单已办结(" + D.when(c.closed_at) + ")" + (c.visit_result_name ? ",回访结果:" + c.visit_result_name : "")));
      s.appendChild(box);
      return s;
    }

    if (st === "registered") {
      box.appendChild(D.form({
        action: "accept", title: "受理", submit: "受理", path: path("accept"),
        fields: function (f) {
          D.field(f, "select", "type", "工单类型", { choices: types, value: c.type || "" });
          D.field(f, "input", "title", "标题(选填)", { maxLength: 60 });
        },
        build: function (f) {
          var type = f.elements.type.value;
          if (!type) throw new D.Problem("请选择工单类型");
          var body = type === c.type ? {} : { type: type }; // a bad review keeps its own type
          if (f.elements.title.value.trim()) body.title = f.elements.title.value.trim();
          return body;
        },
        done: done,
      }));
    }

    box.appendChild(D.form({
      action: "reply", title: "回复市民(经" + c.channel_name + "渠道发送)", submit: "发送回复", path: "/api/cases/" + c.id + "/messages",
      fields: function (f) { D.field(f, "textarea", "text", "回复内容", { max: 5000, required: true }); },
      build: function (f) { return { text: f.elements.text.value }; },
      done: done,
    }));

    if (st === "accepted") {
      box.appendChild(D.form({
        action: "dispatch", title: "转办", submit: "转办", path: path("dispatch"),
        fields: function (f) {
          D.choices(f, "checkbox", "departments", "转办到部门(可多选)", data.departments.map(function (d) { return [d, d]; }), []);
          D.field(f, "textarea", "instructions", "转办意见(选填)");
        },
        build: function (f) {
          var chosen = D.checked(f, "departments");
          if (!chosen.length) throw new D.Problem("请选择至少一个转办部门");
          return { departments: chosen, instructions: f.elements.instructions.value };
        },
        done: done,
      }));
      box.appendChild(D.form({
        action: "feedback", title: "直接答复", submit: "记录答复", path: path("feedback"),
        hint: "不需转办的,记录答复内容后进入回访;勾选可同时经原渠道发给市民。",
        fields: function (f) {
          D.field(f, "textarea", "answer", "答复内容", { max: 5000, required: true });
          D.choices(f, "checkbox", "send", "发送", [["1", "同时发送给市民"]], ["1"]);
        },
        build: function (f) { return { answer: f.elements.answer.value }; },
        done: function (updated) {
          var form = box.querySelector('form[data-action="feedback"]');
          var text = form.elements.answer.value;
          if (!D.checked(form, "send").length) return done(updated);
          Hall.api("POST", "/api/cases/" + c.id + "/messages", { text: text }).then(function (answer) {
            done(answer.status === 201 ? answer.data : updated);
          }, function () { done(updated); });
        },
      }));
    }

    if (st === "fed_back") {
      box.appendChild(D.form({
        action: "review", title: "审核部门答复", submit: "提交审核", path: path("review"),
        fields: function (f) {
          D.choices(f, "radio", "approve", "审核结果", [["true", "通过"], ["false", "退回重办"]], ["true"]);
          D.field(f, "textarea", "note", "审核意见(退回时必填)");
        },
        build: function (f) {
          return { approve: D.checked(f, "approve")[0] === "true", note: f.elements.note.value };
        },
        done: done,
      }));
    }

    if (st === "answered" || st === "reviewed") {
      box.appendChild(callButton(c));
      var need = data.visit_attempts;
      box.appendChild(D.form({
        action: "return-visit", title: "回访", submit: "记录回访", path: path("return-visit"),
        hint: "已回访 " + c.visit_attempts + " 次未联系上;累计 " + need + " 次联系未果即视为已回访(可以办结)。",
        fields: function (f) {
          D.choices(f, "radio", "reached", "是否联系上市民", [["true", "联系上了"], ["false", "未联系上"]], ["true"]);
          D.choices(f, "radio", "satisfied", "市民是否满意(联系上时)", [["true", "满意"], ["false", "不满意(重办)"]], ["true"]);
          D.field(f, "textarea", "note", "回访情况(未联系上时必填)");
        },
        build: function (f) {
          var reached = D.checked(f, "reached")[0] === "true";
          var body = { reached: reached, note: f.elements.note.value };
          if (reached) {
            var satisfied = D.checked(f, "satisfied");
            if (!satisfied.length) throw new D.Problem("请选择市民是否满意");
            body.satisfied = satisfied[0] === "true";
          }
          return body;
        },
        done: done,
      }));
    }

    if (st === "answered" || st === "reviewed" || st === "visited") {
      var visited = st === "visited";
      box.appendChild(D.form({
        action: "close", title: "办结", submit: "办结", path: path("close"), disabled: !visited,
        hint: visited ? "已回访(" + (c.visit_result_name || "") + "),可以办结。" : "回访后才能办结(满意,或多次联系未果)。",
        fields: function (f) { D.field(f, "input", "note", "办结说明(选填)", { maxLength: 1000 }); },
        build: function (f) { return { note: f.elements.note.value }; },
        done: done,
      }));
    }

    if (st === "dispatched" || st === "signed") {
      var asked = c.dispatches.filter(function (d) { return d.round === c.round && d.extension_requested; });
      if (asked.length) {
        box.appendChild(D.form({
          action: "extend-approve", title: "审批延期申请", submit: "提交审批", path: path("extend"),
          hint: asked.map(function (d) { return d.department + " 申请延期 " + d.extension_requested + " 个工作日:" + (d.extension_reason || ""); }).join(";"),
          fields: function (f) {
            D.choices(f, "radio", "approve", "审批", [["true", "同意延期"], ["false", "不同意"]], ["true"]);
          },
          build: function (f) { return { approve: D.checked(f, "approve")[0] === "true" }; },
          done: done,
        }));
      }
      box.appendChild(D.form({
        action: "extend", title: "延期", submit: "延期", path: path("extend"),
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

    box.appendChild(D.form({
      action: "escalate", title: "督办", submit: "督办", path: path("escalate"),
      fields: function (f) { D.field(f, "input", "note", "督办意见", { maxLength: 1000 }); },
      build: function (f) { return { note: f.elements.note.value }; },
      done: done,
    }));

    box.appendChild(D.form({
      action: "note", title: "内部备注(市民看不到)", submit: "添加备注", path: "/api/cases/" + c.id + "/notes",
      fields: function (f) { D.field(f, "textarea", "text", "备注", { max: 5000 }); },
      build: function (f) { return { text: f.elements.text.value }; },
      done: done,
    }));

    s.appendChild(box);
    return s;
  }
})();
