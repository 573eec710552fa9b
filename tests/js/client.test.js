// Unit tests of apigw_ws.js, run by Node's built-in runner: node --test tests/js/
// The browser globals (WebSocket, fetch, timers, Math.random, Date.now, cookies) are
// replaced by the fakes of fakes.js through the client's `env` argument; nothing else is
// mocked.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const { ApigwWs, settle, makeEnv, openClient } = require("./fakes.js");

// -- connecting ---------------------------------------------------------------------

test("connect fetches a token with the CSRF cookie and offers it as a subprotocol", async () => {
  const { t } = await openClient();
  assert.equal(t.fetches.length, 1);
  const { url, init } = t.fetches[0];
  assert.equal(url, "/ws/token");
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "same-origin");
  assert.equal(init.headers["X-CSRFToken"], "csrf123");
  assert.equal(t.last().url, "ws://gw.test/local?channel=lobby");
  assert.deepEqual(t.last().protocols, ["apigw_ws", "apigw_ws.token.tok1"]);
});

test("tokenIn query puts the token in ?ws_token= and offers no subprotocol", async () => {
  const { t } = await openClient({ tokenIn: "query", channel: "a b&c" });
  assert.equal(t.last().url, "ws://gw.test/local?channel=a%20b%26c&ws_token=tok1");
  assert.equal(t.last().protocols, undefined);
});

test("an explicit csrfToken wins over the cookie", async () => {
  const { t } = await openClient({ csrfToken: "fromtag" });
  assert.equal(t.fetches[0].init.headers["X-CSRFToken"], "fromtag");
});

test("without a tokenUrl nothing is fetched and the url has no token", async () => {
  const { t } = await openClient({}, { tokens: false });
  assert.equal(t.fetches.length, 0);
  assert.equal(t.last().url, "ws://gw.test/local?channel=lobby");
  assert.equal(t.last().protocols, undefined);
});

test("state events go connecting -> open", async () => {
  const t = makeEnv();
  const seen = [];
  const client = new ApigwWs.Client({ ...t.options, autoConnect: false }, t.env);
  client.on("state", (s) => seen.push(s.state));
  client.connect();
  await settle();
  t.last().accept();
  assert.deepEqual(seen, ["connecting", "open"]);
  assert.equal(client.state, "open");
});

// -- reconnecting -------------------------------------------------------------------

test("a dropped connection is re-opened with a fresh token after a jittered backoff", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  t.last().drop();
  assert.equal(client.state, "waiting");
  // attempt 1: cap 500 ms, random 0.5 -> 250 + 125
  assert.deepEqual(t.clock.pending(), [375]);
  await t.clock.advance(374);
  assert.equal(t.sockets.length, 1, "reconnected before the delay");
  await t.clock.advance(1);
  assert.equal(t.sockets.length, 2);
  assert.deepEqual(t.last().protocols, ["apigw_ws", "apigw_ws.token.tok2"]);
  assert.equal(t.fetches.length, 2, "a reconnect must not reuse the spent token");
});

test("backoff doubles per failed attempt up to maxDelayMs and resets once a connection lasted", async () => {
  const { t, client } = await openClient({ minDelayMs: 100, maxDelayMs: 1000 });
  const delays = [];
  client.on("state", (s) => {
    if (s.state === "waiting") delays.push(s.delay);
  });
  for (let i = 0; i < 6; i++) {
    t.last().drop(); // refused before open
    await t.clock.advance(t.clock.pending()[0]);
  }
  // caps 100, 200, 400, 800, 1000, 1000; each jittered to 75%
  assert.deepEqual(delays, [75, 150, 300, 600, 750, 750]);
  t.last().accept();
  assert.equal(client.attempt, 6, "open alone does not reset: the server may close at once");
  await t.clock.advance(ApigwWs.DEFAULTS.stableMs);
  assert.equal(client.attempt, 0);
  t.last().drop();
  assert.equal(delays[delays.length - 1], 75);
});

test("backoffDelay stays within [cap/2, cap] for any random value", () => {
  const options = { minDelayMs: 500, maxDelayMs: 30000 };
  for (const attempt of [1, 2, 5, 10, 100, 1e6]) {
    const cap = Math.min(30000, 500 * 2 ** Math.min(attempt - 1, 30));
    for (const r of [0, 0.25, 0.999999]) {
      const d = ApigwWs.backoffDelay(attempt, options, () => r);
      assert.ok(d >= cap / 2 && d <= cap, `attempt ${attempt} r ${r}: ${d}`);
    }
  }
});

test("a refused handshake emits refused and is retried", async () => {
  const { t, client } = await openClient();
  const refused = [];
  client.on("refused", (info) => refused.push(info));
  t.last().drop(1006);
  assert.equal(refused.length, 1);
  assert.equal(refused[0].opened, false);
  await t.clock.advance(t.clock.pending()[0]);
  assert.equal(t.sockets.length, 2);
});

test("a failed token fetch is an error event and a failed attempt, retried with backoff", async () => {
  const t = makeEnv();
  t.failTokens(403);
  const client = new ApigwWs.Client(t.options, t.env);
  const errors = [];
  client.on("error", (e) => errors.push(e));
  await settle();
  assert.equal(t.sockets.length, 0);
  assert.deepEqual(errors, [{ kind: "token", status: 403, message: "token endpoint answered 403" }]);
  assert.equal(client.state, "waiting");
  t.failTokens(200);
  await t.clock.advance(t.clock.pending()[0]);
  assert.equal(t.sockets.length, 1);
});

test("close() stops reconnecting and drops the queue", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  client.close();
  assert.equal(client.state, "closed");
  assert.equal(t.last().closedWith.code, 1000);
  assert.deepEqual(t.clock.pending(), []);
  assert.throws(() => client.send("x", {}), /closed/);
});

// -- sending and the queue ----------------------------------------------------------

test("send builds the body from handler, payload and action", async () => {
  const { t, client } = await openClient({ action: "chat" });
  t.last().accept();
  assert.equal(client.send("post", { text: "hi", handler: "ignored" }), true);
  assert.equal(client.send("post", { text: "yo" }, { action: "other" }), true);
  assert.deepEqual(JSON.parse(t.last().sent[0]), { text: "hi", handler: "post", action: "chat" });
  assert.equal(JSON.parse(t.last().sent[1]).action, "other");
});

test("sends while reconnecting are queued and flushed in order on the next open", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  t.last().drop();
  assert.equal(client.send("a", { n: 1 }), false);
  assert.equal(client.send("b", { n: 2 }), false);
  await t.clock.advance(t.clock.pending()[0]);
  assert.deepEqual(t.last().sent, []);
  t.last().accept();
  assert.deepEqual(
    t.last().sent.map((s) => JSON.parse(s).handler),
    ["a", "b"],
  );
  assert.deepEqual(client.queue, []);
});

test("the queue is bounded", async () => {
  const { client } = await openClient({ queueLimit: 2 });
  client.send("a");
  client.send("b");
  assert.throws(() => client.send("c"), ApigwWs.QueueFull);
});

test("an oversized message is refused before sending or queueing", async () => {
  const { t, client } = await openClient({ maxMessageBytes: 64 });
  t.last().accept();
  // 3-byte UTF-8 characters: the limit counts bytes, not characters
  assert.throws(() => client.send("post", { text: "€".repeat(20) }), (err) => {
    assert.ok(err instanceof ApigwWs.MessageTooLarge);
    assert.ok(err.bytes > 64);
    return true;
  });
  assert.deepEqual(t.last().sent, []);
  assert.equal(client.queue.length, 0);
  client.send("post", { text: "€" });
  assert.equal(t.last().sent.length, 1);
});

test("the default size limit is API Gateway's 32 KB frame", () => {
  assert.equal(ApigwWs.DEFAULTS.maxMessageBytes, 32768);
});

test("send refuses a non-object payload and an empty handler", async () => {
  const { client } = await openClient();
  assert.throws(() => client.send("x", [1]), TypeError);
  assert.throws(() => client.send("x", "text"), TypeError);
  assert.throws(() => client.send("", {}), TypeError);
});

// -- receiving ----------------------------------------------------------------------

test("messages are dispatched to 'message' and to their type", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  const all = [];
  const typed = [];
  client.on("message", (m) => all.push(m));
  const off = client.on("chat_message", (m) => typed.push(m.text));
  t.last().deliver({ type: "chat_message", text: "hi" });
  t.last().deliver("not json");
  off();
  t.last().deliver({ type: "chat_message", text: "after off" });
  assert.deepEqual(typed, ["hi"]);
  assert.equal(all.length, 3);
  assert.equal(all[1], "not json");
});

test("a throwing listener does not stop the others", async () => {
  const { t, client } = await openClient();
  const seen = [];
  const original = global.setTimeout;
  global.setTimeout = () => 0; // swallow the rethrow scheduled for the console
  try {
    client.on("open", () => {
      throw new Error("listener bug");
    });
    client.on("open", () => seen.push("second"));
    t.last().accept();
  } finally {
    global.setTimeout = original;
  }
  assert.deepEqual(seen, ["second"]);
  assert.equal(client.state, "open");
});

// -- heartbeat and renewal ----------------------------------------------------------

test("a heartbeat is sent after heartbeatMs of client silence, and sends postpone it", async () => {
  const { t, client } = await openClient({ heartbeatMs: 1000 });
  t.last().accept();
  await t.clock.advance(900);
  client.send("post", { text: "x" });
  await t.clock.advance(900);
  assert.equal(t.last().sent.length, 1, "the heartbeat came although the client just sent");
  await t.clock.advance(100);
  assert.deepEqual(JSON.parse(t.last().sent[1]), { handler: "ping" });
});

test("the default heartbeat fits inside API Gateway's 10-minute idle limit", () => {
  assert.ok(ApigwWs.DEFAULTS.heartbeatMs < 10 * 60 * 1000);
  assert.ok(ApigwWs.DEFAULTS.maxAgeMs < 2 * 60 * 60 * 1000);
});

test("before maxAgeMs a new connection with a fresh token replaces the old one", async () => {
  const { t, client } = await openClient({ maxAgeMs: 10000 });
  const old = t.last();
  old.accept();
  await t.clock.advance(10000);
  assert.equal(t.sockets.length, 2);
  const renewed = t.last();
  assert.deepEqual(renewed.protocols, ["apigw_ws", "apigw_ws.token.tok2"]);
  assert.equal(old.closedWith, null, "the old socket must serve until the new one is open");
  const states = [];
  client.on("state", (s) => states.push(s.state));
  renewed.accept();
  assert.equal(old.closedWith.reason, "renewed");
  assert.deepEqual(states, [], "a renewal is seamless: no state change");
  client.send("post", {});
  assert.equal(renewed.sent.length, 1);
  assert.equal(old.sent.length, 0);
});

test("a refused renewal keeps the old connection and tries again later", async () => {
  const { t, client } = await openClient({ maxAgeMs: 10000 });
  const old = t.last();
  old.accept();
  await t.clock.advance(10000);
  t.last().drop();
  assert.equal(client.state, "open");
  assert.equal(client.socket, old);
  await t.clock.advance(500);
  assert.equal(t.sockets.length, 3);
});

// -- switching channels -------------------------------------------------------------

test("switchChannel reconnects with the new channel and a fresh token", async () => {
  const { t, client } = await openClient();
  const first = t.last();
  first.accept();
  const switched = client.switchChannel("room-2");
  await settle();
  assert.equal(first.closedWith.reason, "switching channel");
  assert.equal(t.last().url, "ws://gw.test/local?channel=room-2");
  assert.deepEqual(t.last().protocols, ["apigw_ws", "apigw_ws.token.tok2"]);
  t.last().accept();
  assert.equal(await switched, "room-2");
  // the old socket's late events are ignored
  const seen = [];
  client.on("message", (m) => seen.push(m));
  first.onmessage({ data: "{}" });
  assert.deepEqual(seen, []);
});

test("a refused switchChannel rejects, and the client keeps retrying", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  const switched = client.switchChannel("secret");
  await settle();
  t.last().drop();
  await assert.rejects(switched, /refused/);
  assert.equal(client.state, "waiting");
});

test("readCookie finds a cookie among others and decodes it", () => {
  assert.equal(ApigwWs.readCookie("a=1; csrftoken=x%3Dy; b=2", "csrftoken"), "x=y");
  assert.equal(ApigwWs.readCookie("xcsrftoken=1", "csrftoken"), "");
  assert.equal(ApigwWs.readCookie("", "csrftoken"), "");
});
