/* The administrator's accounts page: unlock, sign out everywhere, deactivate / activate. */
(function () {
  "use strict";

  var QUESTIONS = {
    "unlock": null,
    "revoke-sessions": "确定让「{name}」在所有电脑和手机上退出登录吗?",
    "deactivate": "确定停用「{name}」吗?停用后不能登录,已登录的地方立即退出。",
    "activate": null,
  };
  var DONE = {
    "unlock": "已解除「{name}」的登录锁定",
    "revoke-sessions": "「{name}」已在所有地方退出登录",
    "deactivate": "已停用「{name}」",
    "activate": "已启用「{name}」,需重新登录",
  };

  function button(action, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-action", action);
    b.textContent = label;
    return b;
  }

  // The row as the list now stands on the server.
  function show(row, user) {
    var state = !user.active ? "已停用" : user.locked_until ? "已锁定,至 " + user.locked_until.slice(11, 16) : "正常";
    row.querySelector(".u-state").textContent = state;
    row.querySelector(".u-sessions").textContent = String(user.open_sessions);
    var actions = row.querySelector(".u-actions");
    actions.textContent = "";
    if (user.locked_until) actions.appendChild(button("unlock", "解除锁定"));
    if (row.getAttribute("data-me")) return;
    if (user.open_sessions) actions.appendChild(button("revoke-sessions", "全部下线"));
    actions.appendChild(user.active ? button("deactivate", "停用") : button("activate", "启用"));
  }

  function refresh(row) {
    return Hall.api("GET", "/api/users").then(function (answer) {
      if (answer.status !== 200) return;
      var id = Number(row.getAttribute("data-user"));
      answer.data.users.forEach(function (user) { if (user.id === id) show(row, user); });
    });
  }

  document.getElementById("users").addEventListener("click", function (e) {
    var target = e.target;
    if (target.tagName !== "BUTTON" || !target.getAttribute("data-action")) return;
    var action = target.getAttribute("data-action");
    var row = target.closest("tr");
    var name = row.getAttribute("data-username");
    var question = QUESTIONS[action];
    if (question && !window.confirm(question.replace("{name}", name))) return;
    target.disabled = true;
    Hall.api("POST", "/api/users/" + row.getAttribute("data-user") + "/" + action).then(function (answer) {
      if (answer.status === 200) {
        Hall.text("users-status", DONE[action].replace("{name}", name));
        return refresh(row);
      }
      target.disabled = false;
      Hall.text("users-status", Hall.errorMessage(answer));
    }, function () {
      target.disabled = false;
      Hall.text("users-status", Hall.errorMessage(null));
    });
  });

  // 解除 an address's lock: the row goes; the table says so when none is left.
  document.getElementById("addresses").addEventListener("click", function (e) {
    var target = e.target;
    if (target.tagName !== "BUTTON" || target.getAttribute("data-action") !== "unlock-address") return;
    var row = target.closest("tr");
    var address = row.getAttribute("data-address");
    target.disabled = true;
    Hall.api("POST", "/api/login-locks/unlock", { address: address }).then(function (answer) {
      if (answer.status !== 200) {
        target.disabled = false;
        Hall.text("addresses-status", Hall.errorMessage(answer));
        return;
      }
      var body = row.parentNode;
      body.removeChild(row);
      if (!body.querySelector("tr")) {
        var none = document.createElement("tr");
        var cell = document.createElement("td");
        cell.colSpan = 4;
        cell.className = "muted";
        cell.textContent = "没有被锁定的地址";
        none.appendChild(cell);
        body.appendChild(none);
      }
      Hall.text("addresses-status", "已解除地址 " + address + " 的登录锁定");
    }, function () {
      target.disabled = false;
      Hall.text("addresses-status", Hall.errorMessage(null));
    });
  });
})();
