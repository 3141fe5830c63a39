/* The public rating summary on a notice screen: fetched afresh every five minutes. */
(function () {
  "use strict";
  setTimeout(function () { window.location.reload(); }, 5 * 60 * 1000);
})();
