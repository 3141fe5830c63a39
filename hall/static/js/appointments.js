/* The appointments page (/appointments): book a slot, look a booking up, cancel it.
   Plain ES5-style script on Hall.api (hall.js); every text is set as text, never as HTML. */
(function () {
  "use strict";
  var Hall = window.Hall;
  var byId = function (id) { return document.getElementById(id); };
  var FIELDS = { section: "appt-section", name: "appt-name", phone: "appt-phone", id_number: "appt-id" };
  var REASONS = { slot_full: "已约满", slot_past: "已过", section_closed_that_day: "不办公", too_far_ahead: "未开放" };
  var slotRequest = 0;

  function time(iso) { return iso ? iso.slice(11, 16) : ""; }

  function dateText(iso) {
    var parts = iso.split("-");
    return parseInt(parts[1], 10) + "月" + parseInt(parts[2], 10) + "日";
  }

  function when(a) { return dateText(a.date) + " " + a.slot; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A large radio button with a main line and a small second line. */
  function chip(name, value, main, sub, disabled) {
    var label = el("label", "chip" + (disabled ? " chip-off" : ""));
    var input = el("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.disabled = !!disabled;
    var face = el("span", "chip-face");
    face.appendChild(el("span", "chip-main", main));
    if (sub) face.appendChild(el("span", "chip-sub", sub));
    label.appendChild(input);
    label.appendChild(face);
    return label;
  }

  function checked(name) {
    var input = document.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // -- booking -----------------------------------------------------------------------

  function renderDays() {
    var select = byId("appt-section");
    var days = JSON.parse(select.options[select.selectedIndex].getAttribute("data-days"));
    var box = byId("day-chips");
    clear(box);
    days.forEach(function (day, i) {
      var label = chip("date", day[0], day[1], day[2], false); // [ISO date, "11月24日", "明天 周二"]
      if (i === 0) label.querySelector("input").checked = true;
      box.appendChild(label);
    });
    if (!days.length) Hall.text("slot-note", "近期没有可预约的办公日");
    loadSlots();
  }

  function loadSlots() {
    var box = byId("slot-chips");
    var date = checked("date");
    clear(box);
    if (!date) return;
    var mine = ++slotRequest;
    Hall.text("slot-note", "正在查询可预约时段…");
    var section = byId("appt-section").value;
    Hall.api("GET", "/api/appointments/slots?section=" + encodeURIComponent(section) + "&date=" + date).then(
      function (answer) {
        if (mine !== slotRequest) return; // a later choice replaced this one
        if (answer.status !== 200) {
          Hall.text("slot-note", Hall.errorMessage(answer));
          return;
        }
        var open = 0;
        answer.data.slots.forEach(function (s) {
          var sub = s.bookable ? "余 " + s.remaining + " 个" : REASONS[s.reason] || "不可约";
          if (s.bookable) open += 1;
          box.appendChild(chip("slot", s.slot, s.slot, sub, !s.bookable));
        });
        Hall.text("slot-note", open ? "" : "这一天的时段都已约满或已过,请换一天");
      },
      function () {
        if (mine === slotRequest) Hall.text("slot-note", Hall.errorMessage(null));
      }
    );
  }

  function markInvalid(field) {
    Object.keys(FIELDS).forEach(function (key) {
      byId(FIELDS[key]).removeAttribute("aria-invalid");
    });
    if (field && FIELDS[field]) {
      var input = byId(FIELDS[field]);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function notice(a) {
    return "请于 " + dateText(a.date) + " " + time(a.check_in_opens_at) + " 至 " + time(a.on_time_until) +
      " 之间到大厅取号机签到(输入预约码或手机号码),按时签到优先叫号;" + time(a.on_time_until) +
      " 以后签到按普通号排队。请带好身份证。";
  }

  function submitBooking(event) {
    event.preventDefault();
    var error = byId("book-error");
    var slot = checked("slot");
    if (!checked("date") || !slot) {
      error.textContent = "请选择预约日期和时段";
      return;
    }
    var body = {
      section: byId("appt-section").value,
      date: checked("date"),
      slot: slot,
      name: byId("appt-name").value,
      phone: byId("appt-phone").value,
      id_number: byId("appt-id").value
    };
    var button = byId("book-submit");
    button.disabled = true;
    error.textContent = "";
    Hall.api("POST", "/api/appointments", body).then(
      function (answer) {
        button.disabled = false;
        if (answer.status !== 201) {
          error.textContent = Hall.errorMessage(answer);
          markInvalid(answer.data && answer.data.error ? answer.data.error.field : null);
          if (answer.data && answer.data.error && /^slot_|already|too_/.test(answer.data.error.code)) loadSlots();
          return;
        }
        markInvalid(null);
        showBooked(answer.data);
      },
      function () {
        button.disabled = false;
        error.textContent = Hall.errorMessage(null);
      }
    );
  }

  function showBooked(a) {
    Hall.text("booked-code", a.code);
    Hall.text("booked-section", a.section_name);
    Hall.text("booked-when", when(a));
    Hall.text("booked-who", a.name + " " + a.phone);
    Hall.text("booked-notice", notice(a));
    byId("book-form").hidden = true;
    var done = byId("booked");
    done.hidden = false;
    done.focus();
  }

  function bookAgain() {
    byId("booked").hidden = true;
    byId("book-form").hidden = false;
    byId("appt-name").value = "";
    byId("appt-id").value = "";
    loadSlots();
  }

  // -- looking up and cancelling ----------------------------------------------------------

  var found = null;

  function showFound(a) {
    found = a;
    Hall.text("found-code", a.code);
    Hall.text("found-status", a.status_name + (a.ticket_number ? "(号票 " + a.ticket_number + ")" : ""));
    Hall.text("found-section", a.section_name);
    Hall.text("found-when", when(a));
    Hall.text("found-who", a.name + " " + a.phone);
    Hall.text("found-notice", a.status === "booked" ? notice(a) : "");
    byId("cancel-button").hidden = a.status !== "booked";
    byId("found").hidden = false;
  }

  function findPhone() { return byId("find-phone").value; }

  function submitFind(event) {
    event.preventDefault();
    var error = byId("find-error");
    var code = byId("find-code").value.replace(/[\s-]/g, "").toUpperCase();
    byId("found").hidden = true;
    if (!code || !findPhone()) {
      error.textContent = "请输入预约码和预约时填写的手机号码";
      return;
    }
    error.textContent = "";
    var path = "/api/appointments/" + encodeURIComponent(code) + "?phone=" + encodeURIComponent(findPhone());
    Hall.api("GET", path).then(
      function (answer) {
        if (answer.status === 200) showFound(answer.data);
        else error.textContent = Hall.errorMessage(answer);
      },
      function () { error.textContent = Hall.errorMessage(null); }
    );
  }

  function cancelFound() {
    if (!found || !window.confirm("确定取消 " + when(found) + " 的预约吗?")) return;
    var error = byId("find-error");
    Hall.api("POST", "/api/appointments/" + found.code + "/cancel", { phone: findPhone() }).then(
      function (answer) {
        if (answer.status === 200) {
          showFound(answer.data);
          Hall.text("found-notice", "预约已取消,名额已释放。");
          if (byId("slot-chips")) loadSlots();
        } else {
          error.textContent = Hall.errorMessage(answer);
        }
      },
      function () { error.textContent = Hall.errorMessage(null); }
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = byId("book-form");
    if (form) {
      byId("appt-section").addEventListener("change", renderDays);
      byId("day-chips").addEventListener("change", loadSlots);
      form.addEventListener("submit", submitBooking);
      byId("book-again").addEventListener("click", bookAgain);
      renderDays();
    }
    byId("find-form").addEventListener("submit", submitFind);
    byId("cancel-button").addEventListener("click", cancelFound);
  });
})();
