// Message recovery in apigw_ws.js: the resume message sent on every open, replayed
// messages delivered in sequence before live ones, nothing twice, gaps reported.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const { settle, openClient } = require("./fakes.js");

const RECOVERY = { recovery: { handler: "resume" } };

function msg(seq, extra = {}) {
  return { type: "chat_message", channel: "lobby", id: `m${seq}`, seq, ...extra };
}

function collect(client) {
  const seen = [];
  client.on("chat_message", (m) => seen.push(m.seq));
  return seen;
}

function sentBodies(socket) {
  return socket.sent.map((s) => JSON.parse(s));
}

async function reconnect(t) {
  t.last().drop(1006);
  await t.clock.advance(Math.min(...t.clock.pending()));
  t.last().accept();
}

test("every open sends a resume with the last sequence seen per channel", async () => {
  const { t, client } = await openClient(RECOVERY);
  t.last().accept();
  assert.deepEqual(sentBodies(t.last())[0], { handler: "resume", last: { lobby: null } });
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 4 });
  t.last().deliver(msg(5));
  client.send("post", { text: "queued after the resume" });
  await reconnect(t);
  const bodies = sentBodies(t.last());
  assert.deepEqual(bodies[0], { handler: "resume", last: { lobby: 5 } });
});

test("without recovery no resume is sent", async () => {
  const { t } = await openClient();
  t.last().accept();
  assert.deepEqual(t.last().sent, []);
});

test("missed messages are delivered in order before live ones, none twice", async () => {
  const { t, client } = await openClient(RECOVERY);
  const seen = collect(client);
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 2 });
  t.last().deliver(msg(3));
  await reconnect(t); // 4..6 were sent while this client was away
  t.last().deliver(msg(7)); // live, before the replay: held
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(4), msg(5), msg(6), msg(7)] });
  t.last().deliver(msg(6)); // a late live copy
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 7, replayed: 4, gap: null });
  t.last().deliver(msg(8));
  assert.deepEqual(seen, [3, 4, 5, 6, 7, 8]);
});

test("live messages that overtake the replay wait for the resume answer", async () => {
  const { t, client } = await openClient(RECOVERY);
  const seen = collect(client);
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 10 });
  await reconnect(t);
  t.last().deliver(msg(14));
  t.last().deliver(msg(15));
  assert.deepEqual(seen, [], "11..13 have not come yet");
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(11), msg(12), msg(13)] });
  assert.deepEqual(seen, [11, 12, 13, 14, 15]);
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 13 });
  assert.deepEqual(seen, [11, 12, 13, 14, 15]);
});

test("a gap older than the backlog is reported, then what is left is delivered", async () => {
  const { t, client } = await openClient(RECOVERY);
  const seen = collect(client);
  const gaps = [];
  client.on("gap", (g) => gaps.push(g));
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 1 });
  await reconnect(t);
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(8), msg(9)] });
  assert.deepEqual(seen, []);
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 9, gap: { from: 2, to: 7 } });
  assert.deepEqual(gaps, [{ channel: "lobby", from: 2, to: 7 }]);
  assert.deepEqual(seen, [8, 9]);
});

test("a sequence hole in live messages waits reorderMs, then asks the server", async () => {
  const { t, client } = await openClient({ ...RECOVERY, reorderMs: 500 });
  const seen = collect(client);
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 0 });
  t.last().deliver(msg(1));
  t.last().deliver(msg(3)); // 2 is late
  t.last().deliver(msg(2));
  assert.deepEqual(seen, [1, 2, 3]);
  t.last().deliver(msg(5)); // 4 never comes live
  await t.clock.advance(500);
  const resume = sentBodies(t.last()).pop();
  assert.deepEqual(resume, { handler: "resume", last: { lobby: 3 } });
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(4), msg(5)] });
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 5 });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
});

test("held messages are released if the resume answer never comes", async () => {
  const { t, client } = await openClient({ ...RECOVERY, resumeTimeoutMs: 2000 });
  const seen = collect(client);
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 1 });
  await reconnect(t);
  t.last().deliver(msg(5));
  await settle();
  assert.deepEqual(seen, []);
  await t.clock.advance(2000);
  assert.deepEqual(seen, [5]);
});

test("replay frames are not emitted as messages of their own", async () => {
  const { t, client } = await openClient(RECOVERY);
  const types = [];
  client.on("message", (m) => types.push(m.type));
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(1)] });
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 1 });
  assert.deepEqual(types, ["chat_message"]);
});

test("a reset answer (the server's numbering restarted) is a gap and starts counting anew", async () => {
  const { t, client } = await openClient(RECOVERY);
  const gaps = [];
  client.on("gap", (g) => gaps.push(g));
  const seen = collect(client);
  t.last().accept();
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 50 });
  await reconnect(t);
  t.last().deliver({ type: "apigw_ws.replay", channel: "lobby", messages: [msg(1), msg(2)] });
  t.last().deliver({ type: "apigw_ws.resumed", channel: "lobby", seq: 2, reset: true, gap: null });
  t.last().deliver(msg(3));
  assert.deepEqual(gaps, [{ channel: "lobby", reset: true }]);
  assert.deepEqual(seen, [1, 2, 3]);
});
