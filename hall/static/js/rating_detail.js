/* A rating's detail: "显示完整信息" reads the rater unmasked (the server logs every such read). */
(function () {
  "use strict";
  var button = document.getElementById("reveal");
  if (!button) return;
  button.addEventListener("click", function () {
    var id = button.getAttribute("data-rating");
    var error = document.getElementById("reveal-error");
    button.disabled = true;
    Hall.api("GET", "/api/ratings/" + id + "/rater?purpose=" + encodeURIComponent("评价明细查看")).then(function (answer) {
      if (answer.status !== 200) {
        error.textContent = Hall.errorMessage(answer);
        button.disabled = false;
        return;
      }
      var rater = answer.data.rater;
      document.getElementById("rater-name").textContent = rater.name || "—";
      document.getElementById("rater-phone").textContent = rater.phone || "—";
      document.getElementById("rater-id").textContent = rater.id_number || "—";
      button.hidden = true;
    }, function () {
      error.textContent = "网络或系统故障,请稍后重试";
      button.disabled = false;
    });
  });
})();
