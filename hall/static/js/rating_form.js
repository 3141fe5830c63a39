/* Hall.ratingForm: the five grades, the chosen grade's tags and a comment (the pad and the QR page). */
(function () {
  "use strict";
  var Hall = (window.Hall = window.Hall || {});

  function each(list, fn) {
    for (var i = 0; i < list.length; i++) fn(list[i]);
  }

  /**
   * root                   an element holding the form of evaluation/_rating_form.html
   * opts.onGrade(g, bad)   a grade was chosen
   * opts.onSubmit(values)  {grade, tags, comment}; returns a promise, the button waits for it
   * Returns {reset, showError}. The server checks everything again; this only helps people.
   */
  Hall.ratingForm = function (root, opts) {
    var form = root.querySelector(".r-form");
    var grades = form.querySelectorAll(".r-grade");
    var groups = form.querySelectorAll(".r-tags");
    var detail = form.querySelector(".r-detail");
    var hint = form.querySelector(".r-hint");
    var comment = form.querySelector(".r-comment");
    var error = form.querySelector(".r-error");
    var submit = form.querySelector(".r-submit");
    var grade = null;
    var busy = false;

    function group() {
      for (var i = 0; i < groups.length; i++) {
        if (parseInt(groups[i].getAttribute("data-for"), 10) === grade) return groups[i];
      }
      return null;
    }

    function choose(button) {
      grade = parseInt(button.getAttribute("data-grade"), 10);
      var bad = button.getAttribute("data-bad") === "1";
      each(grades, function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      each(groups, function (g) { g.hidden = parseInt(g.getAttribute("data-for"), 10) !== grade; });
      detail.hidden = false;
      form.setAttribute("data-bad", bad ? "1" : "0");
      hint.textContent = bad
        ? "您选择了「" + button.textContent + "」,请选择原因(可多选)或写下您的意见,以便我们整改"
        : "您选择了「" + button.textContent + "」,可选择评价标签(选填)";
      error.textContent = "";
      if (opts.onGrade) opts.onGrade(grade, bad);
    }

    each(grades, function (button) {
      button.addEventListener("click", function () { choose(button); });
    });
    each(form.querySelectorAll(".r-tag"), function (tag) {
      tag.addEventListener("click", function () {
        tag.setAttribute("aria-pressed", String(tag.getAttribute("aria-pressed") !== "true"));
        error.textContent = "";
      });
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy || grade === null) return;
      var tags = [];
      var chosen = group();
      if (chosen) {
        each(chosen.querySelectorAll(".r-tag[aria-pressed=true]"), function (t) { tags.push(t.textContent); });
      }
      busy = true;
      submit.disabled = true;
      error.textContent = "";
      var done = function () {
        busy = false;
        submit.disabled = false;
      };
      Promise.resolve(opts.onSubmit({ grade: grade, tags: tags, comment: comment.value.trim() })).then(done, done);
    });

    return {
      reset: function () {
        grade = null;
        each(grades, function (b) { b.setAttribute("aria-pressed", "false"); });
        each(form.querySelectorAll(".r-tag"), function (t) { t.setAttribute("aria-pressed", "false"); });
        each(groups, function (g) { g.hidden = true; });
        detail.hidden = true;
        comment.value = "";
        error.textContent = "";
      },
      showError: function (message) {
        error.textContent = message;
      },
    };
  };
})();
