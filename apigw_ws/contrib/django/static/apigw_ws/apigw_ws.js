/*
 * apigw_ws.js: the browser client of apigw_ws. No dependencies, no build step.
 *
 *   const ws = new ApigwWs.Client({url: "wss://abc.execute-api.eu-west-1.amazonaws.com/prod",
 *                                  channel: "lobby", tokenUrl: "/ws/token"});
 *   ws.on("chat_message", (msg) => show(msg));
 *   ws.on("state", (state) => badge(state));
 *   ws.send("chat_message", {text: "hi"});
 *
 * Every connection attempt fetches a fresh single-use token (POST tokenUrl with the CSRF
 * token), so reconnects never reuse a consumed one. A lost connection is re-opened after
 * an exponential backoff with jitter; sends made meanwhile wait in a queue. A heartbeat
 * keeps the socket inside API Gateway's 10-minute idle limit, and the connection is
 * renewed before the 2-hour limit. See docs/client.rst.
 */
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.ApigwWs = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const MINUTE = 60 * 1000;

  const DEFAULTS = {
    url: "", // the stage URL: wss://{api id}.execute-api.{region}.amazonaws.com/{stage}
    channel: "", // sent as ?channel=; "" lets the server pick its default
    tokenUrl: "", // the token endpoint (POST); "" connects without a token
    tokenIn: "protocol", // "protocol": a Sec-WebSocket-Protocol entry; "query": ?ws_token=
    // With tokenIn "protocol" the client offers [protocol, tokenPrefix + token]; the server
    // echoes `protocol` (a browser fails a handshake whose answer names no offered entry).
    protocol: "apigw_ws",
    tokenPrefix: "apigw_ws.token.",
    csrfToken: "", // else read from the csrfCookie cookie
    csrfCookie: "csrftoken",
    csrfHeader: "X-CSRFToken",
    handlerKey: "handler", // APIGW_WS["HANDLER_KEY"]
    action: "", // default route key (body key "action"); "" means API Gateway's $default
    // API Gateway refuses frames over 32 KB, and browsers send each message in one frame.
    maxMessageBytes: 32 * 1024,
    heartbeatMs: 5 * MINUTE, // a message after this much client silence (idle limit: 10 min)
    heartbeat: { handler: "ping" }, // null: no heartbeat
    maxAgeMs: 110 * MINUTE, // renew the connection before API Gateway's 2-hour limit
    minDelayMs: 500, // first reconnect delay, doubled per failed attempt...
    maxDelayMs: 30 * 1000, // ...up to this; each delay is jittered to 50-100% of it
    queueLimit: 100, // sends kept while not connected
    autoConnect: true,
  };

  const STATES = ["idle", "connecting", "open", "waiting", "closed"];

  /** Raised by send() for a message over maxMessageBytes; nothing was sent or queued. */
  class MessageTooLarge extends RangeError {
    constructor(bytes, limit) {
      super(`message is ${bytes} bytes, the limit is ${limit}`);
      this.name = "MessageTooLarge";
      this.bytes = bytes;
      this.limit = limit;
    }
  }

  /** Raised by send() when queueLimit messages already wait for a connection. */
  class QueueFull extends Error {
    constructor(limit) {
      super(`${limit} messages already wait for the connection`);
      this.name = "QueueFull";
    }
  }

  /** Raised when the token endpoint answers anything but a token. */
  class TokenError extends Error {
    constructor(status, message) {
      super(message || `token endpoint answered ${status}`);
      this.name = "TokenError";
      this.status = status;
    }
  }

  /** Return the value of cookie `name` in a `document.cookie` string, or "". */
  function readCookie(cookies, name) {
    for (const part of (cookies || "").split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === name) {
        return decodeURIComponent(part.slice(eq + 1).trim());
      }
    }
    return "";
  }

  /** Return the delay before reconnect attempt `attempt` (1, 2, ...): capped, jittered. */
  function backoffDelay(attempt, options, random) {
    const exponent = Math.min(Math.max(attempt - 1, 0), 30);
    const cap = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** exponent);
    // Half fixed, half random: never a thundering herd, never an immediate retry.
    return Math.round(cap / 2 + random() * (cap / 2));
  }

  /** Return the UTF-8 length of a string. */
  function utf8Length(text) {
    return new TextEncoder().encode(text).length;
  }

  /** Return the URL to open: the stage URL with ?channel= and, maybe, ?ws_token=. */
  function socketUrl(options, token) {
    const params = [];
    if (options.channel) params.push("channel=" + encodeURIComponent(options.channel));
    if (token && options.tokenIn === "query") params.push("ws_token=" + encodeURIComponent(token));
    if (!params.length) return options.url;
    return options.url + (options.url.includes("?") ? "&" : "?") + params.join("&");
  }

  /** Return the Sec-WebSocket-Protocol entries that carry `token`, or none. */
  function socketProtocols(options, token) {
    if (!token || options.tokenIn !== "protocol") return [];
    return [options.protocol, options.tokenPrefix + token];
  }

  function defaultEnv() {
    const g = typeof globalThis !== "undefined" ? globalThis : self;
    return {
      WebSocket: g.WebSocket,
      fetch: g.fetch ? g.fetch.bind(g) : undefined,
      setTimeout: g.setTimeout.bind(g),
      clearTimeout: g.clearTimeout.bind(g),
      random: Math.random,
      cookies: () => (g.document ? g.document.cookie : ""),
    };
  }

  class Client {
    /**
     * Options: see DEFAULTS. `env` replaces the browser globals (WebSocket, fetch,
     * setTimeout, clearTimeout, random, cookies), which the unit tests do.
     */
    constructor(options, env) {
      this.options = Object.assign({}, DEFAULTS, options || {});
      if (!this.options.url) throw new TypeError("ApigwWs.Client needs a url");
      this.env = Object.assign(defaultEnv(), env || {});
      this.state = "idle";
      this.attempt = 0; // failed attempts since the last open connection
      this.queue = [];
      this.socket = null;
      this._listeners = new Map();
      this._timers = { retry: null, heartbeat: null, renew: null };
      this._generation = 0; // bumped to orphan the callbacks of an abandoned attempt
      this._switch = null; // {resolve, reject} of a pending switchChannel()
      if (this.options.autoConnect) this.connect();
    }

    /** Call fn(data) for every event `type`; return a function that removes it. */
    on(type, fn) {
      if (!this._listeners.has(type)) this._listeners.set(type, new Set());
      this._listeners.get(type).add(fn);
      return () => this.off(type, fn);
    }

    off(type, fn) {
      const set = this._listeners.get(type);
      if (set) set.delete(fn);
    }

    _emit(type, data) {
      const set = this._listeners.get(type);
      if (!set) return;
      for (const fn of Array.from(set)) {
        try {
          fn(data, this);
        } catch (err) {
          // One broken listener must not stop the others, nor the reconnect logic.
          setTimeout(() => {
            throw err;
          });
        }
      }
    }

    _setState(state, detail) {
      if (STATES.indexOf(state) < 0) throw new Error("unknown state " + state);
      if (state === this.state) return;
      const previous = this.state;
      this.state = state;
      this._emit("state", Object.assign({ state: state, previous: previous }, detail || {}));
    }

    /** Open the connection (again): a no-op while connecting or open. */
    connect() {
      if (this.state === "connecting" || this.state === "open") return;
      this._clearTimer("retry");
      this._open();
    }

    /** Close for good: no reconnect, the queue is dropped. */
    close() {
      this._generation += 1;
      this._clearTimers();
      this.queue = [];
      const socket = this.socket;
      this.socket = null;
      if (socket) socket.close(1000, "client closed");
      this._rejectSwitch(new Error("client closed"));
      this._setState("closed");
    }

    /**
     * Re-connect to `channel` with a fresh token. Resolve once the new connection is
     * open; reject if that first attempt is refused (the client keeps retrying).
     */
    switchChannel(channel) {
      this._rejectSwitch(new Error("superseded by another switchChannel()"));
      this.options.channel = channel;
      const promise = new Promise((resolve, reject) => {
        this._switch = { resolve, reject };
      });
      this._generation += 1;
      this._clearTimers();
      const socket = this.socket;
      this.socket = null;
      if (socket) socket.close(1000, "switching channel");
      this.attempt = 0;
      this._open();
      return promise;
    }

    /**
     * Send {handlerKey: handler, ...payload} (plus "action" from opts or the options).
     * Return true if sent now, false if queued until the connection is open. Throw
     * MessageTooLarge or QueueFull; after close(), throw an Error.
     */
    send(handler, payload, opts) {
      if (this.state === "closed") throw new Error("the client is closed");
      if (typeof handler !== "string" || !handler) throw new TypeError("handler must be a name");
      if (payload !== undefined && (payload === null || typeof payload !== "object" || Array.isArray(payload))) {
        throw new TypeError("payload must be an object");
      }
      const body = Object.assign({}, payload || {});
      body[this.options.handlerKey] = handler;
      const action = (opts && opts.action) || this.options.action;
      if (action) body.action = action;
      const text = JSON.stringify(body);
      const bytes = utf8Length(text);
      if (bytes > this.options.maxMessageBytes) {
        throw new MessageTooLarge(bytes, this.options.maxMessageBytes);
      }
      if (this.state === "open" && this._write(text)) return true;
      if (this.queue.length >= this.options.queueLimit) throw new QueueFull(this.options.queueLimit);
      this.queue.push(text);
      return false;
    }

    // -- connecting -----------------------------------------------------------------

    async _open() {
      const generation = ++this._generation;
      this._setState("connecting", { attempt: this.attempt + 1 });
      let token = "";
      try {
        token = await this._fetchToken();
      } catch (err) {
        if (generation !== this._generation) return;
        this._emit("error", { kind: "token", status: err.status || 0, message: err.message });
        this._failed(generation, "token");
        return;
      }
      if (generation !== this._generation) return;
      let socket;
      try {
        socket = this._makeSocket(this.options, token);
      } catch (err) {
        this._emit("error", { kind: "socket", status: 0, message: err.message });
        this._failed(generation, "socket");
        return;
      }
      this._watch(socket, generation, false);
    }

    _makeSocket(options, token) {
      const protocols = socketProtocols(options, token);
      const url = socketUrl(options, token);
      return protocols.length ? new this.env.WebSocket(url, protocols) : new this.env.WebSocket(url);
    }

    async _fetchToken() {
      const options = this.options;
      if (!options.tokenUrl) return "";
      const csrf = options.csrfToken || readCookie(this.env.cookies(), options.csrfCookie);
      const headers = { Accept: "application/json" };
      if (csrf) headers[options.csrfHeader] = csrf;
      const response = await this.env.fetch(options.tokenUrl, {
        method: "POST",
        headers: headers,
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) throw new TokenError(response.status);
      const data = await response.json();
      if (!data || typeof data.token !== "string" || !data.token) {
        throw new TokenError(response.status, "the token endpoint answered no token");
      }
      return data.token;
    }

    /** Follow one socket; `renewal` sockets replace a still-open one when they open. */
    _watch(socket, generation, renewal) {
      let opened = false;
      socket.onopen = () => {
        if (generation !== this._generation) {
          socket.close(1000, "abandoned");
          return;
        }
        opened = true;
        const old = this.socket;
        this.socket = socket;
        if (renewal && old) old.close(1000, "renewed");
        this._opened(renewal);
      };
      socket.onmessage = (event) => {
        if (socket === this.socket) this._receive(event.data);
      };
      socket.onerror = () => {
        // Browsers say nothing about why; onclose follows with the code.
      };
      socket.onclose = (event) => {
        const info = { code: event.code, reason: event.reason || "", opened: opened };
        if (renewal && !opened) {
          // The old socket still serves; try renewing again after a while.
          if (generation === this._generation) this._scheduleRenew(this.options.maxAgeMs / 20);
          return;
        }
        if (socket !== this.socket && opened) return; // a replaced or abandoned socket
        if (generation !== this._generation) return;
        this.socket = null;
        this._stopConnectionTimers();
        if (!opened) this._emit("refused", info);
        this._emit("close", info);
        this._failed(generation, opened ? "closed" : "refused", info);
      };
    }

    _opened(renewal) {
      this._clearTimer("retry");
      this.attempt = 0;
      this._setState("open");
      this._scheduleRenew(this.options.maxAgeMs);
      this._scheduleHeartbeat();
      this._emit("open", { renewal: renewal });
      if (this._switch) {
        const pending = this._switch;
        this._switch = null;
        pending.resolve(this.options.channel);
      }
      this._flush();
    }

    _failed(generation, why, info) {
      if (generation !== this._generation || this.state === "closed") return;
      this._rejectSwitch(Object.assign(new Error("connection " + why), info || {}));
      this.attempt += 1;
      const delay = backoffDelay(this.attempt, this.options, this.env.random);
      this._setState("waiting", { attempt: this.attempt, delay: delay, why: why });
      this._timers.retry = this.env.setTimeout(() => {
        this._timers.retry = null;
        if (this.state === "waiting") this._open();
      }, delay);
    }

    _rejectSwitch(err) {
      if (!this._switch) return;
      const pending = this._switch;
      this._switch = null;
      pending.reject(err);
    }

    _receive(raw) {
      let data;
      try {
        data = JSON.parse(raw);
      } catch (err) {
        this._emit("message", raw);
        return;
      }
      this._emit("message", data);
      if (data && typeof data === "object" && typeof data.type === "string" && data.type) {
        this._emit(data.type, data);
      }
    }

    // -- sending --------------------------------------------------------------------

    _write(text) {
      const socket = this.socket;
      if (!socket || socket.readyState !== 1) return false;
      socket.send(text);
      this._scheduleHeartbeat(); // any message counts as activity for the idle limit
      return true;
    }

    _flush() {
      while (this.queue.length && this.state === "open") {
        if (!this._write(this.queue[0])) return;
        this.queue.shift();
      }
    }

    // -- timers ---------------------------------------------------------------------

    _scheduleHeartbeat() {
      this._clearTimer("heartbeat");
      const beat = this.options.heartbeat;
      if (!beat || !(this.options.heartbeatMs > 0)) return;
      this._timers.heartbeat = this.env.setTimeout(() => {
        this._timers.heartbeat = null;
        if (this.state !== "open") return;
        const body = Object.assign({}, beat);
        if (this.options.action && !body.action) body.action = this.options.action;
        this._write(JSON.stringify(body));
      }, this.options.heartbeatMs);
    }

    _scheduleRenew(delay) {
      this._clearTimer("renew");
      if (!(this.options.maxAgeMs > 0)) return;
      this._timers.renew = this.env.setTimeout(() => {
        this._timers.renew = null;
        this._renew();
      }, delay);
    }

    async _renew() {
      if (this.state !== "open") return;
      const generation = this._generation;
      let token;
      try {
        token = await this._fetchToken();
      } catch (err) {
        if (generation === this._generation) this._scheduleRenew(this.options.maxAgeMs / 20);
        return;
      }
      if (generation !== this._generation || this.state !== "open") return;
      let socket;
      try {
        socket = this._makeSocket(this.options, token);
      } catch (err) {
        this._scheduleRenew(this.options.maxAgeMs / 20);
        return;
      }
      this._watch(socket, generation, true);
    }

    _stopConnectionTimers() {
      this._clearTimer("heartbeat");
      this._clearTimer("renew");
    }

    _clearTimer(name) {
      if (this._timers[name] !== null) {
        this.env.clearTimeout(this._timers[name]);
        this._timers[name] = null;
      }
    }

    _clearTimers() {
      for (const name of Object.keys(this._timers)) this._clearTimer(name);
    }
  }

  /** Build a Client from the JSON config a {% apigw_ws_config %} tag put in the page. */
  function fromElement(elementOrId, overrides, env) {
    const doc = typeof document !== "undefined" ? document : null;
    const element = typeof elementOrId === "string" ? doc.getElementById(elementOrId) : elementOrId;
    if (!element) throw new Error("no apigw_ws config element " + elementOrId);
    const config = JSON.parse(element.textContent);
    return new Client(Object.assign({}, config, overrides || {}), env);
  }

  return {
    Client: Client,
    DEFAULTS: DEFAULTS,
    MessageTooLarge: MessageTooLarge,
    QueueFull: QueueFull,
    TokenError: TokenError,
    backoffDelay: backoffDelay,
    fromElement: fromElement,
    readCookie: readCookie,
    socketProtocols: socketProtocols,
    socketUrl: socketUrl,
  };
});
