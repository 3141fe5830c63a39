/* The managers' screen page: the notice line, each screen's layout, the registry (live). */
(function () {
  "use strict";

  document.getElementById("ms-notice-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = document.getElementById("ms-notice").value.trim();
    Hall.api("PUT", "/api/notice", { text: text }).then(function (answer) {
      Hall.text("ms-notice-status", answer.status === 200 ? "已保存,屏幕已更新" : Hall.errorMessage(answer));
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("form.ms-layout"), function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var sections = Array.prototype.filter.call(form.elements.sections || [], function (box) { return box.checked; })
        .map(function (box) { return box.value; });
      var body = {
        title: form.elements.title.value.trim() || undefined,
        sections: sections,
        area: form.elements.area.value || undefined,
        calls: parseInt(form.elements.calls.value, 10),
      };
      Hall.api("PUT", "/api/screens/" + form.getAttribute("data-device") + "/layout", body).then(function (answer) {
        form.querySelector(".ms-status").textContent = answer.status === 200 ? "已保存,屏幕将自动刷新" : Hall.errorMessage(answer);
      });
    });
  });

  // 吊销: a lost or replaced device's token stops working; its screen is disconnected by the server.
  Array.prototype.forEach.call(document.querySelectorAll("button.ms-revoke"), function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-name");
      if (!window.confirm("确定吊销设备「" + name + "」吗?吊销后该设备需要重新登记才能使用。")) return;
      button.disabled = true;
      Hall.api("POST", "/api/devices/" + button.getAttribute("data-device") + "/revoke").then(function (answer) {
        if (answer.status === 200) {
          var row = button.parentNode.parentNode;
          row.className = "ms-off";
          row.querySelector(".ms-device-state").textContent = "已吊销";
          button.parentNode.removeChild(button);
          Hall.text("ms-devices-status", "已吊销「" + name + "」");
        } else {
          button.disabled = false;
          Hall.text("ms-devices-status", Hall.errorMessage(answer));
        }
      });
    });
  });

  var KINDS = { screen: "屏幕", agent: "播报电脑", pad: "评价器" };

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function renderScreens(screens) {
    var body = document.getElementById("ms-screens");
    body.textContent = "";
    if (!screens.length) {
      var empty = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 7;
      td.textContent = "还没有屏幕连接过。登记屏幕设备后,在屏幕浏览器中打开 /device?token=设备令牌。";
      empty.appendChild(td);
      body.appendChild(empty);
    }
    screens.forEach(function (s) {
      var row = document.createElement("tr");
      if (!s.online) row.className = "ms-off";
      cell(row, s.name + (s.window ? "(" + s.window + "号窗口)" : ""));
      cell(row, KINDS[s.kind] || s.kind);
      cell(row, s.online ? "在线" : "离线" + (s.warning ? " ⚠" : ""));
      cell(row, String(s.behind));
      cell(row, (s.last_seen_at || "").slice(0, 19).replace("T", " "));
      cell(row, s.version);
      cell(row, s.address);
      body.appendChild(row);
    });
    document.getElementById("ms-warning").hidden = !screens.some(function (s) { return s.warning; });
  }

  // The registry changes as screens come and go: its table follows, the forms stay as they are.
  var serial = Hall.serial();
  var refresh = Hall.coalesced(serial, function () {
    return Hall.api("GET", "/api/screens").then(function (answer) {
      if (answer.status === 200) renderScreens(answer.data.screens);
    }, function () {});
  });
  Hall.live({
    onEvent: function (event) {
      if (event.type.indexOf("screen.") === 0) refresh();
    },
    onSync: refresh,
  });
  setInterval(refresh, 15000); // "how far behind" moves without events of its own
})();
