// Fakes of the browser globals apigw_ws.js uses (WebSocket, fetch, timers, Math.random,
// Date.now, cookies), handed to the client through its `env` argument.
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");

const ApigwWs = require(path.join(
  __dirname,
  "../../apigw_ws/contrib/django/static/apigw_ws/apigw_ws.js",
));

/** Timers that run only when the test advances the clock. */
class FakeClock {
  constructor() {
    this.now = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.now + ms, fn, ms });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  pending() {
    return Array.from(this.timers.values()).map((t) => t.at - this.now);
  }

  async advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = Array.from(this.timers.entries())
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.now = timer.at;
      timer.fn();
      await settle();
    }
    this.now = until;
  }
}

/** Let pending promise callbacks (token fetches) run. */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function makeEnv({ tokens = true, cookies = "csrftoken=csrf123" } = {}) {
  const sockets = [];
  const fetches = [];
  let issued = 0;
  let tokenStatus = 200;
  let retryAfter = null;
  let hang = false;

  class FakeSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(text) {
      assert.equal(this.readyState, 1, "send on a socket that is not open");
      this.sent.push(text);
    }
    close(code, reason) {
      this.closedWith = { code, reason };
      if (this.readyState === 3) return;
      this.readyState = 3;
      if (this.onclose) this.onclose({ code: code || 1005, reason: reason || "" });
    }
    // test helpers: what the server side does
    accept() {
      this.readyState = 1;
      this.onopen({});
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose({ code, reason: "" });
    }
    deliver(data) {
      this.onmessage({ data: typeof data === "string" ? data : JSON.stringify(data) });
    }
  }

  const clock = new FakeClock();
  const env = {
    WebSocket: FakeSocket,
    fetch: async (url, init) => {
      fetches.push({ url, init });
      if (hang) {
        // Never answers, until aborted through the signal (as a browser's fetch does).
        return new Promise((resolve, reject) => {
          if (init.signal) init.signal.addEventListener("abort", () => reject(new Error("aborted")));
        });
      }
      const headers = { get: (name) => (name === "Retry-After" ? retryAfter : null) };
      if (tokenStatus !== 200) return { ok: false, status: tokenStatus, headers, json: async () => ({}) };
      issued += 1;
      return { ok: true, status: 200, headers, json: async () => ({ token: `tok${issued}`, expires_in: 60 }) };
    },
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    now: () => clock.now,
    cookies: () => cookies,
  };
  return {
    env,
    clock,
    sockets,
    fetches,
    last: () => sockets[sockets.length - 1],
    failTokens(status, retryAfterHeader = null) {
      tokenStatus = status;
      retryAfter = retryAfterHeader;
    },
    hangTokens(on = true) {
      hang = on;
    },
    options: tokens ? { url: "ws://gw.test/local", tokenUrl: "/ws/token" } : { url: "ws://gw.test/local" },
  };
}

async function openClient(extra = {}, envOptions = {}) {
  const t = makeEnv(envOptions);
  const client = new ApigwWs.Client({ ...t.options, channel: "lobby", ...extra }, t.env);
  await settle();
  return { t, client };
}

module.exports = { ApigwWs, FakeClock, settle, makeEnv, openClient };
