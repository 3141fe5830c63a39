/* A window's screen (窗口屏): the number being served, the window's state and the staff on duty. */
(function () {
  "use strict";
  var root = document.getElementById("window-screen");
  var no = parseInt(root.getAttribute("data-window"), 10);
  var STATE = { open: "服务中", paused: "暂停服务", closed: "暂停服务" };
  var state = { state: "closed", staff: null, number: null, serving: false };

  function render() {
    root.setAttribute("data-state", state.state);
    Hall.text("w-number", state.number || "—");
    var line = STATE[state.state];
    if (state.state === "open" && state.number) line = state.serving ? "正在办理" : "请 " + state.number + " 号到本窗口";
    Hall.text("w-state", line);
    var staff = document.getElementById("w-staff");
    staff.hidden = !state.staff;
    if (state.staff) {
      Hall.text("w-staff-name", state.staff.name);
      Hall.text("w-staff-no", state.staff.staff_no ? "工号 " + state.staff.staff_no : "");
      var photo = document.getElementById("w-photo");
      if (state.staff.staff_no) {
        photo.onerror = function () { photo.hidden = true; };
        photo.onload = function () { photo.hidden = false; };
        photo.alt = state.staff.name + "的照片";
        photo.src = "/screen/photo/" + encodeURIComponent(state.staff.staff_no);
      } else {
        photo.hidden = true;
      }
    }
  }

  function fromSnapshot(s) {
    var w = s.hall.windows.filter(function (x) { return x.no === no; })[0];
    if (!w) return;
    state.state = w.state;
    state.staff = w.staff;
    state.number = w.current ? w.current.number : null;
    state.serving = !!(w.current && w.current.status === "serving");
    render();
  }

  function onEvent(e) {
    var p = e.payload || {};
    if (e.type.indexOf("window.") === 0 && p.window && p.window.no === no) {
      state.state = p.window.state;
      state.staff = e.type === "window.closed" ? null : p.window.staff;
      if (e.type === "window.closed") state.number = null;
    } else if (e.type.indexOf("ticket.") === 0 && p.window && p.window.no === no) {
      if (e.type === "ticket.called" || e.type === "ticket.recalled") {
        state.number = p.ticket.number;
        state.serving = false;
      } else if (e.type === "ticket.started") {
        state.serving = true;
      } else if (["ticket.finished", "ticket.held", "ticket.missed", "ticket.transferred"].indexOf(e.type) >= 0) {
        state.number = null;
        state.serving = false;
      }
    } else {
      return;
    }
    render();
  }

  Hall.screen({
    name: "窗口屏 " + no,
    kind: "screen",
    onSnapshot: fromSnapshot,
    onEvent: onEvent,
    onStatus: function (up) { document.getElementById("s-offline").hidden = up; },
  });
  render();
})();
