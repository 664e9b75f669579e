/* charla web chat widget: plain JavaScript, no build step.
 * <script src="https://HOST/widget.js" data-title="Tienda" data-user="ID" data-user-hash="HMAC"
 *         data-lang="es" data-target="#chat" async></script>
 * The WebSocket protocol is documented in docs/webchat.md. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src$='widget.js']");
  var ds = (script && script.dataset) || {};
  var base = ds.server || (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  var wsURL = base.replace(/^http/, "ws") + "/ws";
  var lang = ds.lang || ((navigator.language || "es").toLowerCase().indexOf("en") === 0 ? "en" : "es");
  var T = {
    es: { title: "Chat", placeholder: "Escribe un mensaje…", send: "Enviar", attach: "Enviar una imagen",
      open: "Abrir el chat", close: "Cerrar el chat", typing: "Escribiendo…", reconnecting: "Reconectando…",
      tooBig: "La imagen es demasiado grande (máximo 1 MB).", notImage: "Solo se pueden enviar imágenes.",
      you: "Tú", bot: "Asistente", agent: "Agente", log: "Conversación", image: "Imagen enviada" },
    en: { title: "Chat", placeholder: "Type a message…", send: "Send", attach: "Send an image",
      open: "Open the chat", close: "Close the chat", typing: "Typing…", reconnecting: "Reconnecting…",
      tooBig: "The image is too large (1 MB at most).", notImage: "Only images can be sent.",
      you: "You", bot: "Assistant", agent: "Agent", log: "Conversation", image: "Image sent" }
  }[lang];
  var MAX_UPLOAD = 1024 * 1024;
  var storeKey = "charla:" + base;

  function load() { try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; } }
  function save(s) { try { localStorage.setItem(storeKey, JSON.stringify(s)); } catch (e) {} }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function uid() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

  var css = el("link");
  css.rel = "stylesheet";
  css.href = base + "/widget.css";
  document.head.appendChild(css);

  var target = ds.target ? document.querySelector(ds.target) : null;
  var root = el("div", "charla" + (target ? " charla-inline" : " charla-floating charla-closed"));
  root.setAttribute("lang", lang);
  var panel = el("section", "charla-panel");
  panel.setAttribute("aria-label", ds.title || T.title);
  var header = el("header", "charla-header");
  header.appendChild(el("h2", "charla-title", ds.title || T.title));
  var status = el("span", "charla-status");
  status.setAttribute("role", "status");
  header.appendChild(status);
  var logEl = el("div", "charla-log");
  logEl.setAttribute("role", "log");
  logEl.setAttribute("aria-live", "polite");
  logEl.setAttribute("aria-label", T.log);
  logEl.tabIndex = 0;
  var typing = el("div", "charla-typing", T.typing);
  typing.hidden = true;
  var replies = el("div", "charla-replies");
  var form = el("form", "charla-form");
  var input = el("input", "charla-input");
  input.type = "text";
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.placeholder);
  input.maxLength = 1000;
  input.autocomplete = "off";
  var file = el("input");
  file.type = "file";
  file.accept = "image/*";
  file.hidden = true;
  var CLIP = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.6 8.6a5 5 0 01-7.1-7.1l8.6-8.6a3.3 3.3 0 014.7 4.7l-8.6 8.6a1.7 1.7 0 01-2.4-2.4l7.9-7.9"/></svg>';
  var BUBBLE = '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 012 2v10a2 2 0 01-2 2H9l-5 4v-4a2 2 0 01-2-2V6a2 2 0 012-2z"/></svg>';
  var attach = el("button", "charla-attach");
  attach.innerHTML = CLIP;
  attach.type = "button";
  attach.title = T.attach;
  attach.setAttribute("aria-label", T.attach);
  var send = el("button", "charla-send", T.send);
  send.type = "submit";
  form.append(attach, file, input, send);
  panel.append(header, logEl, typing, replies, form);

  if (target) {
    target.appendChild(root);
    root.appendChild(panel);
  } else {
    var toggle = el("button", "charla-toggle");
    toggle.innerHTML = BUBBLE;
    toggle.type = "button";
    toggle.setAttribute("aria-label", T.open);
    toggle.setAttribute("aria-expanded", "false");
    var closeBtn = el("button", "charla-close", "×");
    closeBtn.type = "button";
    closeBtn.setAttribute("aria-label", T.close);
    header.appendChild(closeBtn);
    var setOpen = function (open) {
      root.classList.toggle("charla-closed", !open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) input.focus(); else toggle.focus();
    };
    toggle.onclick = function () { setOpen(root.classList.contains("charla-closed")); };
    closeBtn.onclick = function () { setOpen(false); };
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
    root.append(panel, toggle);
    document.body.appendChild(root);
  }

  var state = load();          // {conversation, seq}
  var seen = {};               // seq → true: bubbles already shown
  var ws = null, ready = false, backoff = 500, queue = [];

  function fmtTime(d) {
    try { return d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }
  function bubble(from, text, at, image, pending) {
    var b = el("div", "charla-msg charla-" + from + (pending ? " charla-pending" : ""));
    var who = el("span", "charla-sr", (from === "user" ? T.you : from === "agent" ? T.agent : T.bot) + ": ");
    b.appendChild(who);
    if (text) b.appendChild(el("p", "charla-text", text));
    if (image) {
      var img = el("img", "charla-img");
      img.src = image.indexOf("/") === 0 ? base + image : image;
      img.alt = T.image;
      b.appendChild(img);
    }
    var t = el("time", "charla-time", fmtTime(at ? new Date(at) : new Date()));
    if (at) t.dateTime = at;
    b.appendChild(t);
    logEl.appendChild(b);
    logEl.scrollTop = logEl.scrollHeight;
    return b;
  }
  function showReplies(choices) {
    replies.textContent = "";
    (choices || []).forEach(function (c) {
      var btn = el("button", "charla-reply", c.label);
      btn.type = "button";
      btn.onclick = function () {
        replies.textContent = "";
        bubble("user", c.label, null, null, true);
        post({ type: "choice", value: c.value, id: uid() });
        input.focus();
      };
      replies.appendChild(btn);
    });
  }
  function post(f) {
    if (ready && ws.readyState === 1) ws.send(JSON.stringify(f)); else queue.push(f);
  }
  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        if (state.conversation && state.conversation !== f.conversation) {
          logEl.textContent = ""; seen = {}; replies.textContent = "";
        }
        state.conversation = f.conversation;
        save(state);
        ready = true; backoff = 500; status.textContent = "";
        var q = queue; queue = [];
        q.forEach(post);
        break;
      case "message":
        if (f.seq) {
          if (seen[f.seq]) return;
          seen[f.seq] = true;
          if (f.seq > (state.seq || 0)) { state.seq = f.seq; save(state); }
        }
        typing.hidden = true;
        bubble(f.from || "bot", f.text, f.at, f.image);
        showReplies(f.from === "user" ? [] : f.choices);
        break;
      case "typing":
        typing.hidden = !f.on;
        break;
      case "ack":
        var p = logEl.querySelector(".charla-pending");
        if (p) p.classList.remove("charla-pending");
        break;
      case "error":
        typing.hidden = true;
        var e = bubble("notice", f.error);
        e.setAttribute("role", "alert");
        break;
    }
  }
  function connect() {
    ready = false;
    ws = new WebSocket(wsURL);
    ws.onopen = function () {
      var hello = { type: "hello", lang: lang, conversation: state.conversation || "",
        after: logEl.childElementCount ? (state.seq || 0) : 0 };
      if (ds.user) { hello.user = ds.user; hello.user_hash = ds.userHash || ""; }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (ev) { try { onFrame(JSON.parse(ev.data)); } catch (e) {} };
    ws.onclose = function () {
      ready = false;
      if (leaving) return;
      status.textContent = T.reconnecting;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    replies.textContent = "";
    bubble("user", text, null, null, true);
    post({ type: "message", text: text, id: uid() });
  });
  attach.onclick = function () { file.click(); };
  file.onchange = function () {
    var f = file.files && file.files[0];
    file.value = "";
    if (!f) return;
    if (f.type.indexOf("image/") !== 0) { bubble("notice", T.notImage); return; }
    if (f.size > MAX_UPLOAD) { bubble("notice", T.tooBig); return; }
    var r = new FileReader();
    r.onload = function () {
      var data = String(r.result);
      bubble("user", "", null, data, true);
      post({ type: "attachment", name: f.name, mime: f.type, data: data.slice(data.indexOf(",") + 1), id: uid() });
    };
    r.readAsDataURL(f);
  };
  // Leaving the page closes the socket (a page kept in the back-forward
  // cache would hold it open); coming back to it reconnects.
  var leaving = false;
  window.addEventListener("pagehide", function () { leaving = true; if (ws) ws.close(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { leaving = false; connect(); } });
  state.seq = 0; // a fresh page replays the whole history
  connect();
  window.charla = { root: root, send: function (t) { input.value = t; form.requestSubmit(); } };
})();
