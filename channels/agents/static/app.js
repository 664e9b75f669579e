// charla agent console: plain JavaScript, no build step. It talks to the
// agent API under /agent/api/v1 and follows /agent/ws for live updates.
// Every text from shoppers or the bot is set with textContent, never HTML.
(function () {
  "use strict";

  var API = "/agent/api/v1";
  var TEXTS = {
    es: {
      title: "Consola de agentes", agent: "Agente", password: "Contraseña", signin: "Entrar", signout: "Salir",
      wrong: "Agente o contraseña incorrectos.", toomany: "Demasiados intentos. Espera unos minutos.",
      offline: "sin conexión", online: "en vivo", available: "Disponible", away: "Ausente", sound: "Sonido",
      mine: "Mis conversaciones", waiting: "En espera", messages: "Mensajes", others: "Con otros agentes",
      pick: "Elige una conversación.", claim: "Tomar", release: "Devolver al bot", transfer: "Transferir", close: "Cerrar",
      send: "Enviar", write: "Escribe tu respuesta…", note: "Nota para quien la reciba", reason: "Motivo", where: "Dónde",
      slots: "Datos", profile: "Perfil", history: "Historial", canned: "Respuestas rápidas…", resume: "Seguir donde iba",
      start: "Iniciar: ", toqueue: "A la fila: ", toagent: "A: ", transferto: "Transferir a…", you: "Cliente", bot: "Bot",
      pressed: "Pulsó: ", queue: "Fila", channel: "Canal", place: "Lugar ", min: " min", none: "—",
      st_waiting: "en espera", st_assigned: "con ", st_message: "mensaje", st_after_hours: "fuera de horario",
      reminder: "Tienes un cliente sin respuesta: ", newconv: "Nueva conversación en espera", closed: "cerrada",
      gone: "La conversación ya no está en tus filas.", confirmclose: "¿Cerrar la conversación?", verified: "verificado",
      seen: "Visto en ", conversations: "conversaciones", open: "abierta", shut: "cerrada", agents: "agentes",
      unanswered: "sin respuesta", event: "Evento: ",
      mv_assigned: "asignada", mv_claimed: "tomada", mv_transferred: "transferida", mv_requeued: "de vuelta en la fila",
      mv_timeout: "sin respuesta a tiempo", mv_message: "mensaje para después"
    },
    en: {
      title: "Agent console", agent: "Agent", password: "Password", signin: "Sign in", signout: "Sign out",
      wrong: "Wrong agent or password.", toomany: "Too many attempts. Wait a few minutes.",
      offline: "offline", online: "live", available: "Available", away: "Away", sound: "Sound",
      mine: "My conversations", waiting: "Waiting", messages: "Messages", others: "With other agents",
      pick: "Pick a conversation.", claim: "Take", release: "Back to the bot", transfer: "Transfer", close: "Close",
      send: "Send", write: "Write your reply…", note: "A note for whoever takes it", reason: "Reason", where: "Where",
      slots: "Details", profile: "Profile", history: "History", canned: "Canned replies…", resume: "Resume where it was",
      start: "Start: ", toqueue: "To queue: ", toagent: "To: ", transferto: "Transfer to…", you: "Customer", bot: "Bot",
      pressed: "Pressed: ", queue: "Queue", channel: "Channel", place: "Place ", min: " min", none: "—",
      st_waiting: "waiting", st_assigned: "with ", st_message: "message", st_after_hours: "after hours",
      reminder: "A customer is waiting for your answer: ", newconv: "New conversation waiting", closed: "closed",
      gone: "The conversation is no longer in your queues.", confirmclose: "Close the conversation?", verified: "verified",
      seen: "Seen on ", conversations: "conversations", open: "open", shut: "closed", agents: "agents",
      unanswered: "unanswered", event: "Event: ",
      mv_assigned: "assigned", mv_claimed: "taken", mv_transferred: "transferred", mv_requeued: "back in the queue",
      mv_timeout: "nobody answered in time", mv_message: "message for later"
    }
  };

  var lang = localStorage.getItem("charla-agent-lang") || ((navigator.language || "es").slice(0, 2) === "en" ? "en" : "es");
  var T = TEXTS[lang];
  var me = null;          // the /me answer
  var tickets = {};       // conversation → ticket view
  var current = null;     // the open conversation id
  var lastSeq = 0;        // the last transcript seq shown
  var ws = null, wsTries = 0, wsTimer = null;
  var baseTitle = document.title;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  function setLang(l) {
    lang = l === "en" ? "en" : "es";
    T = TEXTS[lang];
    localStorage.setItem("charla-agent-lang", lang);
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(function (e) { e.textContent = T[e.getAttribute("data-t")]; });
    document.querySelectorAll("[data-tp]").forEach(function (e) { e.placeholder = T[e.getAttribute("data-tp")]; });
    $("lang-switch").textContent = lang === "es" ? "EN" : "ES";
    document.title = baseTitle = T.title + (me ? " — " + me.bot : "");
    if (me) { renderAll(); if (current) renderCurrentHead(); }
    setLive(ws && ws.readyState === 1);
  }

  // --- API ---
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (method !== "GET" && me && me.csrf) opts.headers["X-CSRF-Token"] = me.csrf;
    return fetch(API + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 401 && path !== "/login") { showLogin(); }
        if (!r.ok) { var e = new Error(j.error || r.statusText); e.status = r.status; throw e; }
        return j;
      });
    });
  }

  // --- sign-in ---
  function showLogin() {
    me = null;
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-agent").focus();
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    api("POST", "/login", { agent: $("login-agent").value.trim(), password: $("login-password").value })
      .then(function (m) { $("login-password").value = ""; start(m); })
      .catch(function (e) { $("login-error").textContent = e.status === 429 ? T.toomany : e.status === 401 ? T.wrong : e.message; })
      .then(function () { $("login-submit").disabled = false; });
  });
  document.querySelectorAll("[data-lang]").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.getAttribute("data-lang")); });
  });
  $("lang-switch").addEventListener("click", function () { setLang(lang === "es" ? "en" : "es"); });

  $("logout").addEventListener("click", function () {
    api("POST", "/logout").catch(function () {}).then(showLogin);
  });

  function start(m) {
    me = m;
    if (!localStorage.getItem("charla-agent-lang") && m.agent.lang) setLang(m.agent.lang); else setLang(lang);
    $("login").hidden = true;
    $("app").hidden = false;
    $("bot-name").textContent = m.bot;
    $("me-name").textContent = m.agent.name;
    $("status").value = m.status === "away" ? "away" : "available";
    fillSelects();
    connect();
  }

  $("status").addEventListener("change", function () {
    api("POST", "/status", { status: $("status").value }).catch(function (e) { alert(e.message); });
  });
  $("sound").checked = localStorage.getItem("charla-agent-sound") === "1";
  $("sound").addEventListener("change", function () {
    localStorage.setItem("charla-agent-sound", $("sound").checked ? "1" : "0");
    if ($("sound").checked) beep();
  });

  // --- live updates ---
  function setLive(on) {
    $("live").textContent = on ? T.online : T.offline;
    $("live").className = "live" + (on ? " on" : "");
  }

  function connect() {
    if (ws) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/agent/ws";
    ws = new WebSocket(url);
    ws.onopen = function () { wsTries = 0; setLive(true); };
    ws.onmessage = function (m) {
      var fs;
      try { fs = JSON.parse(m.data); } catch (e) { return; }
      (Array.isArray(fs) ? fs : [fs]).forEach(onFrame);
    };
    function onFrame(f) {
      if (f.type === "snapshot") {
        tickets = {};
        (f.conversations || []).forEach(function (t) { tickets[t.conversation] = t; });
        if (f.status) $("status").value = f.status === "away" ? "away" : "available";
        if (f.queues) me.queues = f.queues;
        if (f.agents) { me.agents = f.agents; fillTransfer(); }
        renderAll();
        if (current) openConversation(current, true);
      } else if (f.type === "event") {
        onEvent(f.event);
      } else if (f.type === "resync") {
        refresh();
      }
    }
    ws.onclose = function () {
      ws = null;
      setLive(false);
      if (!me) return;
      var wait = Math.min(30000, 500 * Math.pow(2, wsTries++));
      clearTimeout(wsTimer);
      wsTimer = setTimeout(function () {
        api("GET", "/me").then(function (m) { me = m; fillSelects(); connect(); }).catch(function () {});
      }, wait);
    };
  }

  function refresh() {
    api("GET", "/conversations").then(function (r) {
      tickets = {};
      r.conversations.forEach(function (t) { tickets[t.conversation] = t; });
      me.queues = r.queues;
      renderAll();
    });
  }

  function onEvent(ev) {
    var t = ev.ticket;
    switch (ev.kind) {
      case "ticket.queued":
      case "ticket.updated":
        var isNew = !tickets[t.conversation];
        tickets[t.conversation] = t;
        if (isNew && t.state === "waiting") notifyNew(t);
        break;
      case "ticket.removed":
        delete tickets[t.conversation];
        if (current === t.conversation) {
          $("conv-error").textContent = T.gone + " (" + (ev.why || T.closed) + ")";
          disableActions(true);
        }
        break;
      case "message":
        tickets[t.conversation] = t;
        if (current === t.conversation) loadMessages();
        else if (t.agent === me.agent.id && ev.entry && ev.entry.from === "user") beep();
        break;
      case "agent.reminder":
        if (t) { tickets[t.conversation] = t; showReminder(t); }
        break;
      case "agent.status":
        api("GET", "/me").then(function (m) { me.queues = m.queues; me.agents = m.agents; fillTransfer(); renderQueues(); }).catch(function () {});
        return;
    }
    scheduleRender();
    if (current && t && current === t.conversation && tickets[current]) renderCurrentHead();
  }

  // Lists (and the title's badge) are drawn at most every 30 ms however
  // many events arrive; a timer, not an animation frame, so that a console
  // in a background tab still updates its title.
  var renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    setTimeout(function () {
      renderPending = false;
      if (me) renderAll();
    }, 30);
  }

  // --- notifications: the title's badge, and a sound on request ---
  var audio = null;
  function beep() {
    if (!$("sound").checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.08;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.18);
    } catch (e) { /* no audio */ }
  }
  function notifyNew(t) { beep(); }
  function showReminder(t) {
    beep();
    $("conv-error").textContent = current === t.conversation ? T.reminder + who(t) : $("conv-error").textContent;
  }
  function updateTitle() {
    var n = 0;
    Object.keys(tickets).forEach(function (k) {
      var t = tickets[k];
      if (t.state === "waiting") n++;
      else if (t.state === "assigned" && t.agent === me.agent.id && t.unread > 0) n++;
    });
    document.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
  }

  // --- lists ---
  function who(t) {
    var s = t.slots || {}, p = (t.profile && t.profile.slots) || {};
    return s.nombre || s.name || p.nombre || p.name || t.user || t.conversation;
  }
  function minutes(since) {
    var ms = Date.now() - new Date(since).getTime();
    return Math.max(0, Math.floor(ms / 60000)) + T.min;
  }
  function stateText(t) {
    if (t.state === "assigned") return T.st_assigned + agentName(t.agent);
    return T["st_" + t.state] || t.state;
  }
  function agentName(id) {
    var a = (me.agents || []).filter(function (x) { return x.id === id; })[0];
    return a ? a.name : (id || "").replace(/^helpdesk:/, "");
  }

  function renderAll() {
    var lists = { mine: [], waiting: [], messages: [], others: [] };
    Object.keys(tickets).forEach(function (k) {
      var t = tickets[k];
      if (t.state === "assigned" && t.agent === me.agent.id) lists.mine.push(t);
      else if (t.state === "waiting") lists.waiting.push(t);
      else if (t.state === "message" || t.state === "after_hours") lists.messages.push(t);
      else lists.others.push(t);
    });
    var order = function (a, b) { return (b.priority - a.priority) || (a.order - b.order); };
    Object.keys(lists).forEach(function (name) {
      var ul = $("list-" + name);
      clear(ul);
      lists[name].sort(order).forEach(function (t) { ul.appendChild(item(t)); });
    });
    renderQueues();
    updateTitle();
  }

  function item(t) {
    var li = el("li", "conv-item");
    li.tabIndex = 0;
    li.setAttribute("data-id", t.conversation);
    if (t.conversation === current) li.className += " active";
    if (t.reminded && t.agent === me.agent.id) li.className += " remind";
    var l1 = el("div", "line1");
    l1.appendChild(el("span", "who", who(t)));
    var right = el("span", "muted", t.state === "waiting" && t.position ? "#" + t.position + " · " + minutes(t.enqueued) : minutes(t.enqueued));
    l1.appendChild(right);
    if (t.unread > 0 && t.state !== "waiting") l1.appendChild(el("span", "badge", String(t.unread)));
    li.appendChild(l1);
    li.appendChild(el("div", "line2", queueTitle(t.queue) + " · " + (t.reason || "") + (t.channel ? " · " + t.channel : "")));
    li.addEventListener("click", function () { openConversation(t.conversation); });
    li.addEventListener("keydown", function (e) { if (e.key === "Enter") openConversation(t.conversation); });
    return li;
  }

  function queueTitle(name) {
    var q = (me.queues || []).filter(function (x) { return x.name === name; })[0];
    return q ? q.title : name;
  }

  function renderQueues() {
    var box = $("queues");
    clear(box);
    (me.queues || []).forEach(function (q) {
      var n = { waiting: 0, message: 0 };
      Object.keys(tickets).forEach(function (k) {
        var t = tickets[k];
        if (t.queue !== q.name) return;
        if (t.state === "waiting") n.waiting++;
        else if (t.state === "message" || t.state === "after_hours") n.message++;
      });
      var d = el("div", "queue" + (q.open ? "" : " closed"));
      d.setAttribute("data-queue", q.name);
      d.appendChild(el("span", null, q.title + (q.open ? "" : " (" + T.shut + ")")));
      d.appendChild(el("span", "count", n.waiting + (n.message ? " + " + n.message + "✉" : "") + " · " + q.agents + " " + T.agents));
      box.appendChild(d);
    });
  }

  // --- one conversation ---
  function fillSelects() {
    var rf = $("release-flow");
    clear(rf);
    var o = el("option", null, T.resume); o.value = ""; rf.appendChild(o);
    (me.flows || []).forEach(function (f) {
      var op = el("option", null, T.start + f); op.value = f;
      if (f === me.csat) op.selected = true;
      rf.appendChild(op);
    });
    fillTransfer();
  }
  function fillTransfer() {
    var tt = $("transfer-to");
    clear(tt);
    var o = el("option", null, T.transferto); o.value = ""; tt.appendChild(o);
    (me.queues || []).forEach(function (q) {
      var op = el("option", null, T.toqueue + q.title); op.value = "queue:" + q.name; tt.appendChild(op);
    });
    (me.agents || []).forEach(function (a) {
      if (a.id === me.agent.id || a.status === "offline") return;
      var op = el("option", null, T.toagent + a.name); op.value = "agent:" + a.id; tt.appendChild(op);
    });
  }

  function openConversation(id, quiet) {
    current = id;
    lastSeq = 0;
    if (!quiet) $("conv-error").textContent = "";
    renderAll();
    api("GET", "/conversations/" + encodeURIComponent(id)).then(function (d) {
      if (current !== id) return;
      tickets[id] = d.ticket;
      $("empty").hidden = true;
      $("conv-view").hidden = false;
      clear($("transcript"));
      d.transcript.forEach(addEntry);
      scrollDown();
      renderCurrentHead();
      renderSide(d);
      var c = $("canned");
      clear(c);
      var o = el("option", null, T.canned); o.value = ""; c.appendChild(o);
      d.canned.forEach(function (cr) { var op = el("option", null, cr.name); op.value = cr.text; c.appendChild(op); });
      c.hidden = d.canned.length === 0;
    }).catch(function (e) {
      $("conv-error").textContent = e.message;
      if (e.status === 404) { delete tickets[id]; renderAll(); }
    });
  }

  function renderCurrentHead() {
    var t = tickets[current];
    if (!t) return;
    $("conv-title").textContent = who(t);
    $("conv-meta").textContent = [queueTitle(t.queue), t.channel, stateText(t), t.position ? T.place + t.position : ""]
      .filter(Boolean).join(" · ");
    disableActions(false);
    var mine = t.state === "assigned" && t.agent === me.agent.id;
    $("btn-claim").hidden = mine;
    $("btn-claim").disabled = t.state === "assigned";
    $("reply-send").disabled = !mine;
    $("reply-text").disabled = !mine;
    $("btn-transfer").disabled = !(mine || t.state !== "assigned");
    $("btn-release").disabled = !(mine || t.state !== "assigned");
    $("btn-close").disabled = !(mine || t.state !== "assigned");
  }

  function disableActions(off) {
    ["btn-claim", "btn-release", "btn-transfer", "btn-close", "reply-send"].forEach(function (id) { $(id).disabled = off; });
  }

  function addEntry(e) {
    if (e.seq > lastSeq) lastSeq = e.seq;
    if (e.from === "status") return; // a delivery receipt
    var li = el("li", "msg " + (e.from === "user" ? "user" : e.from === "agent" ? "agent" : "bot"));
    li.setAttribute("data-seq", e.seq);
    var label = e.from === "user" ? T.you : e.from === "agent" ? agentName(e.agent) : T.bot + (e.flow ? " · " + e.flow : "");
    li.appendChild(el("span", "who", label + " · " + new Date(e.at).toLocaleTimeString(lang)));
    if (e.event) li.appendChild(el("span", "pressed", T.event + e.event));
    if (e.choice) li.appendChild(el("span", "pressed", T.pressed));
    if (e.text) li.appendChild(el("span", "text", e.text));
    if (e.image) { var img = el("img"); img.src = e.image; img.alt = ""; li.appendChild(img); }
    (e.attachments || []).forEach(function (a) {
      if (a.kind === "image" && a.url) { var im = el("img"); im.src = a.url; im.alt = a.name || ""; li.appendChild(im); }
      else li.appendChild(el("span", "pressed", "📎 " + (a.name || a.kind)));
    });
    if (e.location) li.appendChild(el("span", "pressed", "📍 " + (e.location.address || (e.location.lat + ", " + e.location.lon))));
    if (e.choices && e.choices.length) {
      var ch = el("div", "chips");
      e.choices.forEach(function (c) { ch.appendChild(el("span", "chip", c.label)); });
      li.appendChild(ch);
    }
    $("transcript").appendChild(li);
  }

  function scrollDown() { var tr = $("transcript"); tr.scrollTop = tr.scrollHeight; }

  function loadMessages() {
    var id = current;
    api("GET", "/conversations/" + encodeURIComponent(id) + "/messages?after=" + lastSeq).then(function (r) {
      if (current !== id) return;
      r.messages.forEach(function (e) { if (e.seq > lastSeq) addEntry(e); });
      scrollDown();
    }).catch(function () {});
  }

  function kv(dl, obj) {
    clear(dl);
    var keys = Object.keys(obj || {}).sort();
    if (!keys.length) { dl.appendChild(el("dd", "muted", T.none)); return; }
    keys.forEach(function (k) {
      dl.appendChild(el("dt", null, k));
      var v = obj[k];
      dl.appendChild(el("dd", null, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)));
    });
  }

  function renderSide(d) {
    var t = d.ticket;
    $("reason").textContent = t.reason || T.none;
    $("note").hidden = !t.note;
    $("note").textContent = t.note || "";
    $("where").textContent = [t.flow, t.step].filter(Boolean).join(" · ") + (t.stack && t.stack.length ? " (" + t.stack.join(" › ") + ")" : "");
    var slots = {};
    Object.keys(t.slots || {}).forEach(function (k) { slots[k] = t.slots[k]; });
    if (d.conversation && d.conversation.slots) Object.keys(d.conversation.slots).forEach(function (k) { slots[k] = d.conversation.slots[k]; });
    kv($("slots"), slots);
    var p = t.profile || {}, prof = {};
    Object.keys(p.slots || {}).forEach(function (k) { prof[k] = p.slots[k]; });
    if (t.user) prof.user = t.user + (p.verified ? " (" + T.verified + ")" : "");
    if (p.identities && p.identities.length) {
      prof[T.conversations] = p.identities.map(function (i) { return i.channel + " " + i.conversation; }).join(", ");
    }
    kv($("profile"), prof);
    var ul = $("moves");
    clear(ul);
    (t.moves || []).forEach(function (m) {
      ul.appendChild(el("li", null, new Date(m.at).toLocaleTimeString(lang) + " " + (T["mv_" + m.kind] || m.kind) + (m.agent ? " → " + agentName(m.agent) : "") +
        (m.queue ? " [" + queueTitle(m.queue) + "]" : "") + (m.note ? ": " + m.note : "")));
    });
  }

  function act(path, body, after) {
    $("conv-error").textContent = "";
    var id = current;
    return api("POST", "/conversations/" + encodeURIComponent(id) + path, body)
      .then(function (r) { if (after) after(r); if (current === id && tickets[id]) openConversation(id, true); })
      .catch(function (e) { $("conv-error").textContent = e.message; });
  }

  $("btn-claim").addEventListener("click", function () { act("/claim", {}); });
  $("btn-release").addEventListener("click", function () { act("/release", { flow: $("release-flow").value }); });
  $("btn-close").addEventListener("click", function () { if (confirm(T.confirmclose)) act("/close", {}); });
  $("btn-transfer").addEventListener("click", function () {
    var v = $("transfer-to").value;
    if (!v) { $("transfer-to").focus(); return; }
    var body = { note: $("transfer-note").value };
    if (v.indexOf("queue:") === 0) body.queue = v.slice(6); else body.agent = v.slice(6);
    act("/transfer", body, function () { $("transfer-note").value = ""; $("transfer-to").value = ""; });
  });
  $("canned").addEventListener("change", function () {
    if (!this.value) return;
    var ta = $("reply-text");
    ta.value = ta.value ? ta.value + " " + this.value : this.value;
    this.value = "";
    ta.focus();
  });
  $("reply").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text) return;
    $("reply-send").disabled = true;
    var id = current;
    api("POST", "/conversations/" + encodeURIComponent(id) + "/messages", { text: text })
      .then(function () { $("reply-text").value = ""; if (current === id) loadMessages(); })
      .catch(function (e) { $("conv-error").textContent = e.message; })
      .then(function () { renderCurrentHead(); });
  });
  $("reply-text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("reply-send").click(); }
  });

  setInterval(function () { if (me) renderAll(); }, 30000); // waiting times

  setLang(lang);
  api("GET", "/me").then(start).catch(function () { showLogin(); });
})();
