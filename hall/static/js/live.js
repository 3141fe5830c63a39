/* Hall.live: the page's WebSocket to /api/live, resumed by event id, reconnecting by itself. */
(function () {
  "use strict";
  var Hall = (window.Hall = window.Hall || {});

  /**
   * opts.query    extra query string (e.g. "ticket=<token>")
   * opts.onEvent  called with each event {id, type, at, payload}
   * opts.onSync   called when the page should fetch its state afresh: on every
   *               (re)connection and when the server says it fell too far behind
   * opts.onStatus called with true/false as the connection comes and goes
   */
  Hall.live = function (opts) {
    var last = 0;
    var delay = 1000;
    var socket = null;
    var stopped = false;

    function address() {
      var scheme = location.protocol === "https:" ? "wss:" : "ws:";
      var url = scheme + "//" + location.host + "/api/live?after=" + last;
      return opts.query ? url + "&" + opts.query : url;
    }

    function status(up) {
      if (opts.onStatus) opts.onStatus(up);
    }

    function connect() {
      socket = new WebSocket(address());
      socket.onmessage = function (message) {
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        if (data.type === "hello") {
          if (last === 0) last = data.last_id;
          delay = 1000;
          status(true);
          if (opts.onSync) opts.onSync();
        } else if (data.type === "resync") {
          last = data.last_id;
          if (opts.onSync) opts.onSync();
        } else if (data.type === "event") {
          last = data.event.id;
          if (opts.onEvent) opts.onEvent(data.event);
        }
      };
      socket.onclose = function () {
        status(false);
        if (stopped) return;
        var wait = delay + Math.floor(Math.random() * 500);
        delay = Math.min(delay * 2, 15000);
        setTimeout(connect, wait);
      };
    }

    connect();
    return {
      close: function () {
        stopped = true;
        if (socket) socket.close();
      },
      lastId: function () {
        return last;
      },
    };
  };

  /** Run fn at most once per `ms`, the last call winning (for bursts of events). */
  Hall.debounce = function (fn, ms) {
    var timer = null;
    return function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () {
        timer = null;
        fn();
      }, ms);
    };
  };
})();
