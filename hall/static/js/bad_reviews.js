/* 差评整改 (/manage/bad-reviews): each case's next step, and the rater's full phone on request (logged). */
(function () {
  "use strict";

  function checked(form, name) {
    var box = form.querySelector('input[name="' + name + '"]:checked');
    return box ? box.value : null;
  }

  /** The request body of a step, from its form (see README, Bad reviews). */
  var BODIES = {
    verify: function (form) {
      var body = { outcome: checked(form, "outcome"), note: form.elements.note.value };
      var reached = checked(form, "reached");
      if (reached !== null) body.reached = reached === "true";
      return body;
    },
    rectify: function (form) {
      return { kind: checked(form, "kind"), note: form.elements.note.value };
    },
    feedback: function (form) {
      return { note: form.elements.note.value };
    },
    revisit: function (form) {
      var body = { note: form.elements.note.value };
      var visit = checked(form, "visit");
      if (visit === "unreached") {
        body.reached = false;
        body.attempts = parseInt(form.elements.attempts.value, 10) || 0;
      } else if (visit !== null) {
        body.reached = true;
        body.satisfied = visit === "satisfied";
        body.attempts = parseInt(form.elements.attempts.value, 10) || 1;
      }
      return body;
    },
  };

  Array.prototype.forEach.call(document.querySelectorAll("form.br-step"), function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var stage = form.getAttribute("data-stage");
      var id = form.getAttribute("data-case");
      var message = form.querySelector(".br-msg");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      message.textContent = "正在提交…";
      Hall.api("POST", "/api/bad-reviews/" + id + "/" + stage, BODIES[stage](form)).then(
        function (answer) {
          if (answer.status === 200) {
            message.textContent = "已提交";
            // Back to this case, open, in its new state.
            window.location.hash = "case-" + id;
            window.location.reload();
            return;
          }
          button.disabled = false;
          message.textContent = Hall.errorMessage(answer);
        },
        function () {
          button.disabled = false;
          message.textContent = Hall.errorMessage(null);
        }
      );
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.br-reveal"), function (button) {
    button.addEventListener("click", function () {
      var path = "/api/ratings/" + button.getAttribute("data-rating") + "/rater?purpose=" + encodeURIComponent("差评核实回访");
      button.disabled = true;
      Hall.api("GET", path).then(function (answer) {
        if (answer.status === 200) {
          var rater = answer.data.rater;
          Hall.text(button.getAttribute("data-target"), (rater.name || "") + " " + (rater.phone || ""));
          button.textContent = "已显示(查看已记录)";
        } else {
          button.disabled = false;
          button.textContent = "查看完整电话(将记录):" + Hall.errorMessage(answer);
        }
      }, function () { button.disabled = false; });
    });
  });

  // A link or a reload to #case-N opens that case.
  var target = window.location.hash && document.getElementById(window.location.hash.slice(1) + "-details");
  if (target) {
    target.open = true;
    target.parentNode.scrollIntoView();
  }
})();
