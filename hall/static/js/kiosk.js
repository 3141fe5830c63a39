/* The kiosk (取号机): choose a section, optionally a priority lane, take a ticket, print it. */
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  var idleSeconds = parseInt(root.getAttribute("data-idle"), 10) || 30;
  var hasPrinter = root.getAttribute("data-printer") === "1";
  var ticketSeconds = parseInt(root.getAttribute("data-ticket-seconds"), 10) || 20;
  var hall = JSON.parse(document.getElementById("kiosk-data").textContent);
  var chosen = null; // the section id being issued
  var idRequired = false; // 实名取号 in the chosen section
  var lane = "";
  var elder = false;
  var activeInput = null;
  var idleTimer = null;
  var lastTicket = null;

  // -- screens and idle return ------------------------------------------------

  function show(id) {
    var screens = document.querySelectorAll(".screen");
    for (var i = 0; i < screens.length; i++) screens[i].hidden = screens[i].id !== id;
    root.setAttribute("data-screen", id);
    armIdle(id === "ticket" ? ticketSeconds : idleSeconds);
    if (id === "home") reset();
  }

  function armIdle(seconds) {
    if (idleTimer) clearTimeout(idleTimer);
    if (root.getAttribute("data-screen") === "home") return;
    idleTimer = setTimeout(function () { show("home"); }, seconds * 1000);
  }

  function reset() {
    chosen = null;
    setLane("");
    ["id-number", "phone", "checkin-value"].forEach(function (id) { document.getElementById(id).value = ""; });
    Hall.text("options-error", "");
    Hall.text("checkin-error", "");
  }

  document.addEventListener("pointerdown", function () {
    armIdle(root.getAttribute("data-screen") === "ticket" ? ticketSeconds : idleSeconds);
  });

  // -- speaking (elder mode) -----------------------------------------------------

  function say(text) {
    if (!elder || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
    window.speechSynthesis.cancel();
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  // -- the sections ----------------------------------------------------------------

  function section(id) {
    for (var i = 0; i < hall.sections.length; i++) if (hall.sections[i].id === id) return hall.sections[i];
    return null;
  }

  function opensText(s) {
    if (!s.opens_at) return "今日暂停取号";
    var when = s.opens_at.slice(5, 10).replace("-", "月") + "日 " + s.opens_at.slice(11, 16);
    return "暂停取号," + when + " 开始";
  }

  function renderSections() {
    var buttons = document.querySelectorAll(".k-section");
    var open = 0;
    for (var i = 0; i < buttons.length; i++) {
      var s = section(buttons[i].getAttribute("data-section"));
      if (!s) continue;
      buttons[i].setAttribute("data-state", s.state);
      var info = buttons[i].querySelector("[data-info]");
      if (s.state === "open") {
        open++;
        buttons[i].removeAttribute("aria-disabled");
        info.textContent = s.waiting === 0 ? "无需等候" : "等候 " + s.waiting + " 人 · " + Hall.minutes(s.estimated_wait_s);
      } else {
        buttons[i].setAttribute("aria-disabled", "true");
        info.textContent = s.state === "full" ? "今日号已取完,请预约或改日办理" : opensText(s);
      }
    }
    var banner = document.getElementById("closed-banner");
    if (open === 0) {
      var next = hall.sections.filter(function (s) { return s.opens_at; })
        .map(function (s) { return s.opens_at; }).sort()[0];
      banner.textContent = next
        ? "现在不在取号时间,大厅将于 " + next.slice(5, 10).replace("-", "月") + "日 " + next.slice(11, 16) + " 开始取号"
        : "今日号源已全部取完,请预约或改日办理";
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  var serial = Hall.serial(); // overview answers applied in the order asked

  var refresh = Hall.coalesced(serial, function () {
    return Hall.api("GET", "/api/hall").then(function (answer) {
      if (answer.status === 200) {
        hall = answer.data;
        renderSections();
        Hall.text("clock", hall.hall.now.slice(11, 16));
      }
    }, function () {});
  });

  document.getElementById("sections").addEventListener("click", function (e) {
    var button = e.target.closest(".k-section");
    if (!button) return;
    var s = section(button.getAttribute("data-section"));
    if (!s || s.state !== "open") {
      say(s ? s.name + "现在不能取号" : "");
      return;
    }
    chosen = s.id;
    idRequired = !!s.id_required;
    Hall.text("options-section", s.name);
    Hall.text("id-label", idRequired ? "身份证号码(必填:本业务实名取号)" : "身份证号码(选填)");
    document.getElementById("id-number").required = idRequired;
    show("options");
    activeInput = document.getElementById("id-number");
    if (idRequired) say("本业务实名取号,请输入身份证号码。");
    else say(elder ? "请输入身份证号码,六十岁以上自动走绿色通道。不输入也可以直接取号。" : "");
  });

  // -- lanes, keypad --------------------------------------------------------------------

  function setLane(value) {
    lane = value;
    var buttons = document.querySelectorAll(".k-lane");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-lane") === value ? "true" : "false");
    }
  }

  document.getElementById("lanes").addEventListener("click", function (e) {
    var button = e.target.closest(".k-lane");
    if (button) setLane(button.getAttribute("data-lane"));
  });

  document.addEventListener("focusin", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-keypad")) activeInput = e.target;
  });

  root.addEventListener("click", function (e) {
    var key = e.target.closest("[data-key]");
    if (key) {
      var screen = key.closest(".screen");
      var input = activeInput && screen.contains(activeInput) ? activeInput : screen.querySelector("[data-keypad]");
      var k = key.getAttribute("data-key");
      if (k === "back") input.value = input.value.slice(0, -1);
      else if (input.value.length < input.maxLength) input.value += k;
      return;
    }
    var go = e.target.closest("[data-go]");
    if (go) show(go.getAttribute("data-go"));
  });

  // -- issuing -------------------------------------------------------------------------

  function requestId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "k-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function post(path, body, tries) {
    // A lost answer is retried with the same request_id: the server gives the same ticket back.
    return Hall.api("POST", path, body).catch(function (err) {
      if (tries > 1) return post(path, body, tries - 1);
      throw err;
    });
  }

  document.getElementById("issue").addEventListener("click", function () {
    var body = { section: chosen, request_id: requestId() };
    var id = document.getElementById("id-number").value.trim();
    var phone = document.getElementById("phone").value.trim();
    if (idRequired && !id) {
      Hall.text("options-error", "本业务实行实名取号,请输入身份证号码");
      say("本业务实行实名取号,请输入身份证号码");
      document.getElementById("id-number").focus();
      return;
    }
    if (lane) body.priority = lane;
    if (id) body.id_number = id;
    if (phone) body.phone = phone;
    this.disabled = true;
    var button = this;
    post("/api/tickets", body, 3).then(function (answer) {
      button.disabled = false;
      if (answer.status === 200 || answer.status === 201) return showTicket(answer.data);
      Hall.text("options-error", Hall.errorMessage(answer));
      say(Hall.errorMessage(answer));
    }, function () {
      button.disabled = false;
      Hall.text("options-error", "网络故障,请稍后重试或联系工作人员");
    });
  });

  document.getElementById("checkin-submit").addEventListener("click", function () {
    var value = document.getElementById("checkin-value").value.trim().toUpperCase();
    if (!value) return Hall.text("checkin-error", "请输入手机号码或预约码");
    var isPhone = /^1\d{10}$/.test(value);
    var path = isPhone ? "/api/appointments/check-in" : "/api/appointments/" + encodeURIComponent(value) + "/check-in";
    post(path, isPhone ? { phone: value } : {}, 3).then(function (answer) {
      if (answer.status === 200 || answer.status === 201) return showTicket(answer.data);
      Hall.text("checkin-error", Hall.errorMessage(answer));
      say(Hall.errorMessage(answer));
    }, function () {
      Hall.text("checkin-error", "网络故障,请稍后重试或联系工作人员");
    });
  });

  document.getElementById("to-checkin").addEventListener("click", function () {
    show("checkin");
    say("请输入预约时登记的手机号码");
  });

  // -- the ticket ---------------------------------------------------------------------------

  function showTicket(t) {
    lastTicket = t;
    Hall.text("slip-section", t.section_name);
    Hall.text("slip-number", t.number);
    Hall.text("slip-lane", t.priority_name ? "【" + t.priority_name + "优先】" : "");
    Hall.text("slip-ahead", t.ahead === null ? "" : "您前面还有 " + t.ahead + " 人等候");
    Hall.text("slip-time", "取号时间 " + t.issued_at.slice(0, 10) + " " + t.issued_at.slice(11, 16));
    Hall.text("slip-windows", t.windows && t.windows.length ? "办理窗口 " + t.windows.join("、") + " 号" : "");
    document.getElementById("slip-qr").src = "/t/" + encodeURIComponent(t.token) + "/qr.svg";
    show("ticket");
    say("您的号码是 " + t.number.split("").join(" ") + ",请取走号票,留意叫号");
    printSlip(t);
    refresh();
  }

  function printSlip(t) {
    if (!hasPrinter) {
      Hall.text("print-status", "请取走号票");
      window.print();
      return;
    }
    Hall.text("print-status", "正在打印号票…");
    Hall.api("POST", "/api/tickets/" + t.id + "/print").then(function (answer) {
      if (answer.status === 200) return Hall.text("print-status", "号票已打印,请取走号票");
      // No thermal printer here (or it failed): the browser prints the slip instead.
      Hall.text("print-status", "请取走号票");
      window.print();
    }, function () {
      window.print();
    });
  }

  document.getElementById("reprint").addEventListener("click", function () {
    if (lastTicket) printSlip(lastTicket);
  });

  // -- elder mode ----------------------------------------------------------------------------

  document.getElementById("elder-toggle").addEventListener("click", function () {
    elder = !elder;
    document.body.classList.toggle("elder", elder);
    this.setAttribute("aria-pressed", elder ? "true" : "false");
    this.textContent = elder ? "退出长辈模式" : "长辈模式";
    say("已进入长辈模式。请点选您要办理的业务。");
  });

  // -- live --------------------------------------------------------------------------------

  var refreshSoon = Hall.debounce(refresh, 300);
  Hall.live({
    onEvent: function (event) {
      if (event.type.indexOf("ticket.") === 0 || event.type.indexOf("window.") === 0 || event.type.indexOf("section.") === 0) {
        refreshSoon();
      }
    },
    onSync: refreshSoon,
    onStatus: function (up) { document.getElementById("offline").hidden = up; },
  });
  setInterval(refresh, 60000); // opening hours turn over even when nothing happens
  renderSections();
  show("home");
})();
