/* The administrator's accounts page: unlock, sign out everywhere, deactivate / activate. */
(function () {
  "use strict";

  // A status line: green when done, red when refused.
  function say(id, text, bad) {
    Hall.text(id, text);
    document.getElementById(id).classList.toggle("u-bad", !!bad);
  }

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
        say("users-status", DONE[action].replace("{name}", name));
        return refresh(row);
      }
      target.disabled = false;
      say("users-status", Hall.errorMessage(answer), true);
    }, function () {
      target.disabled = false;
      say("users-status", Hall.errorMessage(null), true);
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
        say("addresses-status", Hall.errorMessage(answer), true);
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
      say("addresses-status", "已解除地址 " + address + " 的登录锁定");
    }, function () {
      target.disabled = false;
      say("addresses-status", Hall.errorMessage(null), true);
    });
  });

  function roleName(role) {
    var option = document.querySelector("#new-user select[name=role] option[value='" + role + "']");
    return option ? option.textContent : role;
  }

  function rowFor(user) {
    var row = document.createElement("tr");
    row.setAttribute("data-user", String(user.id));
    row.setAttribute("data-username", user.username);
    row.setAttribute("data-me", "");
    [String(user.id), user.username, user.display_name, roleName(user.role), user.department || "", user.staff_no || ""]
      .forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        row.appendChild(td);
      });
    [["u-state", ""], ["num u-sessions", ""], ["u-actions", ""]].forEach(function (cell) {
      var td = document.createElement("td");
      td.className = cell[0];
      row.appendChild(td);
    });
    show(row, { active: true, locked_until: null, open_sessions: 0 });
    return row;
  }

  // 新建账号: the account appears in the table and in the password form's list.
  document.getElementById("new-user").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target;
    var body = { username: form.elements.username.value.trim(), role: form.elements.role.value,
                 password: form.elements.password.value };
    ["display_name", "department", "staff_no"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) body[name] = value;
    });
    Hall.api("POST", "/api/users", body).then(function (answer) {
      if (answer.status !== 201) {
        say("new-user-status", Hall.errorMessage(answer), true);
        return;
      }
      var user = answer.data;
      document.querySelector("#users tbody").appendChild(rowFor(user));
      var option = document.createElement("option");
      option.value = String(user.id);
      option.textContent = user.username;
      document.querySelector("#reset-password select[name=user]").appendChild(option);
      form.reset();
      say("new-user-status", "已新建「" + user.username + "」");
    }, function () { say("new-user-status", Hall.errorMessage(null), true); });
  });

  // 重设密码: the user's sessions end and any lock is lifted; the row says so.
  document.getElementById("reset-password").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target;
    var id = form.elements.user.value;
    Hall.api("POST", "/api/users/" + id + "/password", { password: form.elements.password.value }).then(
      function (answer) {
        if (answer.status !== 200) {
          say("reset-status", Hall.errorMessage(answer), true);
          return;
        }
        form.elements.password.value = "";
        say("reset-status", "已重设「" + answer.data.username + "」的密码,原有登录已全部失效");
        var row = document.querySelector("#users tr[data-user='" + id + "']");
        if (row) refresh(row);
      },
      function () { say("reset-status", Hall.errorMessage(null), true); }
    );
  });
})();
