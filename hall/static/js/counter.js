/* The window caller (叫号器): every window action as a button and a key; the queue, live. */
(function () {
  "use strict";
  var root = document.getElementById("counter");
  var no = root.getAttribute("data-window");
  var me = parseInt(root.getAttribute("data-user"), 10);
  var recallLimit = parseInt(root.getAttribute("data-recall-limit"), 10);
  var detail = JSON.parse(document.getElementById("counter-data").textContent);
  var busy = false;

  var STATE = { open: "服务中", paused: "暂停服务", closed: "未开窗" };
  var STATUS = { called: "已叫号,等候群众到窗口", serving: "办理中" };

  function time(iso) {
    return iso ? iso.slice(11, 19) : "—";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function laneTag(t) {
    return t.priority_name ? "绿色通道·" + t.priority_name : "";
  }

  // -- rendering ------------------------------------------------------------------

  function render() {
    var w = detail.window;
    var mine = w.staff && w.staff.id === me;
    var badge = document.getElementById("state-badge");
    badge.textContent = STATE[w.state];
    badge.className = "badge badge-" + w.state;
    Hall.text("staff-line", w.staff ? "工作人员:" + w.staff.name + (w.staff.staff_no ? "(工号 " + w.staff.staff_no + ")" : "") : "");
    document.getElementById("signin").hidden = mine;
    document.getElementById("desk").hidden = !mine;
    if (!mine) {
      Hall.text("signin-text", w.staff ? "本窗口已由 " + w.staff.name + " 上岗。" : "您尚未在本窗口上岗。");
      document.getElementById("open-window").hidden = !!w.staff;
      return;
    }
    renderCurrent(w.current);
    renderActions(w);
    renderList("waiting", detail.waiting, function (t) { return { label: "叫此号", action: "call", id: t.id }; });
    renderList("held", w.held, function (t) { return { label: "回呼", action: "call", id: t.id }; });
    renderList("missed", detail.missed, function (t) { return { label: "恢复排队", action: "requeue", id: t.id }; });
    Hall.text("waiting-count", detail.waiting.length);
  }

  function renderCurrent(t) {
    var box = document.getElementById("current");
    box.className = "c-ticket" + (t ? " c-has-ticket c-" + t.status : "");
    Hall.text("cur-number", t ? t.number : "—");
    Hall.text("cur-section", t ? t.section_name : "当前没有号票,按「叫号」呼叫下一位");
    Hall.text("cur-lane", t ? laneTag(t) : "");
    Hall.text("cur-status", t ? STATUS[t.status] || t.status_name : "暂无");
    Hall.text("cur-issued", t ? time(t.issued_at) : "—");
    Hall.text("cur-called", t ? time(t.called_at) : "—");
    Hall.text("cur-started", t ? time(t.started_at) : "—");
    Hall.text("cur-recalls", t ? t.recalls + " / " + recallLimit : "—");
  }

  function renderActions(w) {
    var t = w.current;
    var allowed = {
      call: w.state === "open" && !t,
      recall: t && t.status === "called" && t.recalls < recallLimit,
      start: t && t.status === "called",
      "no-show": t && t.status === "called",
      hold: !!t,
      transfer: !!t,
      finish: !!t,
      pause: true,
      close: !t,
    };
    var buttons = document.querySelectorAll("#actions [data-action]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = busy || !allowed[buttons[i].getAttribute("data-action")];
    }
    var pause = document.getElementById("pause-button");
    pause.firstChild.textContent = w.state === "paused" ? "恢复服务 " : "暂停服务 ";
  }

  function renderList(id, tickets, button) {
    var list = document.getElementById(id);
    list.textContent = "";
    if (!tickets.length) {
      list.appendChild(el("li", "c-empty", "无"));
      return;
    }
    tickets.forEach(function (t) {
      var item = el("li", t.priority ? "c-priority" : "");
      item.appendChild(el("span", "c-item-number", t.number));
      item.appendChild(el("span", "c-item-section", t.section_name));
      if (t.priority) item.appendChild(el("span", "c-tag", laneTag(t)));
      if (t.target_window) item.appendChild(el("span", "c-tag c-tag-target", "指定本窗口"));
      item.appendChild(el("span", "c-item-time", time(t.missed_at || t.held_at || t.issued_at).slice(0, 5)));
      var b = button(t);
      var action = el("button", "c-small", b.label);
      action.type = "button";
      action.setAttribute("data-list-action", b.action);
      action.setAttribute("data-ticket", b.id);
      action.setAttribute("aria-label", b.label + " " + t.number);
      item.appendChild(action);
      list.appendChild(item);
    });
  }

  // -- talking to the server ---------------------------------------------------------

  // Every request of this page goes through one queue: answers are applied in
  // the order they were asked for, so an older state never replaces a newer one.
  var serial = Hall.serial();

  function load() {
    return Hall.api("GET", "/api/windows/" + no).then(function (answer) {
      if (answer.status === 200) {
        detail = answer.data;
        render();
      }
    }, function () {});
  }

  var refresh = Hall.coalesced(serial, load);

  function act(action, body) {
    if (busy) return Promise.resolve();
    busy = true;
    Hall.text("error", "");
    render();
    var path = "/api/windows/" + no + "/" + action;
    return serial(function () {
      return Hall.api("POST", path, body || null);
    }).then(function (answer) {
      busy = false;
      if (answer.status === 200) {
        detail.window = answer.data.window; // the state after my action, at once
      } else if (answer.status === 204) {
        Hall.text("error", "当前没有等候的群众");
      } else {
        Hall.text("error", Hall.errorMessage(answer));
      }
      render();
      refresh(); // the lists, which the action's answer does not carry
      return answer;
    }, function () {
      busy = false;
      Hall.text("error", "网络故障,操作可能未完成,已重新读取窗口状态");
      render();
      refresh();
    });
  }

  function currentGuard() {
    var t = detail.window.current;
    return t ? { ticket_id: t.id } : null;
  }

  function run(action) {
    var w = detail.window;
    if (action === "pause") return act(w.state === "paused" ? "resume" : "pause");
    if (action === "transfer") return openDialog("transfer-dialog");
    if (action === "finish") return openDialog("finish-dialog");
    if (action === "call" || action === "close") return act(action);
    return act(action, currentGuard());
  }

  // -- dialogs ---------------------------------------------------------------------------

  function openDialog(id) {
    var dialog = document.getElementById(id);
    dialog.querySelector("form").reset();
    Hall.text(id === "transfer-dialog" ? "transfer-error" : "finish-error", "");
    dialog.showModal();
  }

  document.getElementById("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = currentGuard() || {};
    var section = document.getElementById("transfer-section").value;
    var target = document.getElementById("transfer-window").value;
    var note = document.getElementById("transfer-note").value.trim();
    if (section) body.section = section;
    if (target) body.window = parseInt(target, 10);
    if (note) body.note = note;
    if (!section && !target) return Hall.text("transfer-error", "请选择要转到的业务板块或窗口");
    act("transfer", body).then(function (answer) {
      if (answer && answer.status === 200) document.getElementById("transfer-dialog").close();
      else Hall.text("transfer-error", document.getElementById("error").textContent);
    });
  });

  document.getElementById("finish-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = currentGuard() || {};
    var form = e.target;
    body.outcome = form.querySelector("input[name=outcome]:checked").value;
    ["matter", "assisted_by", "note"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) body[name] = value;
    });
    act("finish", body).then(function (answer) {
      if (answer && answer.status === 200) document.getElementById("finish-dialog").close();
      else Hall.text("finish-error", document.getElementById("error").textContent);
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("dialog [data-close]"), function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });

  // -- buttons and keys -----------------------------------------------------------------------

  document.getElementById("actions").addEventListener("click", function (e) {
    var button = e.target.closest("[data-action]");
    if (button && !button.disabled) run(button.getAttribute("data-action"));
  });

  document.querySelector(".c-lists").addEventListener("click", function (e) {
    var button = e.target.closest("[data-list-action]");
    if (!button) return;
    act(button.getAttribute("data-list-action"), { ticket_id: parseInt(button.getAttribute("data-ticket"), 10) });
  });

  document.getElementById("open-window").addEventListener("click", function () {
    act("open");
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || document.querySelector("dialog[open]")) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    var button = document.querySelector('#actions [data-key="' + e.key.toLowerCase() + '"]');
    if (button && !button.disabled && !document.getElementById("desk").hidden) {
      e.preventDefault();
      run(button.getAttribute("data-action"));
    }
  });

  // -- live -----------------------------------------------------------------------------------

  var refreshSoon = Hall.debounce(refresh, 150);
  Hall.live({
    onEvent: function (event) {
      if (event.type.indexOf("ticket.") === 0 || event.type.indexOf("window.") === 0) refreshSoon();
    },
    onSync: refreshSoon,
    onStatus: function (up) { document.getElementById("offline").hidden = up; },
  });
  render();
})();
