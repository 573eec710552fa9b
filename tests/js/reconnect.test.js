// apigw_ws.js under the failures a real deployment sees: tokens that were never spent,
// 429s with Retry-After, a token endpoint or gateway that hangs, a server that accepts
// and closes at once, a server close meant to be final. Run: node --test tests/js/
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const { ApigwWs, settle, makeEnv, openClient } = require("./fakes.js");

function waits(client) {
  const delays = [];
  client.on("state", (s) => {
    if (s.state === "waiting") delays.push(s.delay);
  });
  return delays;
}

async function nextAttempt(t) {
  await t.clock.advance(Math.min(...t.clock.pending()));
}

// -- tokens -------------------------------------------------------------------------

test("a token whose attempt was refused is used again, not replaced by a fresh one", async () => {
  const { t } = await openClient();
  t.last().drop(1006); // the gateway is down: the server never saw the token
  await nextAttempt(t);
  assert.equal(t.fetches.length, 1, "the unspent token must be reused");
  assert.deepEqual(t.last().protocols, ["apigw_ws", "apigw_ws.token.tok1"]);
});

test("after tokenReuse refusals with one token the next attempt fetches a fresh one", async () => {
  const { t } = await openClient({ tokenReuse: 3, maxDelayMs: 1000 });
  for (let i = 0; i < 3; i++) {
    t.last().drop(1006);
    await nextAttempt(t);
  }
  assert.equal(t.fetches.length, 2);
  assert.deepEqual(t.last().protocols, ["apigw_ws", "apigw_ws.token.tok2"]);
});

test("a kept token close to its expiry is replaced", async () => {
  const { t } = await openClient({ maxDelayMs: 60000, minDelayMs: 60000 });
  t.last().drop(1006);
  await nextAttempt(t); // 45 s in (backoff 60 s jittered to 75%)
  assert.equal(t.fetches.length, 1, "45 s into a 60 s token, 10 s margin: still usable");
  t.last().drop(1006);
  await nextAttempt(t); // now 90 s in
  assert.equal(t.fetches.length, 2);
});

test("a token is spent once its connection opened: the next connect fetches a fresh one", async () => {
  const { t } = await openClient();
  t.last().accept();
  t.last().drop(1006);
  await nextAttempt(t);
  assert.equal(t.fetches.length, 2);
});

test("a 429 from the token endpoint waits its Retry-After, jittered upwards", async () => {
  const t = makeEnv();
  t.failTokens(429, "7");
  const client = new ApigwWs.Client(t.options, t.env);
  const delays = waits(client);
  await settle();
  assert.equal(client.state, "waiting");
  // random() is 0.5: 7 s * 1.25; the plain backoff would have been 375 ms
  assert.deepEqual(delays, [8750]);
  t.failTokens(200);
  await t.clock.advance(8749);
  assert.equal(t.fetches.length, 1, "asked again before Retry-After");
  await t.clock.advance(1);
  assert.equal(t.fetches.length, 2);
});

test("Retry-After replaces a backoff that has grown past it", async () => {
  const { t, client } = await openClient({ minDelayMs: 20000, maxDelayMs: 60000, tokenReuse: 1 });
  const delays = waits(client);
  t.last().drop(1006); // attempt 1 refused; with tokenReuse 1 its token is not used again
  await nextAttempt(t); // a fresh token, a second socket
  t.last().drop(1006); // attempt 2: the backoff is at 30 s
  t.failTokens(429, "2");
  await nextAttempt(t); // the token endpoint says: come back in 2 s
  assert.deepEqual(delays, [15000, 30000, 2500]);
});

test("retryAfterMs reads seconds and HTTP dates", () => {
  assert.equal(ApigwWs.retryAfterMs("3", 0), 3000);
  assert.equal(ApigwWs.retryAfterMs("", 0), 0);
  assert.equal(ApigwWs.retryAfterMs(null, 0), 0);
  const now = Date.parse("Tue, 01 Dec 2026 10:00:00 GMT");
  assert.equal(ApigwWs.retryAfterMs("Tue, 01 Dec 2026 10:00:05 GMT", now), 5000);
  assert.equal(ApigwWs.retryAfterMs("garbage", now), 0);
});

test("a token fetch that hangs fails after tokenTimeoutMs and is retried", async () => {
  const t = makeEnv();
  t.hangTokens();
  const client = new ApigwWs.Client({ ...t.options, tokenTimeoutMs: 5000 }, t.env);
  const errors = [];
  client.on("error", (e) => errors.push(e));
  await settle();
  assert.equal(client.state, "connecting");
  await t.clock.advance(5000);
  assert.equal(client.state, "waiting");
  assert.equal(errors.length, 1);
  assert.equal(errors[0].status, 0);
  assert.match(errors[0].message, /no answer within 5000 ms/);
  assert.ok(t.fetches[0].init.signal.aborted, "the hanging request is aborted");
  t.hangTokens(false);
  await nextAttempt(t);
  assert.equal(t.sockets.length, 1);
});

// -- connect attempts ---------------------------------------------------------------

test("a socket that does not open within connectTimeoutMs is closed and retried", async () => {
  const { t, client } = await openClient({ connectTimeoutMs: 4000 });
  const refused = [];
  client.on("refused", (info) => refused.push(info));
  await t.clock.advance(3999);
  assert.equal(client.state, "connecting");
  await t.clock.advance(1);
  assert.equal(client.state, "waiting");
  assert.notEqual(t.sockets[0].closedWith, null);
  assert.equal(refused.length, 1);
  assert.equal(refused[0].timeout, true);
  await nextAttempt(t);
  assert.equal(t.sockets.length, 2);
});

test("the connect timer stops once the socket opened", async () => {
  const { t, client } = await openClient({ connectTimeoutMs: 4000, stableMs: 1000, heartbeat: null, maxAgeMs: 0 });
  t.last().accept();
  await t.clock.advance(60000);
  assert.equal(client.state, "open");
  assert.equal(t.last().closedWith, null);
});

test("a server that accepts and closes at once gets a growing backoff", async () => {
  const { t, client } = await openClient({ minDelayMs: 100, maxDelayMs: 10000 });
  const delays = waits(client);
  for (let i = 0; i < 4; i++) {
    t.last().accept();
    t.last().drop(1011);
    await nextAttempt(t);
  }
  assert.deepEqual(delays, [75, 150, 300, 600]);
});

test("retryNow skips the rest of the wait", async () => {
  const { t, client } = await openClient({ minDelayMs: 20000 });
  t.last().drop(1006);
  assert.equal(client.state, "waiting");
  assert.equal(client.retryNow(), true);
  await settle();
  assert.equal(t.sockets.length, 2);
  assert.equal(client.retryNow(), false, "nothing to skip while connecting");
});

// -- server closes ------------------------------------------------------------------

test("by default a server close 1000 is reconnected like any loss", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  t.last().drop(1000);
  assert.equal(client.state, "waiting");
});

test("finalCloseCodes make a server close final: closed, no timer, closeInfo says why", async () => {
  const { t, client } = await openClient({ finalCloseCodes: [1000] });
  const states = [];
  client.on("state", (s) => states.push(s));
  t.last().accept();
  t.last().drop(1000);
  assert.equal(client.state, "closed");
  assert.deepEqual(t.clock.pending(), []);
  assert.deepEqual(client.closeInfo, { code: 1000, reason: "", opened: true, final: true });
  assert.equal(states[states.length - 1].final, true);
  // A refused handshake (never opened) is not a server's decision to end: retried.
  const other = await openClient({ finalCloseCodes: [1000] });
  other.t.last().drop(1000);
  assert.equal(other.client.state, "waiting");
  // connect() starts again after a final close.
  client.connect();
  await settle();
  assert.equal(t.sockets.length, 2);
});

// -- duplicates ---------------------------------------------------------------------

test("a message id seen before is dropped; the same id in another channel is not", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  const seen = [];
  client.on("chat_message", (m) => seen.push(`${m.channel}/${m.id}`));
  t.last().deliver({ type: "chat_message", id: 7, channel: "lobby" });
  t.last().deliver({ type: "chat_message", id: 7, channel: "lobby" });
  t.last().deliver({ type: "chat_message", id: 7, channel: "random" });
  t.last().deliver({ type: "chat_message", text: "no id" });
  assert.deepEqual(seen, ["lobby/7", "random/7", "undefined/undefined"]);
});

test("a background fan-out's copy (same id, no channel) is dropped", async () => {
  // A fan-out worker that died mid-slice sends the slice again: the same text, one "id".
  const { t, client } = await openClient();
  t.last().accept();
  const seen = [];
  client.on("news", (m) => seen.push(m.n));
  const id = "5f0c9a2e5f0c9a2e5f0c9a2e5f0c9a2e";
  t.last().deliver({ type: "news", n: 1, id });
  t.last().deliver({ type: "news", n: 1, id });
  t.last().deliver({ type: "news", n: 2, id: "order-7" });
  assert.deepEqual(seen, [1, 2]);
});

test('dedupeKey "" delivers every message', async () => {
  const { t, client } = await openClient({ dedupeKey: "" });
  t.last().accept();
  const seen = [];
  client.on("message", (m) => seen.push(m.id));
  t.last().deliver({ id: 1 });
  t.last().deliver({ id: 1 });
  assert.deepEqual(seen, [1, 1]);
});

// -- acknowledgements ---------------------------------------------------------------

test("sendWithAck resolves with the message that carries its ack id", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  const { ackId, acked } = client.sendWithAck("post", { text: "hi" });
  const body = JSON.parse(t.last().sent[0]);
  assert.equal(body.ack_id, ackId);
  assert.equal(body.text, "hi");
  t.last().deliver({ type: "chat_message", id: 3, ack_id: ackId });
  assert.deepEqual(await acked, { type: "chat_message", id: 3, ack_id: ackId });
});

test("sendWithAck fails after ackTimeoutMs, counted from sending, not from queueing", async () => {
  const { t, client } = await openClient({ ackTimeoutMs: 3000 });
  const { acked } = client.sendWithAck("post", { text: "queued" });
  let failure = null;
  acked.catch((err) => (failure = err));
  await t.clock.advance(5000); // still connecting: pending, not failed
  await settle();
  assert.equal(failure, null);
  t.last().accept();
  await t.clock.advance(3000);
  await settle();
  assert.ok(failure instanceof ApigwWs.AckFailed);
  assert.equal(failure.reason, "timeout");
});

test("an unacknowledged message is sent again on the next connection, with the same id", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  client.send("before", {});
  const { ackId, acked } = client.sendWithAck("post", { text: "hi" });
  t.last().drop(1006);
  await nextAttempt(t);
  t.last().accept();
  const again = t.last().sent.map((s) => JSON.parse(s));
  assert.deepEqual(
    again.map((b) => [b.handler, b.ack_id]),
    [["post", ackId]],
    "only the unacknowledged message is repeated",
  );
  t.last().deliver({ ack_id: ackId });
  await acked;
});

test("close() fails the pending acknowledgements", async () => {
  const { client } = await openClient();
  const { acked } = client.sendWithAck("post", { text: "x" });
  client.close();
  await assert.rejects(acked, (err) => err.reason === "closed");
});

test("sending again under the same ackId supersedes the first attempt", async () => {
  const { t, client } = await openClient();
  t.last().accept();
  const first = client.sendWithAck("post", { text: "x" });
  const again = client.sendWithAck("post", { text: "x" }, { ackId: first.ackId });
  await assert.rejects(first.acked, (err) => err.reason === "superseded");
  t.last().deliver({ ack_id: first.ackId });
  assert.deepEqual(await again.acked, { ack_id: first.ackId });
  assert.equal(t.last().sent.length, 2);
});
