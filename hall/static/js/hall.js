/* Hall: what every page script shares. Plain ES5-style script, no build step. */
(function () {
  "use strict";
  var Hall = (window.Hall = window.Hall || {});

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  /**
   * Call the Hall API: JSON in and out, the page's CSRF token on changes.
   * Resolves to {status, data}; data is the parsed JSON body or null.
   * Rejects only when the network fails.
   */
  Hall.api = function (method, path, body) {
    var headers = { Accept: "application/json" };
    var token = csrfToken();
    if (token && method !== "GET") headers["X-CSRF-Token"] = token;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined && body !== null) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 204) return { status: 204, data: null };
      return resp.json().then(
        function (data) { return { status: resp.status, data: data }; },
        function () { return { status: resp.status, data: null }; }
      );
    });
  };

  /** The Chinese message of an API error answer, or a general one. */
  Hall.errorMessage = function (answer) {
    if (answer && answer.data && answer.data.error) return answer.data.error.message;
    return "网络或系统故障,请稍后重试";
  };

  /** Minutes, for people: "约 12 分钟", "马上". */
  Hall.minutes = function (seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var m = Math.round(seconds / 60);
    return m < 1 ? "马上" : "约 " + m + " 分钟";
  };

  /**
   * Run tasks (functions returning promises) one after another, in the order
   * given. A page that sends its requests through one of these applies the
   * answers in the order it asked, so an older answer never overwrites a newer.
   */
  Hall.serial = function () {
    var chain = Promise.resolve();
    function done() {}
    return function (task) {
      var result = chain.then(task);
      chain = result.then(done, done);
      return result;
    };
  };

  /**
   * A refresh through `serial` that is never queued twice: calls while one
   * waits to start merge into it (bursts of events cost one request).
   */
  Hall.coalesced = function (serial, load) {
    var queued = false;
    return function () {
      if (queued) return;
      queued = true;
      serial(function () {
        queued = false;
        return load();
      });
    };
  };

  /** Set the text of an element by id (never HTML: data is not markup). */
  Hall.text = function (id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value === null || value === undefined ? "" : String(value);
  };
})();
