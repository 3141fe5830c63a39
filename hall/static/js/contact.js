/* The citizen's web form (/contact): posts the case without cookies and shows its number. */
(function () {
  "use strict";
  var form = document.getElementById("c-form");
  var error = document.getElementById("c-error");
  var button = form.querySelector(".c-submit");

  function value(name) {
    var field = form.elements[name];
    return field ? field.value.trim() : "";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var body = { type: form.querySelector("input[name=type]:checked").value, content: value("content") };
    ["name", "phone", "email"].forEach(function (key) {
      if (value(key)) body[key] = key === "phone" ? value(key).replace(/\s+/g, "") : value(key);
    });
    if (!body.content) {
      error.textContent = "请填写内容";
      return;
    }
    if (!body.phone && !body.email) {
      error.textContent = "请留下手机号码或电子邮箱,以便我们答复和回访";
      return;
    }
    button.disabled = true;
    // No cookie goes with it: whoever is signed in on this browser, this is a citizen's case.
    fetch("/api/cases", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error((answer.error && answer.error.message) || "提交失败,请稍后再试");
          form.hidden = true;
          document.getElementById("c-no").textContent = answer.no;
          document.getElementById("c-done").hidden = false;
        });
      })
      .catch(function (e) {
        error.textContent = e.message && e.message.indexOf("fetch") < 0 ? e.message : "网络不通,请稍后再试";
        button.disabled = false;
      });
  });
})();
