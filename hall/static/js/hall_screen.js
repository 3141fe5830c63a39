/* The hall screen (大厅综合屏): the latest calls, people waiting per section, the notice line. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("screen-data").textContent);
  var layout = data.layout;
  var shownSections = layout.sections.length ? layout.sections : data.sections;
  var shownWindows = data.windows;
  var calls = []; // newest first
  var sound = new Hall.AudioQueue();
  var LANES = { elderly: "老年人", disabled: "残疾人", military: "军人", pregnant: "孕妇", appointment: "预约" };

  function mine(call) {
    return shownWindows.indexOf(call.window) >= 0 && (!layout.sections.length || layout.sections.indexOf(call.section) >= 0);
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function render() {
    var now = document.getElementById("s-now");
    now.textContent = "";
    if (calls.length) {
      var c = calls[0];
      var number = document.createElement("span");
      number.className = "s-now-number";
      number.textContent = c.number;
      var text = document.createElement("span");
      text.className = "s-now-text";
      text.textContent = " 请到 " + c.window + " 号窗口";
      now.appendChild(number);
      now.appendChild(text);
      if (c.priority) {
        var mark = document.createElement("span");
        mark.className = "s-priority";
        mark.textContent = "优先·" + (LANES[c.priority] || "");
        now.appendChild(mark);
      }
    } else {
      var idle = document.createElement("span");
      idle.className = "s-waiting-text";
      idle.textContent = "请留意叫号";
      now.appendChild(idle);
    }
    var body = document.getElementById("s-calls");
    body.textContent = "";
    calls.slice(0, layout.calls).forEach(function (c, i) {
      var row = document.createElement("tr");
      if (i === 0) row.className = "s-newest";
      row.appendChild(cell(c.number + (c.priority ? " ★" : ""), c.priority ? "s-num s-prio" : "s-num"));
      row.appendChild(cell(c.window + " 号窗口", "s-win"));
      row.appendChild(cell(data.section_names[c.section] || "", "s-wname"));
      body.appendChild(row);
    });
  }

  function addCall(call, live) {
    if (!mine(call)) return;
    // A recall moves the number back to the top; it is not listed twice.
    calls = calls.filter(function (c) { return c.number !== call.number; });
    calls.unshift(call);
    calls = calls.slice(0, 20);
    render();
    if (live) {
      var line = document.querySelector(".s-now");
      line.classList.remove("s-flash");
      void line.offsetWidth; // restart the highlight animation
      line.classList.add("s-flash");
      sound.add("/api/announcements/" + call.id + ".wav");
    }
  }

  function setWaiting(waiting) {
    shownSections.forEach(function (id) {
      var item = document.querySelector('#s-sections [data-section="' + id + '"] [data-count]');
      if (item && waiting[id] !== undefined) item.textContent = waiting[id] + " 人";
    });
  }

  function setNotice(text) {
    Hall.text("s-notice-text", text || "欢迎来到" + document.querySelector(".s-title").textContent);
  }

  Hall.screen({
    name: data.name,
    kind: "screen",
    onSnapshot: function (s) {
      calls = [];
      s.calls.forEach(function (c) { addCall(c, false); });
      render();
      var waiting = {};
      s.hall.sections.forEach(function (sec) { waiting[sec.id] = sec.waiting; });
      setWaiting(waiting);
      setNotice(s.notice);
    },
    onEvent: function (e) {
      if (e.type === "ticket.called" || e.type === "ticket.recalled") addCall(e, true);
      else if (e.type === "notice.updated") setNotice(e.payload.text);
      else if (e.type === "screen.layout_changed") location.reload();
    },
    onWaiting: setWaiting,
    onStatus: function (up) { document.getElementById("s-offline").hidden = up; },
  });

  document.getElementById("s-sound").addEventListener("click", function () {
    sound.enabled = !sound.enabled;
    this.textContent = sound.enabled ? "关闭声音" : "开启声音";
    this.setAttribute("aria-pressed", sound.enabled ? "true" : "false");
  });

  function tick() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var week = "日一二三四五六".charAt(d.getDay());
    Hall.text("s-date", d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 星期" + week);
    Hall.text("s-time", pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()));
  }
  tick();
  setInterval(tick, 1000);
  render();
})();
