/* 坐席工作台 (/desk): presence, one inbox of every channel, the open case, live. A case routed
   to me pops up (a notice with its number and first message, and the tab's title flashes);
   a phone call I answer pops the caller's case and earlier cases (`call.answered`). */
(function () {
  "use strict";
  var D = Hall.desk;
  var data = JSON.parse(document.getElementById("desk-data").textContent);
  var me = data.me;
  var inbox = [];
  var openId = null;
  var serial = Hall.serial();
  var pane = document.getElementById("case-body");

  // -- presence ---------------------------------------------------------------------------------

  function showPresence(p) {
    var now = document.getElementById("presence-now");
    now.textContent = data.presence_names[p.status] || p.status;
    now.className = "desk-p desk-p-" + p.status;
    Hall.text("presence-reason", p.status === "busy" && p.reason ? "(" + p.reason + ")" : "");
    Array.prototype.forEach.call(document.querySelectorAll("[data-presence]"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-presence") === p.status));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-presence]"), function (button) {
    button.addEventListener("click", function () {
      var status = button.getAttribute("data-presence");
      var body = { status: status };
      if (status === "busy") body.reason = document.getElementById("busy-reason").value;
      Hall.text("presence-error", "");
      Hall.api("POST", "/api/desk/presence", body).then(function (answer) {
        if (answer.status === 200) {
          showPresence(answer.data);
          if (answer.data.routed) refreshInbox();
        } else {
          Hall.text("presence-error", Hall.errorMessage(answer));
        }
      }, function () { Hall.text("presence-error", Hall.errorMessage(null)); });
    });
  });
  showPresence(data.presence);

  // -- the inbox --------------------------------------------------------------------------------

  function loadInbox() {
    var scope = document.getElementById("inbox-scope").value;
    return Hall.api("GET", "/api/desk/inbox?scope=" + scope).then(function (answer) {
      if (answer.status !== 200) return;
      inbox = answer.data.cases;
      renderInbox();
    });
  }
  var refreshInbox = Hall.coalesced(serial, loadInbox);

  function renderInbox() {
    var list = D.clear(document.getElementById("inbox"));
    inbox.forEach(function (c) {
      var li = D.el("li", "desk-item" + (c.id === openId ? " desk-open" : "") + (c.assigned_to && c.assigned_to.id === me.id ? " desk-mine" : ""));
      li.setAttribute("data-case", c.id);
      var button = D.el("button", "desk-item-button");
      button.type = "button";
      if (c.id === openId) button.setAttribute("aria-current", "true");
      var top = D.el("span", "desk-item-top");
      top.appendChild(D.channelBadge(c));
      top.appendChild(D.el("span", "desk-case-no", c.no));
      top.appendChild(D.el("span", "desk-type", c.type_name));
      top.appendChild(D.statusBadge(c));
      button.appendChild(top);
      var snippet = c.last_message ? (c.last_message.direction === "out" ? "回复:" : "") + c.last_message.snippet : c.title || "";
      button.appendChild(D.el("span", "desk-snippet", snippet));
      var bottom = D.el("span", "desk-item-bottom");
      bottom.appendChild(D.dueLine(c));
      bottom.appendChild(D.el("span", "muted", c.assigned_to ? (c.assigned_to.id === me.id ? "我的" : c.assigned_to.name) : "待分派"));
      button.appendChild(bottom);
      button.addEventListener("click", function () { openCase(c.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    Hall.text("inbox-count", "(" + inbox.length + ")");
    document.getElementById("inbox-empty").hidden = inbox.length > 0;
  }

  document.getElementById("inbox-scope").addEventListener("change", refreshInbox);

  // -- the open case ----------------------------------------------------------------------------

  var openPending = false; // the open case has a reply waiting for its channel

  function show(c) {
    openId = c.id;
    openPending = c.messages.some(function (m) { return m.direction === "out" && m.delivery === "pending"; });
    document.getElementById("case-placeholder").hidden = true;
    pane.hidden = false;
    Hall.text("case-title", "工单 " + c.no);
    D.showCase(pane, c, { data: data, onChange: function (updated) { show(updated); refreshInbox(); } });
    D.shown(pane, c);
    renderInbox();
  }

  /** Fetch case `id`; `live`: after an event (do not overwrite what the agent is typing). */
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

  // -- registering a call or a walk-in by hand -------------------------------------------------

  var registerBox = document.getElementById("register");
  var registerOpen = document.getElementById("register-open");
  var CHANNELS = [["phone", "电话"], ["walk_in", "现场"], ["qq", "QQ"], ["web", "网页"], ["email", "邮件"]];
  function registerForm() {
    return D.form({
      action: "register", title: "登记来电/来访", submit: "登记", path: "/api/cases",
      hint: "市民的电话、现场反映或 QQ 留言,登记后由您受理。",
      fields: function (f) {
        D.field(f, "select", "channel", "渠道", { choices: CHANNELS, value: "phone" });
        D.field(f, "select", "type", "类型", { choices: [["", "受理时再选"]].concat(data.types), value: "" });
        D.field(f, "input", "name", "市民姓名(选填)", { maxLength: 40 });
        D.field(f, "input", "phone", "联系电话", { maxLength: 20 });
        D.field(f, "input", "email", "电子邮箱(选填)", { maxLength: 254 });
        D.field(f, "number", "window_no", "涉及窗口号(选填)", { min: 1, max: 999 });
        D.field(f, "input", "matter", "涉及事项(选填)", { maxLength: 60 });
        D.field(f, "textarea", "content", "反映内容", { max: 5000, rows: 4, required: true });
      },
      build: function (f) {
        var body = { channel: f.elements.channel.value, content: f.elements.content.value.trim() };
        if (!body.content) throw new D.Problem("请填写反映内容");
        ["type", "name", "email", "matter"].forEach(function (key) {
          if (f.elements[key].value.trim()) body[key] = f.elements[key].value.trim();
        });
        var phone = f.elements.phone.value.replace(/\s+/g, "");
        if (phone) body.phone = phone;
        if (f.elements.window_no.value) body.window_no = parseInt(f.elements.window_no.value, 10);
        return body;
      },
      done: function (created) {
        registerBox.hidden = true;
        registerOpen.setAttribute("aria-expanded", "false");
        refreshInbox();
        openCase(created.id);
      },
    });
  }
  registerOpen.addEventListener("click", function () {
    var show = registerBox.hidden;
    D.clear(registerBox);
    if (show) registerBox.appendChild(registerForm());
    registerBox.hidden = !show;
    registerOpen.setAttribute("aria-expanded", String(show));
    if (show) registerBox.querySelector("select").focus();
  });

  var refreshOpen = Hall.coalesced(serial, function () {
    if (openId !== null) return loadCase(openId, true);
  });

  // -- pops: a case routed to me, a call I answered --------------------------------------------

  var flashing = null;
  var baseTitle = document.title;
  function flashTitle(text) {
    if (flashing) clearInterval(flashing);
    var on = false;
    document.title = text;
    flashing = setInterval(function () {
      on = !on;
      document.title = on ? baseTitle : text;
    }, 1000);
  }
  function stopFlash() {
    if (!flashing) return;
    clearInterval(flashing);
    flashing = null;
    document.title = baseTitle;
  }
  document.addEventListener("keydown", stopFlash);

  function toast(c) {
    var first = c.messages.filter(function (m) { return m.direction === "in"; })[0];
    var box = D.el("div", "desk-toast");
    box.setAttribute("data-case", c.id);
    box.appendChild(D.el("strong", null, "新工单 " + c.no));
    var what = D.el("p", "desk-toast-line");
    what.appendChild(D.channelBadge(c));
    what.appendChild(D.el("span", null, " " + c.type_name + " · " + D.when(c.created_at)));
    box.appendChild(what);
    box.appendChild(D.el("p", "desk-toast-text", first ? first.body.slice(0, 120) : c.title || ""));
    var open = D.el("button", "desk-btn", "打开工单");
    open.type = "button";
    open.addEventListener("click", function () {
      stopFlash();
      box.parentNode.removeChild(box);
      openCase(c.id);
    });
    var dismiss = D.el("button", "desk-btn desk-quiet", "知道了");
    dismiss.type = "button";
    dismiss.addEventListener("click", function () {
      stopFlash();
      box.parentNode.removeChild(box);
    });
    box.appendChild(open);
    box.appendChild(dismiss);
    document.getElementById("desk-toasts").appendChild(box);
    flashTitle("【新工单】" + c.no);
  }

  var popped = {};
  function popNew(caseId) {
    if (popped[caseId]) return;
    popped[caseId] = true;
    Hall.api("GET", "/api/cases/" + caseId).then(function (answer) {
      if (answer.status === 200) toast(answer.data);
    });
  }

  function screenPop(p) {
    var box = document.getElementById("screen-pop");
    box.hidden = false;
    Hall.text("screen-pop-text", "来电已接通" + (p.phone_masked ? ":" + p.phone_masked : "") + (p.hold_seconds ? ",排队 " + p.hold_seconds + " 秒" : ""));
    var list = D.clear(document.getElementById("screen-pop-cases"));
    var caseId = p.case_id || (p["case"] && p["case"].id);
    (p.earlier_cases || []).forEach(function (c) {
      var li = D.el("li");
      var link = D.el("button", "desk-link", c.no + " " + (data.states[c.status] || c.status) + (c.title ? " " + c.title : ""));
      link.type = "button";
      link.addEventListener("click", function () { openCase(c.id); });
      li.appendChild(link);
      list.appendChild(li);
    });
    if (!(p.earlier_cases || []).length) list.appendChild(D.el("li", "muted", "此前没有工单"));
    flashTitle("【来电】" + (p.phone_masked || ""));
    if (caseId) openCase(caseId);
  }
  document.getElementById("screen-pop-close").addEventListener("click", function () {
    document.getElementById("screen-pop").hidden = true;
    stopFlash();
  });

  function forMe(p) {
    return p.agent_id === me.id || (p.agent_id === undefined && p.agent === me.username);
  }

  D.follow({
    offlineId: "desk-offline",
    load: function () {
      return loadInbox().then(function () {
        if (openId !== null) return loadCase(openId, true);
      });
    },
    relevant: function (event) {
      return event.type === "agent.presence" && event.payload.agent === me.id;
    },
    onEvent: function (event) {
      var p = event.payload || {};
      if (event.type === "call.answered") {
        if (forMe(p)) screenPop(p);
        return;
      }
      if (event.type === "agent.presence" && p.agent === me.id) {
        showPresence({ status: p.status, reason: p.reason });
        return;
      }
      if (event.type.indexOf("case.") === 0 || event.type.indexOf("notification.") === 0) {
        var c = p["case"];
        if (c && (event.type === "case.assign" || (event.type === "case.registered" && p.by !== me.id)) && p.assigned_to === me.id) {
          popNew(c.id);
        }
        if (event.type.indexOf("case.") === 0) refreshInbox();
        if (c ? c.id === openId : openPending) refreshOpen();
      }
    },
  });
})();
