// The chat page. Everything a user or another user typed is shown with textContent,
// never innerHTML: a message is text, whatever it contains.
(function () {
  "use strict";

  const page = JSON.parse(document.getElementById("chat-page").textContent);
  const client = ApigwWs.fromElement("apigw-ws-config");
  const $ = (id) => document.getElementById(id);
  let room = page.room;
  let typingTimer = null;
  let lastTyping = 0;

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

  function addMessage(message) {
    const item = el("li", message.user === page.user ? "message mine" : "message");
    item.dataset.id = message.id;
    item.append(el("span", "who", message.user), el("span", "text", message.text));
    item.append(el("time", "when", time(message.created_at)));
    const list = $("messages");
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  function showOnline(names) {
    const list = $("online");
    list.replaceChildren(...names.map((name) => el("li", name === page.user ? "me" : "", name)));
  }

  function notice(text, kind) {
    const box = $("notice");
    box.textContent = text || "";
    box.className = "notice " + (kind || "");
    box.hidden = !text;
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
    $("messages").replaceChildren();
    $("online").replaceChildren();
    $("typing").textContent = "";
  }

  // -- connection state ---------------------------------------------------------------

  const STATE_TEXT = {
    idle: "not connected",
    connecting: "connecting…",
    open: "connected",
    waiting: "reconnecting…",
    closed: "closed",
  };

  client.on("state", (change) => {
    const status = $("status");
    status.dataset.state = change.state;
    status.textContent =
      change.state === "waiting"
        ? `reconnecting in ${Math.ceil(change.delay / 1000)} s…`
        : STATE_TEXT[change.state];
  });

  client.on("open", () => {
    notice("");
    client.send("hello");
  });

  client.on("refused", () => {
    notice(
      "The server refused the connection: the token or the room was not accepted, " +
        "or the gateway is down. Retrying…",
      "error",
    );
  });

  client.on("error", (error) => {
    if (error.kind === "token" && (error.status === 401 || error.status === 403)) {
      notice("You are logged out: log in again to chat.", "error");
    }
  });

  // -- events from the server ---------------------------------------------------------

  client.on("welcome", (welcome) => {
    if (welcome.room !== room) return;
    $("messages").replaceChildren();
    welcome.history.forEach(addMessage);
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

  function trySend(handler, payload) {
    try {
      client.send(handler, payload);
      return true;
    } catch (err) {
      if (err instanceof ApigwWs.MessageTooLarge) {
        notice(`That message is too large (${err.bytes} bytes; the limit is ${err.limit}).`, "error");
      } else {
        notice(err.message, "error");
      }
      return false;
    }
  }

  $("post-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    if (text && trySend("post", { text: text })) {
      input.value = "";
      notice("");
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
