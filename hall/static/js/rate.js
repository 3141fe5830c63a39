/* The citizen's rating page (/r/{token}): rate the service once, see the rating, 追评 when allowed. */
(function () {
  "use strict";
  var root = document.getElementById("rate");
  var data = JSON.parse(document.getElementById("rate-data").textContent);
  var section = document.getElementById("q-form");
  var KINDS = { first: "评价", follow_up: "追评" };

  function line(list, label, text) {
    var p = document.createElement("p");
    var b = document.createElement("span");
    b.className = "q-label";
    b.textContent = label;
    p.appendChild(b);
    p.appendChild(document.createTextNode(text));
    list.appendChild(p);
  }

  function showRating(r) {
    var item = document.createElement("li");
    item.setAttribute("data-grade", r.grade);
    var head = document.createElement("p");
    head.className = "q-grade";
    head.textContent = (KINDS[r.kind] || "评价") + ":" + r.grade_name + (r.voided ? "(已作废)" : "");
    item.appendChild(head);
    if (r.tags.length) line(item, "标签:", r.tags.join("、"));
    if (r.comment) line(item, "意见:", r.comment);
    line(item, "时间:", (r.created_at || "").slice(0, 16).replace("T", " "));
    document.getElementById("q-rating-list").appendChild(item);
    document.getElementById("q-ratings").hidden = false;
  }

  function rater() {
    var fields = { name: ".r-name", phone: ".r-phone", id_number: ".r-id" };
    var given = {};
    var any = false;
    Object.keys(fields).forEach(function (key) {
      var value = section.querySelector(fields[key]).value.replace(/\s+/g, "");
      if (value) {
        given[key] = value;
        any = true;
      }
    });
    return any ? given : null;
  }

  function post(body) {
    // The ticket's token is the only key: no cookie goes with it, so a staff browser rates as a citizen too.
    return fetch("/api/ratings", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json().then(
        function (json) { return { status: resp.status, data: json }; },
        function () { return { status: resp.status, data: null }; }
      );
    });
  }

  var form = Hall.ratingForm(section, {
    onSubmit: function (values) {
      var body = { ticket_token: data.token, grade: values.grade, tags: values.tags, comment: values.comment, channel: "qr" };
      var who = rater();
      if (who) body.rater = who;
      return post(body).then(function (answer) {
        if (answer.status === 201) {
          showRating(answer.data);
          section.hidden = true;
          document.getElementById("q-thanks").hidden = false;
          root.setAttribute("data-state", "rated");
        } else {
          form.showError(Hall.errorMessage(answer));
        }
      }, function () {
        form.showError("网络故障,评价未能提交,请稍后重试");
      });
    },
  });

  data.ratings.forEach(showRating);
  if (data.state === "rated") {
    var followed = data.ratings.some(function (r) { return r.kind === "follow_up"; });
    Hall.text("q-rated-note", followed
      ? "这次服务已经评价并追评,不能再评价。"
      : "这次服务已经评价过(一次一评)。差评经整改并回访后,可以在评价期限内追加一次评价。");
  }
})();
