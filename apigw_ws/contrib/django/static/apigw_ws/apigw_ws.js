/*
 * apigw_ws.js: the browser client of apigw_ws. No dependencies, no build step.
 *
 *   const ws = new ApigwWs.Client({url: "wss://abc.execute-api.eu-west-1.amazonaws.com/prod",
 *                                  channel: "lobby", tokenUrl: "/ws/token"});
 *   ws.on("chat_message", (msg) => show(msg));
 *   ws.on("state", (state) => badge(state));
 *   ws.send("chat_message", {text: "hi"});
 *
 * A single-use token is fetched (POST tokenUrl with the CSRF token) when the client has
 * none it may still use: a token is spent once a connection opened with it, and one whose
 * attempt was refused is used again (the server rolls a refused connect's spending back)
 * until it nears expiry or was refused `tokenReuse` times. The token fetch and each
 * connect attempt have timeouts; a 429's Retry-After is honoured. A lost connection is
 * re-opened after an exponential backoff with jitter, which resets only once a connection
 * stayed open `stableMs`; sends made meanwhile wait in a queue. With `recovery` on, the
 * client asks for what it missed on every open and delivers channel messages in sequence
 * order, each id once. A heartbeat keeps the socket inside API Gateway's 10-minute idle
 * limit, and the connection is renewed before the 2-hour limit. See docs/client.rst.
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
    tokenTimeoutMs: 10 * 1000, // a token fetch that takes longer is a failed attempt
    connectTimeoutMs: 15 * 1000, // so is a socket that has not opened by then
    tokenMarginMs: 10 * 1000, // an unspent token is used again until this close to expiry...
    tokenReuse: 6, // ...and for at most this many refused attempts (~24 s of default backoff)
    stableMs: 10 * 1000, // the backoff resets once a connection stayed open this long
    finalCloseCodes: [], // server close codes that end the client, e.g. [1000]: no reconnect
    dedupeKey: "id", // a message whose dedupeKey value was seen already is dropped; "" never
    dedupeLimit: 1000, // how many recent ids are remembered
    ackKey: "ack_id", // sendWithAck() puts its id here; a message carrying it acknowledges
    ackTimeoutMs: 10 * 1000, // an acknowledgement not received this long after sending fails
    recovery: null, // {handler: "resume"}: ask for missed channel messages on every open
    resumeTimeoutMs: 10 * 1000, // held messages are released if the resume answer is late
    reorderMs: 1000, // a sequence gap waits this long for the missing message, then resumes
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

  /** Raised when the token endpoint answers anything but a token (status 0: no answer). */
  class TokenError extends Error {
    constructor(status, message, retryAfterMs) {
      super(message || `token endpoint answered ${status}`);
      this.name = "TokenError";
      this.status = status;
      this.retryAfterMs = retryAfterMs || 0;
    }
  }

  /** Rejects the promise of sendWithAck(): no acknowledgement came (`reason` says why). */
  class AckFailed extends Error {
    constructor(ackId, reason) {
      super(`message ${ackId} was not acknowledged: ${reason}`);
      this.name = "AckFailed";
      this.ackId = ackId;
      this.reason = reason; // "timeout", "closed", or "superseded" (sent again, same id)
    }
  }

  /** Return a Retry-After header value in milliseconds (seconds or an HTTP date), or 0. */
  function retryAfterMs(value, now) {
    if (!value) return 0;
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(value);
    return Number.isFinite(at) ? Math.max(0, at - now) : 0;
  }

  /** A set that forgets its oldest entries beyond `limit`. */
  class RecentSet {
    constructor(limit) {
      this.limit = limit;
      this.items = new Set();
    }
    has(value) {
      return this.items.has(value);
    }
    add(value) {
      this.items.add(value);
      if (this.items.size > this.limit) this.items.delete(this.items.values().next().value);
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
      now: () => Date.now(),
      cookies: () => (g.document ? g.document.cookie : ""),
      AbortController: g.AbortController,
    };
  }

  class Client {
    /**
     * Options: see DEFAULTS. `env` replaces the browser globals (WebSocket, fetch,
     * setTimeout, clearTimeout, random, now, cookies, AbortController), which the unit
     * tests do.
     */
    constructor(options, env) {
      this.options = Object.assign({}, DEFAULTS, options || {});
      if (!this.options.url) throw new TypeError("ApigwWs.Client needs a url");
      this.env = Object.assign(defaultEnv(), env || {});
      this.state = "idle";
      this.attempt = 0; // failed attempts since a connection last stayed open stableMs
      this.queue = [];
      this.socket = null;
      this.closeInfo = null; // {code, reason, opened, final} of the close that ended the client
      this._listeners = new Map();
      this._timers = { retry: null, heartbeat: null, renew: null, stable: null, resume: null };
      this._generation = 0; // bumped to orphan the callbacks of an abandoned attempt
      this._switch = null; // {resolve, reject} of a pending switchChannel()
      this._token = null; // {value, expiresAt, refusals}: fetched, not known to be spent
      this._seen = new RecentSet(this.options.dedupeLimit);
      this._acks = new Map(); // ackId -> {text, resolve, reject, timer, written}
      this._ackCount = 0;
      this._channels = new Map(); // channel -> {last, held: Map(seq -> message), timer}
      this._resuming = false;
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

    /** Open the connection (again, also after close()): a no-op while connecting or open. */
    connect() {
      if (this.state === "connecting" || this.state === "open") return;
      this._clearTimer("retry");
      this.closeInfo = null;
      this._open();
    }

    /** Skip the rest of the wait before the next attempt (a "retry now" button). */
    retryNow() {
      if (this.state !== "waiting") return false;
      this._clearTimer("retry");
      this._open();
      return true;
    }

    /** Close for good: no reconnect, the queue is dropped, pending acknowledgements fail. */
    close() {
      const socket = this.socket;
      this.socket = null;
      if (socket) socket.close(1000, "client closed");
      this._end(null);
    }

    _end(info) {
      this._generation += 1;
      this._clearTimers();
      this.queue = [];
      this._failAcks("closed");
      this._rejectSwitch(new Error("client closed"));
      this.closeInfo = info;
      this._setState("closed", info ? { code: info.code, reason: info.reason, final: true } : {});
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
      this._requeueAcks();
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
      const text = this._encode(handler, payload, opts);
      if (this.state === "open" && this._write(text)) return true;
      this._enqueue(text);
      return false;
    }

    /**
     * Send like send(), with an acknowledgement: the body carries ackKey: ackId, and the
     * first message that comes back carrying the same ackKey value acknowledges it.
     * Return {ackId, acked}: `acked` resolves with that message, or rejects with AckFailed
     * ("timeout": none came within ackTimeoutMs of sending; "closed": the client closed).
     * A message sent but not acknowledged when its connection drops is sent again on the
     * next one, with the same ackId, so the handler must treat a repeated ackId as done.
     * opts.ackId re-sends a failed message under its first id.
     */
    sendWithAck(handler, payload, opts) {
      const key = this.options.ackKey;
      const ackId = (opts && opts.ackId) || this._newAckId();
      const body = Object.assign({}, payload || {});
      body[key] = ackId;
      const text = this._encode(handler, body, opts);
      if (this._acks.has(ackId)) this._settleAck(ackId, null, new AckFailed(ackId, "superseded"));
      let entry;
      const acked = new Promise((resolve, reject) => {
        entry = { text: text, resolve: resolve, reject: reject, timer: null, written: false };
      });
      if (this.state === "open" && this._write(text)) {
        this._acks.set(ackId, entry);
        this._ackWritten(ackId, entry);
      } else {
        this._enqueue(text);
        this._acks.set(ackId, entry);
      }
      return { ackId: ackId, acked: acked };
    }

    _newAckId() {
      this._ackCount += 1;
      return this._ackCount.toString(36) + "-" + Math.floor(this.env.random() * 2 ** 48).toString(36);
    }

    _encode(handler, payload, opts) {
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
      return text;
    }

    _enqueue(text) {
      if (this.queue.length >= this.options.queueLimit) throw new QueueFull(this.options.queueLimit);
      this.queue.push(text);
    }

    // -- connecting -----------------------------------------------------------------

    async _open() {
      const generation = ++this._generation;
      this._setState("connecting", { attempt: this.attempt + 1 });
      let token = "";
      try {
        token = await this._takeToken();
      } catch (err) {
        if (generation !== this._generation) return;
        this._emit("error", { kind: "token", status: err.status || 0, message: err.message });
        this._failed(generation, "token", { retryAfterMs: err.retryAfterMs || 0 });
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
      this._watch(socket, generation, false, token);
    }

    _makeSocket(options, token) {
      const protocols = socketProtocols(options, token);
      const url = socketUrl(options, token);
      return protocols.length ? new this.env.WebSocket(url, protocols) : new this.env.WebSocket(url);
    }

    /** Return the kept token if it may serve one more attempt, else fetch a fresh one. */
    async _takeToken() {
      if (!this.options.tokenUrl) return "";
      const kept = this._token;
      const now = this.env.now();
      if (kept && kept.refusals < this.options.tokenReuse && now < kept.expiresAt - this.options.tokenMarginMs) {
        return kept.value;
      }
      this._token = null;
      const fetched = await this._fetchToken();
      this._token = { value: fetched.token, expiresAt: now + fetched.expiresInMs, refusals: 0 };
      return fetched.token;
    }

    /** POST the token endpoint; reject with TokenError on an error answer or a timeout. */
    _fetchToken() {
      const options = this.options;
      const Abort = this.env.AbortController;
      const controller = Abort ? new Abort() : null;
      return new Promise((resolve, reject) => {
        const timer = this.env.setTimeout(() => {
          if (controller) controller.abort();
          reject(new TokenError(0, `token endpoint gave no answer within ${options.tokenTimeoutMs} ms`));
        }, options.tokenTimeoutMs);
        this._requestToken(controller).then(
          (fetched) => {
            this.env.clearTimeout(timer);
            resolve(fetched);
          },
          (err) => {
            this.env.clearTimeout(timer);
            reject(err instanceof TokenError ? err : new TokenError(0, err && err.message));
          },
        );
      });
    }

    async _requestToken(controller) {
      const options = this.options;
      const csrf = options.csrfToken || readCookie(this.env.cookies(), options.csrfCookie);
      const headers = { Accept: "application/json" };
      if (csrf) headers[options.csrfHeader] = csrf;
      const init = { method: "POST", headers: headers, credentials: "same-origin", cache: "no-store" };
      if (controller) init.signal = controller.signal;
      const response = await this.env.fetch(options.tokenUrl, init);
      if (!response.ok) {
        const header = response.headers && response.headers.get ? response.headers.get("Retry-After") : "";
        throw new TokenError(response.status, "", retryAfterMs(header, this.env.now()));
      }
      const data = await response.json();
      if (!data || typeof data.token !== "string" || !data.token) {
        throw new TokenError(response.status, "the token endpoint answered no token");
      }
      const seconds = Number(data.expires_in);
      return { token: data.token, expiresInMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000 };
    }

    /** Follow one socket; `renewal` sockets replace a still-open one when they open. */
    _watch(socket, generation, renewal, token) {
      let opened = false;
      let timedOut = false;
      const timer = this.env.setTimeout(() => {
        // No answer in time: give up on this socket (onclose follows, as for a refusal).
        timedOut = true;
        socket.close();
      }, this.options.connectTimeoutMs);
      socket.onopen = () => {
        this.env.clearTimeout(timer);
        if (token && this._token && this._token.value === token) this._token = null; // spent
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
        this.env.clearTimeout(timer);
        const info = { code: event.code, reason: event.reason || "", opened: opened };
        if (timedOut) info.timeout = true;
        if (!opened && token && this._token && this._token.value === token) this._token.refusals += 1;
        if (renewal && !opened) {
          // The old socket still serves; try renewing again after a while.
          if (generation === this._generation) this._scheduleRenew(this.options.maxAgeMs / 20);
          return;
        }
        if (socket !== this.socket && opened) return; // a replaced or abandoned socket
        if (generation !== this._generation) return;
        this.socket = null;
        this._stopConnectionTimers();
        this._requeueAcks();
        if (!opened) this._emit("refused", info);
        this._emit("close", info);
        if (opened && this.options.finalCloseCodes.indexOf(event.code) >= 0) {
          info.final = true;
          this._end(info);
          return;
        }
        this._failed(generation, opened ? "closed" : "refused", info);
      };
    }

    _opened(renewal) {
      this._clearTimer("retry");
      this._setState("open");
      this._scheduleRenew(this.options.maxAgeMs);
      this._scheduleHeartbeat();
      this._clearTimer("stable");
      this._timers.stable = this.env.setTimeout(() => {
        this._timers.stable = null;
        this.attempt = 0; // only a connection that lasted resets the backoff
      }, this.options.stableMs);
      this._emit("open", { renewal: renewal });
      if (this._switch) {
        const pending = this._switch;
        this._switch = null;
        pending.resolve(this.options.channel);
      }
      this._resume();
      this._flush();
    }

    _failed(generation, why, info) {
      if (generation !== this._generation || this.state === "closed") return;
      this._rejectSwitch(Object.assign(new Error("connection " + why), info || {}));
      this.attempt += 1;
      let delay = backoffDelay(this.attempt, this.options, this.env.random);
      const retryAfter = (info && info.retryAfterMs) || 0;
      if (retryAfter > 0) {
        // The server said when: that, not the backoff (which may have grown far past it),
        // jittered upwards so tabs told the same Retry-After do not come back together.
        delay = Math.round(retryAfter * (1 + this.env.random() / 2));
      }
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

    // -- receiving ------------------------------------------------------------------

    _receive(raw) {
      let data;
      try {
        data = JSON.parse(raw);
      } catch (err) {
        this._emit("message", raw);
        return;
      }
      if (data && typeof data === "object" && data.type === "apigw_ws.replay") {
        for (const message of Array.isArray(data.messages) ? data.messages : []) this._accept(message);
        return;
      }
      if (data && typeof data === "object" && data.type === "apigw_ws.resumed") {
        this._resumed(data);
        return;
      }
      this._accept(data);
    }

    /** Deliver `data` now, hold it until a sequence gap is filled, or drop a duplicate. */
    _accept(data) {
      if (!data || typeof data !== "object") {
        this._deliver(data);
        return;
      }
      const key = this.options.dedupeKey;
      if (key && data[key] !== undefined && data[key] !== null && this._seen.has(idKey(data, key))) {
        this._ack(data);
        return; // seen already: a replay of a live message, or the other way round
      }
      if (!this.options.recovery || typeof data.seq !== "number" || typeof data.channel !== "string") {
        this._deliver(data);
        return;
      }
      const channel = this._channel(data.channel);
      if (channel.last === null || data.seq <= channel.last + 1) {
        this._deliver(data);
        this._drain(channel);
        return;
      }
      channel.held.set(data.seq, data);
      if (!this._resuming && channel.timer === null) {
        // Another sender's message may overtake: wait for the missing one, then ask.
        channel.timer = this.env.setTimeout(() => {
          channel.timer = null;
          if (channel.held.size) this._resume();
        }, this.options.reorderMs);
      }
    }

    _deliver(data) {
      if (data && typeof data === "object") {
        const key = this.options.dedupeKey;
        if (key && data[key] !== undefined && data[key] !== null) this._seen.add(idKey(data, key));
        if (typeof data.seq === "number" && typeof data.channel === "string") {
          const channel = this._channel(data.channel);
          if (channel.last === null || data.seq > channel.last) channel.last = data.seq;
        }
        this._ack(data);
      }
      this._emit("message", data);
      if (data && typeof data === "object" && typeof data.type === "string" && data.type) {
        this._emit(data.type, data);
      }
    }

    /** Deliver the held messages that now follow in sequence; with `all`, every one. */
    _drain(channel, all) {
      const order = Array.from(channel.held.keys()).sort((a, b) => a - b);
      for (const seq of order) {
        if (!all && channel.last !== null && seq > channel.last + 1) break;
        const data = channel.held.get(seq);
        channel.held.delete(seq);
        this._deliver(data);
      }
      if (!channel.held.size && channel.timer !== null) {
        this.env.clearTimeout(channel.timer);
        channel.timer = null;
      }
    }

    _channel(name) {
      let channel = this._channels.get(name);
      if (!channel) {
        channel = { last: null, held: new Map(), timer: null };
        this._channels.set(name, channel);
      }
      return channel;
    }

    /** Tell the server the last sequence seen per channel; it replays what came after. */
    _resume() {
      const recovery = this.options.recovery;
      if (!recovery || !recovery.handler || this.state !== "open") return;
      const last = {};
      for (const [name, channel] of this._channels) last[name] = channel.last;
      if (this.options.channel && !(this.options.channel in last)) last[this.options.channel] = null;
      const body = { last: last };
      body[this.options.handlerKey] = recovery.handler;
      const action = recovery.action || this.options.action;
      if (action) body.action = action;
      if (!this._write(JSON.stringify(body))) return;
      this._resuming = true;
      this._clearTimer("resume");
      this._timers.resume = this.env.setTimeout(() => {
        this._timers.resume = null;
        this._resumed(null); // no answer: deliver what is held rather than sit on it
      }, this.options.resumeTimeoutMs);
    }

    /** The server's answer to a resume: past any gap it reports, deliver what is held. */
    _resumed(answer) {
      this._resuming = false;
      this._clearTimer("resume");
      if (answer && typeof answer.channel === "string") {
        const channel = this._channel(answer.channel);
        if (answer.reset) {
          // The server's numbering restarted: what this client counted means nothing now.
          channel.last = null;
          this._emit("gap", Object.assign({ channel: answer.channel, reset: true }, answer.gap || {}));
        } else if (answer.gap) {
          this._emit("gap", Object.assign({ channel: answer.channel }, answer.gap));
          channel.last = Math.max(channel.last === null ? 0 : channel.last, answer.gap.to);
        }
        if (typeof answer.seq === "number" && (channel.last === null || answer.seq > channel.last)) {
          // Everything up to seq that the backlog still had came before this answer.
          channel.last = answer.seq;
        }
        this._emit("resumed", answer);
      }
      for (const channel of this._channels.values()) this._drain(channel, true);
    }

    // -- acknowledgements -----------------------------------------------------------

    _ack(data) {
      const key = this.options.ackKey;
      if (!key || data[key] === undefined || !this._acks.has(data[key])) return;
      this._settleAck(data[key], data, null);
    }

    _ackWritten(ackId, entry) {
      entry.written = true;
      this.env.clearTimeout(entry.timer);
      entry.timer = this.env.setTimeout(() => {
        this._settleAck(ackId, null, new AckFailed(ackId, "timeout"));
      }, this.options.ackTimeoutMs);
    }

    _settleAck(ackId, message, error) {
      const entry = this._acks.get(ackId);
      if (!entry) return;
      this._acks.delete(ackId);
      if (entry.timer !== null) this.env.clearTimeout(entry.timer);
      const index = this.queue.indexOf(entry.text);
      if (error && index >= 0) this.queue.splice(index, 1);
      if (error) entry.reject(error);
      else entry.resolve(message);
    }

    /** Put the sent, unacknowledged messages first in the queue for the next connection. */
    _requeueAcks() {
      const again = [];
      for (const entry of this._acks.values()) {
        if (!entry.written) continue;
        entry.written = false;
        this.env.clearTimeout(entry.timer);
        entry.timer = null;
        again.push(entry.text);
      }
      this.queue = again.concat(this.queue);
    }

    _failAcks(reason) {
      for (const ackId of Array.from(this._acks.keys())) {
        this._settleAck(ackId, null, new AckFailed(ackId, reason));
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
        const text = this.queue[0];
        if (!this._write(text)) return;
        this.queue.shift();
        for (const [ackId, entry] of this._acks) {
          if (entry.text === text && !entry.written) {
            this._ackWritten(ackId, entry);
            break;
          }
        }
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
        token = await this._takeToken();
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
      this._watch(socket, generation, true, token);
    }

    _stopConnectionTimers() {
      this._clearTimer("heartbeat");
      this._clearTimer("renew");
      this._clearTimer("stable");
      this._clearTimer("resume");
      this._resuming = false;
    }

    _clearTimer(name) {
      if (this._timers[name] !== null) {
        this.env.clearTimeout(this._timers[name]);
        this._timers[name] = null;
      }
    }

    _clearTimers() {
      for (const name of Object.keys(this._timers)) this._clearTimer(name);
      for (const channel of this._channels.values()) {
        if (channel.timer !== null) this.env.clearTimeout(channel.timer);
        channel.timer = null;
      }
    }
  }

  /** Return the key a message's id is remembered under: ids are unique per channel. */
  function idKey(data, key) {
    return (typeof data.channel === "string" ? data.channel : "") + "\u0000" + String(data[key]);
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
    AckFailed: AckFailed,
    Client: Client,
    DEFAULTS: DEFAULTS,
    MessageTooLarge: MessageTooLarge,
    QueueFull: QueueFull,
    TokenError: TokenError,
    backoffDelay: backoffDelay,
    fromElement: fromElement,
    readCookie: readCookie,
    retryAfterMs: retryAfterMs,
    socketProtocols: socketProtocols,
    socketUrl: socketUrl,
  };
});
