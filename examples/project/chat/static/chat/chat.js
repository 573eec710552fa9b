// The chat page. Everything a user or another user typed is shown with textContent,
// never innerHTML: a message is text, whatever it contains.
//
// Each message is shown once: the list is keyed by message id (history, live and
// replayed messages all carry the database id), and a message of one's own is shown at
// once as "sending…", keyed by its ack id, until the server's copy replaces it.
(function () {
  "use strict";

  const page = JSON.parse(document.getElementById("chat-page").textContent);
  const client = ApigwWs.fromElement("apigw-ws-config");
  const $ = (id) => document.getElementById(id);
  let room = page.room;
  let typingTimer = null;
  let lastTyping = 0;
  let countdown = null;
  const shown = new Map(); // message id (text) -> <li>
  const pending = new Map(); // ack id -> {item, text, room}

  // -- rendering ----------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(iso) {
    const date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function messageItem(user, text, className) {
    const item = el("li", "message" + (user === page.user ? " mine" : "") + (className ? " " + className : ""));
    item.append(el("span", "who", user), el("span", "text", text));
    return item;
  }

  function scrollDown() {
    const list = $("messages");
    list.scrollTop = list.scrollHeight;
  }

  /** Show `message` once: insert it in id order, replacing its pending copy if any. */
  function addMessage(message) {
    const id = String(message.id);
    if (shown.has(id)) return;
    const item = messageItem(message.user, message.text);
    item.dataset.id = id;
    item.append(el("time", "when", time(message.created_at)));
    shown.set(id, item);
    const mine = message.ack_id && pending.get(message.ack_id);
    if (mine) {
      pending.delete(message.ack_id);
      mine.item.remove();
    }
    const list = $("messages");
    const after = Array.from(list.querySelectorAll(".message[data-id]")).find(
      (other) => Number(other.dataset.id) > Number(message.id),
    );
    list.insertBefore(item, after || list.querySelector(".message.pending, .message.failed"));
    scrollDown();
  }

  function showOnline(names) {
    const list = $("online");
    list.classList.remove("unknown");
    $("online-note").hidden = true;
    list.replaceChildren(...names.map((name) => el("li", name === page.user ? "me" : "", name)));
  }

  function presenceUnknown() {
    $("online").classList.add("unknown");
    $("online-note").hidden = false;
  }

  function notice(text, kind, action) {
    const box = $("notice");
    box.replaceChildren();
    box.hidden = !text;
    box.className = "notice " + (kind || "");
    if (!text) return;
    box.append(el("span", "notice-text", text));
    if (action) {
      const button = el("button", "notice-action", action.label);
      button.type = "button";
      button.addEventListener("click", action.run);
      box.append(button);
    }
  }

  function toast(text, kind) {
    const item = el("div", "toast " + (kind || ""), text);
    $("toasts").append(item);
    setTimeout(() => item.remove(), 5000);
  }

  function showRoom(slug) {
    room = slug;
    $("room-title").textContent = "#" + slug;
    document.title = "#" + slug + " · apigw_ws chat";
    for (const link of document.querySelectorAll("#rooms a")) {
      link.classList.toggle("current", link.dataset.room === slug);
    }
    shown.clear();
    $("messages").replaceChildren(...Array.from(pending.values()).filter((p) => p.room === slug).map((p) => p.item));
    $("online").replaceChildren();
    $("typing").textContent = "";
  }

  // -- connection state ---------------------------------------------------------------

  const STATE_TEXT = {
    idle: "not connected",
    connecting: "connecting…",
    open: "connected",
    waiting: "reconnecting…",
    closed: "disconnected",
  };

  function stopCountdown() {
    clearInterval(countdown);
    countdown = null;
  }

  const OUTAGE_TEXT = {
    refused: "The chat server refused the connection or cannot be reached.",
    closed: "The connection to the chat server was lost.",
    token: "The chat server is not answering.",
    socket: "The browser could not open a connection.",
  };

  /** "The connection … was lost. Trying again in 7 s." with "Retry now", ticking down. */
  function outage(change) {
    stopCountdown();
    const until = Date.now() + change.delay;
    const reason = OUTAGE_TEXT[change.why] || OUTAGE_TEXT.closed;
    const retry = { label: "Retry now", run: () => client.retryNow() };
    const render = () => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      const when = seconds ? `Trying again in ${seconds} s.` : "Trying again…";
      const queued = pending.size ? " Your messages will be sent once it is back." : "";
      notice(`You are offline. ${reason} ${when}${queued}`, "error", retry);
    };
    render();
    countdown = setInterval(render, 1000);
  }

  client.on("state", (change) => {
    const status = $("status");
    status.dataset.state = change.state;
    status.textContent = STATE_TEXT[change.state];
    if (change.state !== "open") presenceUnknown();
    if (change.state === "waiting") outage(change);
    else stopCountdown();
    if (change.state === "connecting" && !$("notice").hidden) {
      const text = $("notice").querySelector(".notice-text");
      if (text) text.textContent = text.textContent.replace(/Trying again.*$/, "Connecting…");
    }
    if (change.state === "closed" && change.final) {
      notice("This page was disconnected by the server (an administrator, or you logged out elsewhere).", "error", {
        label: "Reconnect",
        run: () => client.connect(),
      });
    }
  });

  client.on("open", () => {
    notice("");
    client.send("hello");
  });

  client.on("error", (error) => {
    if (error.kind === "token" && (error.status === 401 || error.status === 403)) {
      notice("You are logged out: log in again to chat.", "error", {
        label: "Log in",
        run: () => (window.location.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname)),
      });
    }
  });

  // Messages older than the server keeps were missed: load the room's history again.
  client.on("gap", () => client.state === "open" && client.send("hello"));

  // -- events from the server ---------------------------------------------------------

  client.on("welcome", (welcome) => {
    if (welcome.room !== room) return;
    welcome.history.forEach(addMessage); // merged by id: nothing twice, nothing lost
    showOnline(welcome.online);
  });

  client.on("chat_message", (message) => {
    if (message.room === room) addMessage(message);
  });

  client.on("presence", (presence) => {
    if (presence.room === room) showOnline(presence.online);
  });

  client.on("joined", (joined) => {
    if (joined.room === room && joined.user !== page.user) toast(`${joined.user} joined #${room}`);
  });

  client.on("typing", (typing) => {
    if (typing.room !== room) return;
    $("typing").textContent = `${typing.user} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => ($("typing").textContent = ""), 3000);
  });

  client.on("broadcast", (notice) => toast(`📢 ${notice.user}: ${notice.text}`, "broadcast"));

  client.on("message", (message) => {
    // Refusals of a message come back as the route response {"error": "..."};
    // API Gateway's own failures as {"message": "...", "connectionId": ...}.
    if (message && typeof message === "object" && !message.type) {
      const text = message.error || message.message;
      if (text) notice("The server refused that: " + text, "error");
    }
  });

  // -- user actions -------------------------------------------------------------------

  function refusedLocally(err) {
    if (err instanceof ApigwWs.MessageTooLarge) {
      notice(`That message is too large (${err.bytes} bytes; the limit is ${err.limit}).`, "error");
    } else if (err instanceof ApigwWs.QueueFull) {
      notice("Too many messages are waiting for the connection: wait until it is back.", "error");
    } else {
      notice(err.message, "error");
    }
  }

  function trySend(handler, payload) {
    try {
      client.send(handler, payload);
      return true;
    } catch (err) {
      refusedLocally(err);
      return false;
    }
  }

  /** Post `text`, shown at once as "sending…"; "not sent" with a retry if no answer. */
  function postMessage(text, ackId) {
    let sent;
    try {
      sent = client.sendWithAck("post", { text: text }, ackId ? { ackId: ackId } : undefined);
    } catch (err) {
      refusedLocally(err);
      return false;
    }
    let entry = pending.get(sent.ackId);
    if (!entry) {
      entry = { item: messageItem(page.user, text, "pending"), text: text, room: room };
      entry.item.dataset.ack = sent.ackId;
      pending.set(sent.ackId, entry);
      $("messages").append(entry.item);
    }
    entry.item.className = "message mine pending";
    setStatusLine(entry.item, client.state === "open" ? "sending…" : "waiting for the connection…");
    scrollDown();
    sent.acked.then(
      (message) => addMessage(message), // normally the channel copy has replaced it already
      (err) => {
        // "superseded": the Retry button sent it again under the same id.
        if (!pending.has(sent.ackId) || err.reason === "superseded") return;
        entry.item.className = "message mine failed";
        setStatusLine(entry.item, "not sent", () => postMessage(text, sent.ackId));
      },
    );
    return true;
  }

  function setStatusLine(item, text, retry) {
    let line = item.querySelector(".delivery");
    if (!line) {
      line = el("span", "delivery");
      item.append(line);
    }
    line.replaceChildren(el("span", "", text));
    if (retry) {
      const button = el("button", "retry", "Retry");
      button.type = "button";
      button.addEventListener("click", retry);
      line.append(button);
    }
  }

  $("post-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    if (text && postMessage(text)) {
      input.value = "";
      if (client.state === "open") notice("");
    }
  });

  $("text").addEventListener("input", () => {
    const now = Date.now();
    if (client.state === "open" && now - lastTyping > 2000) {
      lastTyping = now;
      trySend("typing");
    }
  });

  const broadcastForm = $("broadcast-form");
  if (broadcastForm) {
    broadcastForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("broadcast-text");
      if (input.value.trim() && trySend("broadcast", { text: input.value.trim() })) input.value = "";
    });
  }

  /** Move to room `slug`: reconnect with a fresh token; on refusal go back. */
  function switchRoom(slug, push) {
    const previous = room;
    if (slug === previous && client.state === "open") return Promise.resolve(slug);
    showRoom(slug);
    return client.switchChannel(slug).then(
      () => {
        if (push !== false) history.pushState({ room: slug }, "", page.roomUrl.replace("{slug}", slug));
        return slug;
      },
      (err) => {
        showRoom(previous);
        client.switchChannel(previous).catch(() => {});
        notice(`You cannot join #${slug}: the server refused the connection.`, "error");
        throw err;
      },
    );
  }

  document.getElementById("rooms").addEventListener("click", (event) => {
    const link = event.target.closest("a[data-room]");
    if (!link) return;
    event.preventDefault();
    switchRoom(link.dataset.room).catch(() => {});
  });

  window.addEventListener("popstate", (event) => {
    if (event.state && event.state.room) switchRoom(event.state.room, false).catch(() => {});
  });

  history.replaceState({ room: room }, "");
  showRoom(room);
  window.chat = { client: client, switchRoom: switchRoom, page: page };
})();
