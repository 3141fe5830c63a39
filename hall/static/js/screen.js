/* Hall.screen: a hall screen's connection to /ws/screen — snapshot, events in order, resume by id. */
(function () {
  "use strict";
  var Hall = (window.Hall = window.Hall || {});
  var VERSION = "screen-1";

  /**
   * opts.name, opts.kind   how the screen reports itself to the registry
   * opts.onSnapshot(s)     the whole state (on first connect, and when it fell behind)
   * opts.onEvent(e)        each event in id order ({id, type, payload, …})
   * opts.onWaiting(w)      people waiting per section
   * opts.onStatus(up)      connection up / down
   */
  Hall.screen = function (opts) {
    var last = 0;
    var delay = 1000;
    var socket = null;
    var watchdog = null;
    var ackTimer = null;

    function send(message) {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
    }

    function ackSoon() {
      if (ackTimer) return;
      ackTimer = setTimeout(function () {
        ackTimer = null;
        send({ type: "ack", last_id: last });
      }, 2000);
    }

    function alive() {
      // The server pings every 15 s: silence for 45 s means the connection is dead.
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(function () { if (socket) socket.close(); }, 45000);
    }

    function connect() {
      var scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(scheme + "//" + location.host + "/ws/screen?after=" + last);
      socket.onopen = function () {
        send({ type: "hello", name: opts.name || "", kind: opts.kind || "screen", version: VERSION, last_id: last });
        alive();
      };
      socket.onmessage = function (message) {
        alive();
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        if (data.type === "hello") {
          delay = 1000;
          if (opts.onStatus) opts.onStatus(true);
        } else if (data.type === "snapshot") {
          last = data.id;
          opts.onSnapshot(data);
          ackSoon();
        } else if (data.type === "waiting") {
          if (opts.onWaiting) opts.onWaiting(data.waiting);
        } else if (data.type === "ping") {
          send({ type: "ack", last_id: last });
        } else if (typeof data.id === "number" && data.id > last) {
          last = data.id;
          opts.onEvent(data);
          ackSoon();
        }
      };
      socket.onclose = function () {
        if (opts.onStatus) opts.onStatus(false);
        if (watchdog) clearTimeout(watchdog);
        var wait = delay + Math.floor(Math.random() * 500);
        delay = Math.min(delay * 2, 15000);
        setTimeout(connect, wait);
      };
    }

    connect();
    return { lastId: function () { return last; } };
  };

  /** Announcements played one after another; a new call never cuts off the one playing. */
  Hall.AudioQueue = function () {
    this.items = [];
    this.playing = false;
    this.enabled = false;
    this.audio = new Audio();
    var self = this;
    this.audio.addEventListener("ended", function () { self.next(); });
    this.audio.addEventListener("error", function () { self.next(); });
  };
  Hall.AudioQueue.prototype.add = function (url) {
    if (!this.enabled) return;
    this.items.push(url);
    if (!this.playing) this.next();
  };
  Hall.AudioQueue.prototype.next = function () {
    var url = this.items.shift();
    this.playing = !!url;
    if (!url) return;
    this.audio.src = url;
    var self = this;
    var played = this.audio.play();
    if (played && played.catch) played.catch(function () { self.next(); });
  };
})();
