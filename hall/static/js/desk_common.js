/* Hall.desk: what the seat desk, the department page and the supervisor view share —
   building elements (text only: a citizen's words are never markup), a case's
   conversation, shares, return visits and history, and action forms that post to the API. */
(function () {
  "use strict";
  var Hall = (window.Hall = window.Hall || {});
  var D = (Hall.desk = Hall.desk || {});

  D.DELIVERY = { pending: "待发送", sent: "已发送", failed: "发送失败" };
  D.DIRECTION = { "in": "市民", out: "坐席回复", note: "内部备注" };

  /** An element with a class and text (textContent: never parsed as HTML). */
  D.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };

  D.clear = function (node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  };

  /** "11-23 09:05" from an ISO time, "—" for none. */
  D.when = function (iso) {
    return iso ? iso.slice(5, 16).replace("T", " ") : "—";
  };

  D.channelBadge = function (c) {
    return D.el("span", "desk-ch desk-ch-" + c.channel, c.channel_name);
  };

  /** The due time with 预警 / 超期 marks, and 督办 if escalated. */
  D.dueLine = function (c) {
    var box = D.el("span", "desk-due");
    box.appendChild(D.el("span", null, c.due_at ? "期限 " + D.when(c.due_at) : "未定期限"));
    if (c.overdue) box.appendChild(D.el("strong", "desk-mark desk-overdue", "超期"));
    else if (c.warning) box.appendChild(D.el("strong", "desk-mark desk-warning", "预警"));
    if (c.escalations) box.appendChild(D.el("strong", "desk-mark desk-escalated", "督办"));
    return box;
  };

  D.statusBadge = function (c) {
    return D.el("span", "desk-status desk-s-" + c.status, c.status_name);
  };

  function section(title, id) {
    var s = D.el("section", "desk-part");
    s.setAttribute("aria-labelledby", id);
    var h = D.el("h3", null, title);
    h.id = id;
    s.appendChild(h);
    return s;
  }
  D.section = section;

  function dl(pairs) {
    var list = D.el("dl", "desk-dl");
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") return;
      list.appendChild(D.el("dt", null, p[0]));
      var dd = D.el("dd");
      if (p[1].nodeType) dd.appendChild(p[1]);
      else dd.textContent = String(p[1]);
      list.appendChild(dd);
    });
    return list;
  }
  D.dl = dl;

  /** Messages in, out and notes, each with its time; outgoing ones with their delivery. */
  D.conversation = function (c) {
    var s = section("往来消息", "case-messages-title");
    var list = D.el("ol", "desk-messages");
    list.id = "case-messages";
    c.messages.forEach(function (m) {
      var li = D.el("li", "desk-msg desk-msg-" + m.direction);
      var head = D.el("p", "desk-msg-head");
      head.appendChild(D.el("span", "desk-msg-who", m.direction === "in" ? D.DIRECTION["in"] : (m.by || "") + " " + D.DIRECTION[m.direction]));
      head.appendChild(D.el("time", "muted", D.when(m.at)));
      if (m.direction === "out") {
        var state = m.delivery ? D.DELIVERY[m.delivery] || m.delivery : "未发送(没有可用的联系渠道)";
        head.appendChild(D.el("span", "desk-delivery desk-d-" + (m.delivery || "none"), state));
      }
      li.appendChild(head);
      if (m.subject) li.appendChild(D.el("p", "desk-msg-subject", m.subject));
      li.appendChild(D.el("p", "desk-msg-body", m.body));
      if (m.attachments && m.attachments.length) {
        var files = D.el("p", "muted desk-files", "附件:");
        m.attachments.forEach(function (a) {
          var label = a.name + "(" + Math.ceil(a.size / 1024) + " KB)";
          var item = a.url ? D.el("a", "desk-file", label) : D.el("span", "desk-file", label);
          if (a.url) {
            item.href = a.url; // served as a download, never shown inline
            item.setAttribute("download", a.name);
          }
          files.appendChild(item);
        });
        li.appendChild(files);
      }
      list.appendChild(li);
    });
    if (!c.messages.length) list.appendChild(D.el("li", "muted", "没有消息"));
    s.appendChild(list);
    return s;
  };

  /** The departments' shares of the case, every round. */
  D.dispatches = function (c) {
    var s = section("转办部门", "case-dispatches-title");
    if (!c.dispatches.length) {
      s.appendChild(D.el("p", "muted", "尚未转办"));
      return s;
    }
    var list = D.el("ul", "desk-shares");
    c.dispatches.forEach(function (d) {
      var li = D.el("li", "desk-share desk-share-" + d.status);
      var head = D.el("p");
      head.appendChild(D.el("strong", null, d.department));
      head.appendChild(D.el("span", "desk-status desk-d-" + d.status, d.status_name));
      head.appendChild(D.el("span", "muted", (d.round > 1 ? "第 " + d.round + " 轮 · " : "") + "转办 " + D.when(d.dispatched_at)));
      li.appendChild(head);
      if (d.instructions) li.appendChild(D.el("p", "desk-note", "转办意见:" + d.instructions));
      if (d.answer) li.appendChild(D.el("p", "desk-answer", "办理结果(" + (d.answered_by || "") + " " + D.when(d.answered_at) + "):" + d.answer));
      if (d.return_reason) li.appendChild(D.el("p", "desk-note", "退单理由:" + d.return_reason));
      if (d.extension_requested) {
        li.appendChild(D.el("p", "desk-mark desk-warning", "申请延期 " + d.extension_requested + " 个工作日:" + (d.extension_reason || "")));
      }
      list.appendChild(li);
    });
    s.appendChild(list);
    return s;
  };

  D.visits = function (c) {
    var s = section("回访记录", "case-visits-title");
    if (!c.visits.length) {
      s.appendChild(D.el("p", "muted", "尚未回访"));
      return s;
    }
    var list = D.el("ul", "desk-visits");
    c.visits.forEach(function (v) {
      var result = v.reached ? (v.satisfied ? "联系上,满意" : "联系上,不满意") : "未联系上";
      list.appendChild(D.el("li", null, D.when(v.at) + " " + (v.by || "") + ":" + result + (v.note ? "。" + v.note : "")));
    });
    s.appendChild(list);
    return s;
  };

  D.history = function (c, states) {
    var s = section("办理记录", "case-history-title");
    var list = D.el("ol", "desk-history");
    list.id = "case-history";
    c.history.forEach(function (h) {
      var li = D.el("li");
      li.appendChild(D.el("time", "muted", D.when(h.at)));
      li.appendChild(D.el("strong", null, " " + h.action_name));
      if (h.from !== h.to && states[h.to] && states[h.to] !== h.action_name) {
        li.appendChild(D.el("span", null, "(现为" + states[h.to] + ")"));
      }
      li.appendChild(D.el("span", "muted", " · " + (h.by || "系统")));
      var d = h.detail || {};
      var words = [];
      if (d.departments) words.push(d.departments.join("、"));
      if (d.department) words.push(d.department);
      if (d.instructions) words.push(d.instructions);
      if (d.answer) words.push(d.answer);
      if (d.reason) words.push(d.reason);
      if (d.note) words.push(d.note);
      if (words.length) li.appendChild(D.el("div", "desk-note", words.join(";")));
      list.appendChild(li);
    });
    s.appendChild(list);
    return s;
  };

  /**
   * A form posting to the case API: `build(form)` gives the body, `done(answer)` takes the
   * case the server answered with. Errors are shown in Chinese next to the form.
   */
  D.form = function (opts) {
    var form = D.el("form", "desk-form");
    form.setAttribute("data-action", opts.action);
    form.setAttribute("aria-labelledby", "form-" + opts.action + "-title");
    var title = D.el("h4", null, opts.title);
    title.id = "form-" + opts.action + "-title";
    form.appendChild(title);
    if (opts.hint) form.appendChild(D.el("p", "muted", opts.hint));
    opts.fields(form);
    var row = D.el("div", "desk-form-actions");
    var button = D.el("button", "desk-btn", opts.submit);
    button.type = "submit";
    if (opts.disabled) button.disabled = true;
    row.appendChild(button);
    form.appendChild(row);
    var message = D.el("p", "desk-error desk-form-msg");
    message.setAttribute("role", "alert");
    form.appendChild(message);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body;
      try {
        body = opts.build(form);
      } catch (problem) {
        message.textContent = problem.message;
        return;
      }
      button.disabled = true;
      message.textContent = "正在提交…";
      Hall.api("POST", opts.path, body).then(
        function (answer) {
          button.disabled = false;
          if (answer.status === 200 || answer.status === 201) {
            message.textContent = "";
            opts.done(answer.data);
          } else {
            message.textContent = Hall.errorMessage(answer);
          }
        },
        function () {
          button.disabled = false;
          message.textContent = Hall.errorMessage(null);
        }
      );
    });
    return form;
  };

  var serial = 0;
  /** A labelled control: "textarea", "input", "select" (options [[value, name]]) or "number". */
  D.field = function (form, kind, name, label, options) {
    var id = "f-" + name + "-" + ++serial;
    var wrap = D.el("p", "desk-field");
    var lab = D.el("label", null, label);
    lab.htmlFor = id;
    var control;
    if (kind === "select") {
      control = D.el("select");
      (options.choices || []).forEach(function (c) {
        var o = D.el("option", null, c[1]);
        o.value = c[0];
        if (c[0] === options.value) o.selected = true;
        control.appendChild(o);
      });
    } else if (kind === "textarea") {
      control = D.el("textarea");
      control.rows = (options && options.rows) || 3;
      control.maxLength = (options && options.max) || 1000;
    } else {
      control = D.el("input");
      control.type = kind === "number" ? "number" : "text";
      if (options && options.min !== undefined) control.min = options.min;
      if (options && options.max !== undefined) control.max = options.max;
      if (kind !== "number") control.maxLength = (options && options.maxLength) || 200;
    }
    control.id = id;
    control.name = name;
    if (options && options.required) control.required = true;
    wrap.appendChild(lab);
    wrap.appendChild(control);
    form.appendChild(wrap);
    return control;
  };

  /** A group of radio buttons or checkboxes in a fieldset with a legend. */
  D.choices = function (form, type, name, legend, choices, checked) {
    var set = D.el("fieldset", "desk-choices");
    set.appendChild(D.el("legend", null, legend));
    choices.forEach(function (c) {
      var lab = D.el("label");
      var input = D.el("input");
      input.type = type;
      input.name = name;
      input.value = c[0];
      if (checked && checked.indexOf(c[0]) >= 0) input.checked = true;
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(" " + c[1]));
      set.appendChild(lab);
    });
    form.appendChild(set);
    return set;
  };

  D.checked = function (form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (i) {
      return i.value;
    });
  };

  /** A problem the page itself finds in a form, shown like the server's. */
  D.Problem = function (message) {
    this.message = message;
  };

  /** Whether the user has typed into a form inside `root` (a reload would lose it). */
  D.typingIn = function (root) {
    var active = document.activeElement;
    if (active && root.contains(active) && /^(TEXTAREA|INPUT)$/.test(active.tagName) && active.value) return true;
    return Array.prototype.some.call(root.querySelectorAll("textarea, input[type=text], input[type=number]"), function (i) {
      return i.value !== "";
    });
  };

  /** Remember what `pane` shows, so a reload that brings nothing new changes nothing. */
  D.shown = function (pane, c) {
    pane.hallShown = JSON.stringify(c);
  };

  /**
   * A case fetched again after an event: shown if it changed — unless something is typed in
   * the pane, which a re-render would lose; then a notice offers to `reload`.
   */
  D.update = function (pane, c, show, reload) {
    if (pane.hallShown === JSON.stringify(c)) return; // e.g. the echo of one's own move
    if (!D.typingIn(pane)) return show(c);
    if (pane.querySelector(".desk-stale")) return;
    var note = D.el("p", "desk-stale", "这件工单有新的办理动态。");
    note.setAttribute("role", "status");
    var button = D.el("button", "desk-btn desk-quiet", "刷新(未提交的内容将清空)");
    button.type = "button";
    button.addEventListener("click", reload);
    note.appendChild(button);
    pane.insertBefore(note, pane.firstChild);
  };

  /** Keep one live connection and refresh through `load` on events (coalesced) and on (re)connects. */
  D.follow = function (opts) {
    var refresh = Hall.coalesced(Hall.serial(), opts.load);
    Hall.live({
      onSync: refresh,
      onStatus: function (up) {
        document.body.setAttribute("data-live", up ? "up" : "down");
        var note = document.getElementById(opts.offlineId);
        if (note) note.hidden = up;
      },
      onEvent: function (event) {
        if (opts.onEvent) opts.onEvent(event);
        if (opts.relevant(event)) refresh();
      },
    });
    return refresh;
  };
})();
