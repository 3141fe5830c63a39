/* The rating pad (评价器) of one window: shows each service the window finishes and takes its rating. */
(function () {
  "use strict";
  var root = document.getElementById("pad");
  var no = parseInt(root.getAttribute("data-window"), 10);
  var idleSeconds = parseInt(root.getAttribute("data-idle"), 10) || 60;
  var thanksSeconds = parseInt(root.getAttribute("data-thanks"), 10) || 6;
  var preview = root.getAttribute("data-preview") === "1";
  var grades = JSON.parse(document.getElementById("pad-data").textContent).grades;
  var shown = null; // the service on the screen
  var latest = 0; // the newest ticket.finished event of this window
  var timer = null;

  function gradeName(grade) {
    for (var i = 0; i < grades.length; i++) if (grades[i].grade === grade) return grades[i].name;
    return "";
  }

  // -- screens and the return to idle --------------------------------------------

  function show(id) {
    var screens = root.querySelectorAll(".p-screen");
    for (var i = 0; i < screens.length; i++) screens[i].hidden = screens[i].id !== id;
    root.setAttribute("data-screen", id);
  }

  function arm(seconds) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(idle, seconds * 1000);
  }

  function idle() {
    if (timer) clearTimeout(timer);
    timer = null;
    shown = null;
    form.reset();
    show("p-idle");
  }

  function touched() {
    if (root.getAttribute("data-screen") === "p-service") arm(idleSeconds);
  }

  // -- voice prompts: the browser's speech, when it has one; never waited for ------------

  // Browsers speak only after the page was touched once.
  var voiced = !!(navigator.userActivation && navigator.userActivation.hasBeenActive);
  document.getElementById("p-voice-hint").hidden = voiced;

  function say(text) {
    if (!voiced || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
    try {
      window.speechSynthesis.cancel();
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "zh-CN";
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    } catch (e) {
      /* no voice: the screen says it all */
    }
  }

  document.addEventListener("pointerdown", function () {
    voiced = true;
    document.getElementById("p-voice-hint").hidden = true;
    touched();
  });
  document.addEventListener("keydown", touched);
  document.addEventListener("input", touched);

  // -- the service and its rating ----------------------------------------------------------

  var form = Hall.ratingForm(document.getElementById("p-service"), {
    onGrade: function (grade, bad) {
      touched();
      say(bad ? "请选择不满意的原因,或写下您的意见" : "您选择了" + gradeName(grade) + ",请点击提交评价");
    },
    onSubmit: submit,
  });

  function present(service) {
    shown = service;
    form.reset();
    Hall.text("p-number", service.ticket.number);
    Hall.text("p-window", service.window.no + "号窗口 " + service.window.name);
    var staff = service.staff.name || "—";
    Hall.text("p-staff", service.staff.staff_no ? staff + "(工号 " + service.staff.staff_no + ")" : staff);
    Hall.text("p-matter", service.ticket.matter || service.ticket.section_name);
    show("p-service");
    arm(idleSeconds);
    say("请您对本次服务进行评价");
  }

  function finished(event) {
    var p = event.payload || {};
    if (!p.window || p.window.no !== no || !p.ticket) return;
    latest = event.id;
    Hall.api("GET", "/api/ratings/service/" + p.ticket.id).then(function (answer) {
      // A newer service of this window finished meanwhile: that one is shown instead.
      if (event.id !== latest || answer.status !== 200 || !answer.data.pad_open) return;
      present(answer.data);
    }, function () {});
  }

  function submit(values) {
    if (preview) {
      form.showError("预览模式:评价不会提交");
      return null;
    }
    var service = shown;
    var body = { ticket_id: service.ticket.id, grade: values.grade, tags: values.tags, comment: values.comment };
    return Hall.api("POST", "/api/ratings", body).then(function (answer) {
      if (shown !== service) return; // a newer service took the screen; this rating is stored all the same
      if (answer.status === 201) {
        Hall.text("p-thanks-grade", "您的评价:" + gradeName(values.grade));
        document.getElementById("p-thanks-note").hidden = !answer.data || answer.data.grade > 2;
        show("p-thanks");
        arm(thanksSeconds);
        say("感谢您的评价");
      } else {
        form.showError(Hall.errorMessage(answer));
        arm(idleSeconds);
      }
    }, function () {
      form.showError("网络故障,评价未能提交,请再试一次");
    });
  }

  // -- the window's staff on duty, shown while idle ------------------------------------------

  function onDuty(staff) {
    document.getElementById("p-duty").hidden = !staff;
    if (!staff) return;
    Hall.text("p-duty-name", staff.name);
    Hall.text("p-duty-no", staff.staff_no ? "工号 " + staff.staff_no : "");
  }

  Hall.screen({
    name: "评价器 " + no,
    kind: "pad",
    onSnapshot: function (s) {
      var w = s.hall.windows.filter(function (x) { return x.no === no; })[0];
      onDuty(w && w.state !== "closed" ? w.staff : null);
    },
    onEvent: function (e) {
      var p = e.payload || {};
      if (e.type === "ticket.finished") {
        finished(e);
      } else if (e.type.indexOf("window.") === 0 && p.window && p.window.no === no) {
        onDuty(e.type === "window.closed" ? null : p.window.staff);
      }
    },
    onStatus: function (up) { document.getElementById("p-offline").hidden = up; },
  });
  idle();
})();
