/* The citizen's tracking page: where my ticket stands, in plain words, updated live. */
(function () {
  "use strict";
  var root = document.getElementById("track");
  var id = root.getAttribute("data-ticket");
  var token = root.getAttribute("data-token");
  var grace = root.getAttribute("data-grace");
  var ticket = JSON.parse(document.getElementById("track-data").textContent);
  var alerts = false;
  var audio = null;

  function explain(t) {
    var w = t.window ? t.window + " 号窗口" : "窗口";
    if (t.expired) return ["号票已过期", "这是以前的号票,已不再叫号。如需办理请重新取号。"];
    switch (t.status) {
      case "waiting":
        if (t.transfers > 0) {
          return ["已转到" + t.section_name, "您的号票已转到「" + t.section_name + "」继续排队,号码不变,原取号时间不变。"];
        }
        return t.ahead === 0
          ? ["马上轮到您", "请留意大厅屏幕和广播,准备好材料。"]
          : ["排队中", "您前面还有 " + t.ahead + " 人,请在大厅耐心等候。"];
      case "called":
        return ["请到 " + w + " 办理", (t.window_name || "") + " 正在叫您的号码,请尽快前往。"];
      case "serving":
        return ["正在 " + w + " 办理", "工作人员正在为您办理业务。"];
      case "held":
        return ["业务暂时挂起", "请按工作人员的指引补齐材料,回到 " + w + ",工作人员会为您继续办理。"];
      case "missed":
        return ["您已过号", "叫号时您不在窗口。请在 " + grace + " 分钟内到 " + w + " 说明,工作人员可为您恢复排队;超过时间请重新取号。"];
      case "done":
        return ["业务已办结", t.outcome === "supplement"
          ? "本次需要补正材料,请按一次性告知单准备齐全后再来。"
          : "感谢您的耐心等待。欢迎对本次服务作出评价。"];
      case "cancelled":
        return ["已取消", "您已取消本次排队。如需办理请重新取号。"];
      default:
        return [t.status_name, ""];
    }
  }

  function render(t) {
    var previous = ticket.status;
    ticket = t;
    var words = explain(t);
    root.setAttribute("data-status", t.expired ? "expired" : t.status);
    Hall.text("t-section", t.section_name);
    Hall.text("t-number", t.number);
    Hall.text("t-lane", t.priority_name ? "绿色通道·" + t.priority_name : "");
    Hall.text("t-headline", words[0]);
    Hall.text("t-detail", words[1]);
    Hall.text("t-ahead", t.ahead === null || t.ahead === undefined ? "—" : t.ahead + " 人");
    Hall.text("t-wait", t.status === "waiting" && !t.expired ? Hall.minutes(t.estimated_wait_s) : "—");
    document.getElementById("t-cancel").hidden = t.status !== "waiting" || t.expired;
    document.getElementById("t-rate").hidden = t.status !== "done";
    if (t.status === "called" && (previous !== "called" || t.recalls)) notify();
  }

  function notify() {
    if (navigator.vibrate) {
      try { navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed yet */ }
    }
    if (alerts && audio) {
      var now = audio.currentTime;
      [0, 0.35, 0.7].forEach(function (offset) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.setValueAtTime(0.3, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, now + offset + 0.3);
        tone.connect(gain).connect(audio.destination);
        tone.start(now + offset);
        tone.stop(now + offset + 0.3);
      });
    }
  }

  var serial = Hall.serial(); // answers applied in the order asked: never an older state over a newer

  function load() {
    return Hall.api("GET", "/api/tickets/" + id + "?token=" + encodeURIComponent(token)).then(function (answer) {
      if (answer.status === 200) render(answer.data);
    }, function () {});
  }

  var refresh = Hall.coalesced(serial, load);

  document.getElementById("t-alert").addEventListener("click", function () {
    // Browsers allow sound and vibration only after a tap on the page.
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !audio) audio = new Context();
    alerts = true;
    this.textContent = "提醒已开启";
    this.disabled = true;
    if (navigator.vibrate) navigator.vibrate(100);
  });

  document.getElementById("t-cancel").addEventListener("click", function () {
    if (!window.confirm("确定不办了,取消排队吗?")) return;
    serial(function () {
      return Hall.api("POST", "/api/tickets/" + id + "/cancel", { token: token });
    }).then(function (answer) {
      if (answer.status === 200) render(answer.data);
    });
  });

  var refreshSoon = Hall.debounce(refresh, 250);
  Hall.live({
    query: "ticket=" + encodeURIComponent(token),
    onEvent: refreshSoon,
    onSync: refreshSoon,
    onStatus: function (up) { document.getElementById("t-offline").hidden = up; },
  });
  render(ticket);
})();
