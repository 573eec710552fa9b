"""Nothing lost across a reconnect, in real Chromium: offline sends, missed room messages,
30 tabs of one user after a gateway restart, and the chat at phone width.

One page's connection is cut with a stand-in for ``window.WebSocket`` (``FLAKY_NETWORK``)
wrapped around the real one: ``__net.cut()`` drops that page's socket as a network loss
does (the page sees code 1006, the gateway a closed socket), and while ``__net.down`` is
set new sockets go to a closed port. Everything else is the example project as
``scripts/demo`` runs it. The figures each test measures are written to
``recovery-figures.json`` in the artifacts directory (``APIGW_WS_ARTIFACTS``).
"""

import json
import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, Demo
from .test_chat import CONNECTED, log_in, messages, post, unique

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FLAKY_NETWORK = """
(() => {
  const Real = window.WebSocket;
  const net = (window.__net = { down: false, sockets: [] });
  class FlakySocket {
    constructor(url, protocols) {
      const real = new Real(net.down ? "ws://127.0.0.1:9/" : url, protocols);
      this._real = real;
      this._cut = false;
      real.onopen = (e) => this.onopen && this.onopen(e);
      real.onmessage = (e) => this.onmessage && this.onmessage(e);
      real.onerror = (e) => this.onerror && this.onerror(e);
      real.onclose = (e) => !this._cut && this.onclose && this.onclose(e);
      net.sockets.push(this);
    }
    get readyState() { return this._cut ? 3 : this._real.readyState; }
    get protocol() { return this._real.protocol; }
    send(text) { this._real.send(text); }
    close(code, reason) { this._real.close(code, reason); }
  }
  net.cut = () => {
    for (const socket of net.sockets) {
      if (socket._cut || socket._real.readyState > 1) continue;
      socket._cut = true;
      socket._real.close();
      if (socket.onclose) socket.onclose({ code: 1006, reason: "" });
    }
  };
  window.WebSocket = FlakySocket;
})();
"""

FIGURES = {}


def record(name, **figures):
    FIGURES[name] = figures
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "recovery-figures.json").write_text(json.dumps(FIGURES, indent=2))


def flaky(open_contexts):
    context = open_contexts()
    context.add_init_script(FLAKY_NETWORK)
    return context


def count_events(page):
    """Record every chat_message the client delivers, by id, in order."""
    page.evaluate(
        "() => { window.__got = [];"
        " chat.client.on('chat_message', (m) => window.__got.push(m.id)); }"
    )


def texts(page):
    return messages(page).all_text_contents()


def go_offline(page):
    page.evaluate("__net.down = true; __net.cut()")
    expect(page.locator("#status")).not_to_have_text(CONNECTED)


def go_online(page, timeout=45_000):
    started = time.monotonic()
    page.evaluate("__net.down = false; chat.client.retryNow()")
    expect(page.locator("#status")).to_have_text(CONNECTED, timeout=timeout)
    return time.monotonic() - started


def test_a_message_typed_offline_shows_exactly_once_on_both_sides(demo, open_contexts):
    alice = log_in(flaky(open_contexts), demo, "alice")
    bob = log_in(open_contexts(), demo, "bob")
    go_offline(alice)
    expect(alice.locator("#notice")).to_contain_text("You are offline")
    expect(alice.locator("#online")).to_have_class(re.compile("unknown"))

    text = unique("typed while offline")
    post(alice, text)
    pending = alice.locator(".message.pending", has_text=text)
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("waiting for the connection")
    expect(messages(bob).filter(has_text=text)).to_have_count(0)

    reconnect = go_online(alice)
    for page in (alice, bob):
        expect(messages(page).filter(has_text=text)).to_have_count(1)
    expect(alice.locator(".message.pending, .message.failed")).to_have_count(0)
    # The welcome history and the live copy arrived too; still one of each on screen.
    alice.wait_for_timeout(1000)
    for page in (alice, bob):
        assert texts(page).count(text) == 1
    record("offline_send", shown_alice=1, shown_bob=1, reconnect_seconds=round(reconnect, 2))


def test_messages_sent_while_a_connection_is_down_arrive_after_it_in_order_once(
    demo, open_contexts
):
    alice = log_in(open_contexts(), demo, "alice")
    bob = log_in(flaky(open_contexts), demo, "bob")
    count_events(bob)
    before = unique("before the outage")
    post(alice, before)
    expect(messages(bob).filter(has_text=before)).to_have_count(1)

    go_offline(bob)
    sent = [unique(f"during the outage {i}") for i in range(8)]
    ids = []
    for text in sent:
        post(alice, text)
        stored = alice.locator("#messages .message[data-id]", has_text=text)
        expect(stored).to_have_count(1)
        ids.append(stored.get_attribute("data-id"))
    reconnect = go_online(bob)
    for text in sent:
        expect(messages(bob).filter(has_text=text)).to_have_count(1)
    after = unique("after the outage")
    post(alice, after)
    expect(messages(bob).filter(has_text=after)).to_have_count(1)

    got = [str(i) for i in bob.evaluate("window.__got")]
    missed = [i for i in got if i in ids]
    assert missed == ids, "the missed messages must be delivered (replayed) once, in order"
    assert len(got) == len(set(got)), f"a message was delivered twice: {got}"
    on_screen = texts(bob)
    positions = [on_screen.index(t) for t in [before, *sent, after]]
    assert positions == sorted(positions), "shown out of order"
    record(
        "missed_messages",
        sent_during_outage=len(sent),
        received_after=len(missed),
        duplicates=len(got) - len(set(got)),
        reconnect_seconds=round(reconnect, 2),
    )


@pytest.fixture(scope="module")
def strict_demo(tmp_path_factory):
    """The example project with the package's own token limit: 20 unspent a minute."""
    server = Demo(tmp_path_factory.mktemp("chat-demo-strict"))
    server.env["EXAMPLE_TOKENS_PER_MINUTE"] = "20"
    try:
        server.start()
        yield server
    finally:
        server.stop()


TABS = 30


def test_30_tabs_of_one_user_all_reconnect_after_a_gateway_restart(strict_demo, browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    context.set_default_timeout(60_000)
    statuses = []
    context.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/ws/token") else None,
    )
    try:
        first = context.new_page()
        first.goto(f"{strict_demo.url}/accounts/login/?next=/chat/lobby/")
        first.fill("input[name=username]", "alice")
        first.fill("input[name=password]", "alice")
        first.click("button[type=submit]")
        tabs = [first]
        for _ in range(TABS - 1):
            page = context.new_page()
            page.goto(f"{strict_demo.url}/chat/lobby/", wait_until="commit")
            tabs.append(page)
        for page in tabs:
            expect(page.locator("#status")).to_have_text(CONNECTED, timeout=90_000)
        opened_429 = statuses.count(429)
        statuses.clear()

        strict_demo.kill_gateway()
        for page in tabs:
            expect(page.locator("#status")).not_to_have_text(CONNECTED)
        time.sleep(3)
        strict_demo.start_gateway()
        started = time.monotonic()
        done = []
        for page in tabs:
            expect(page.locator("#status")).to_have_text(CONNECTED, timeout=90_000)
            done.append(time.monotonic() - started)
        # No lock-out: each tab was refused at most about once, then got a token.
        assert statuses.count(429) <= TABS, f"{statuses.count(429)} refusals: a 429 storm"
        record(
            "thirty_tabs",
            tabs=TABS,
            token_limit_per_minute=20,
            tokens_429_at_first_open=opened_429,
            tokens_fetched_after_restart=len(statuses),
            tokens_429_after_restart=statuses.count(429),
            all_reconnected_seconds=round(max(done), 2),
        )
        text = unique("all tabs back")
        post(tabs[0], text)
        for page in (tabs[-1], tabs[len(tabs) // 2]):
            expect(messages(page).filter(has_text=text)).to_have_count(1)
    finally:
        context.close()


def test_at_phone_width_the_input_and_the_last_message_are_on_screen(demo, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(20_000)
    try:
        bob = log_in(context, demo, "bob")
        for i in range(12):
            post(bob, unique(f"a message from a phone {i}"))
        # Every one acknowledged: stored and back from the room, none still "sending…".
        expect(bob.locator("#messages .message.pending")).to_have_count(0)
        last = unique("the last one")
        post(bob, last)
        expect(bob.locator("#messages .message.pending")).to_have_count(0)
        expect(bob.locator("#messages .message").last).to_contain_text(last)
        bob.wait_for_timeout(300)  # the list scrolls to the new message
        for selector in ("#text", "#post-form button[type=submit]"):
            expect(bob.locator(selector)).to_be_in_viewport()
        expect(bob.locator("#messages .message").last).to_be_in_viewport()
        width = bob.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width} px wide"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "chat-phone.png"
        bob.screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000
    finally:
        context.close()


def test_the_landing_page_and_the_error_pages_are_styled_and_plain(demo, open_contexts):
    page = open_contexts().new_page()
    page.goto(f"{demo.url}/")
    expect(page.locator(".card h1")).to_have_text("apigw_ws example project")
    assert "``" not in page.locator("body").inner_text(), "raw RST markup on the page"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)", "the stylesheet is not applied"
    bob = log_in(open_contexts(), demo, "bob")
    response = bob.goto(f"{demo.url}/chat/staff/")
    assert response.status == 403
    expect(bob.locator(".card h1")).to_have_text("You may not open this page")
    expect(bob.locator("a.cta")).to_have_attribute("href", "/chat/")
