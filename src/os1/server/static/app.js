// The OS1 page: speaks protocol v1 (docs/protocol.md) over /ws. No build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const presence = $("presence"), prompt = $("prompt"), reply = $("reply"), status = $("status");
const text = $("text"), send = $("send"), stop = $("stop"), drawer = $("drawer"), lines = $("lines");
let socket = null, replying = false, streaming = false, osName = "OS1", retry = 1000;

function setState(state) {
  presence.className = "presence " + state;
  presence.setAttribute("aria-label", `${osName} is ${state === "idle" ? "listening" : state}`);
}

function addLine(who, words, cls) {
  const li = document.createElement("li");
  li.textContent = `${who}: ${words}`;
  if (cls) li.className = cls;
  lines.appendChild(li);
  drawer.scrollTop = drawer.scrollHeight;  // an open transcript follows the conversation
  return li;
}

const keyed = new Map();  // lines a later event may correct: a spoken reply cut short, a user who went on
function setLine(key, who, words, cls) {
  const old = keyed.get(key);
  if (old && !words) { old.remove(); keyed.delete(key); }
  else if (old) { old.textContent = `${who}: ${words}`; old.className = cls || ""; }
  else if (words) keyed.set(key, addLine(who, words, cls));
}

function busy(on) {
  replying = on;
  stop.hidden = !on;
  send.disabled = on;
}

function emit(type, fields) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ v: 1, type, ...fields }));
}

function handle(event) {
  switch (event.type) {
    case "ready":
      osName = event.name || "OS1";
      $("name").textContent = osName;
      status.textContent = "";
      break;
    case "prompt":
      prompt.textContent = event.text;
      reply.textContent = "";
      addLine("OS1", event.text, "you");
      busy(false);
      setState("idle");
      break;
    case "turn_stored":
      setState("thinking");
      break;
    case "reply_started":
      prompt.textContent = "";
      reply.textContent = "";
      streaming = true;
      setState("thinking");
      break;
    case "delta":  // a reply's next words, or a whole line the OS says without the model (welcome back)
      if (!streaming) { reply.textContent = ""; prompt.textContent = ""; streaming = true; }
      reply.textContent += event.text;
      setState(replying ? "speaking" : "idle");
      break;
    case "reply_done":
      streaming = false;
      reply.textContent = event.text;
      setLine("os" + event.turn_id, osName, event.text, event.status === "interrupted" ? "interrupted" : "");
      busy(false);
      setState("idle");
      break;
    case "notice":
      status.textContent = event.text;
      break;
    case "renamed":
      osName = event.name;
      $("name").textContent = osName;
      break;
    case "error":
      status.textContent = event.message;
      if (event.code !== "rate_limited" && event.code !== "busy") { busy(false); setState("idle"); }
      break;
  }
}

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";  // binary frames are the OS's speech (voice.js)
  socket.onopen = () => { retry = 1000; emit("hello", {}); setState("idle"); };
  socket.onmessage = (message) => {
    if (typeof message.data !== "string") { if (window.OS1Voice) OS1Voice.audio(message.data); return; }
    try {
      const event = JSON.parse(message.data);
      handle(event);
      if (window.OS1Voice) OS1Voice.event(event);
    } catch (err) { console.error(err); }
  };
  socket.onclose = () => {
    // a socket refused for want of a sign-in (expired, or signed out in another tab) goes back to /login
    fetch("/api/me", { credentials: "same-origin" })
      .then((r) => { if (r.status === 401) location.assign("/login"); }).catch(() => {});
    if (window.OS1Voice) OS1Voice.closed();
    busy(false);
    setState("offline");
    status.textContent = "Reconnecting…";
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

$("talk").addEventListener("submit", (e) => {
  e.preventDefault();
  const words = text.value.trim();
  if (!words || replying) return;
  addLine("You", words, "you");
  busy(true);
  streaming = false;
  emit("say", { text: words });
  text.value = "";
  text.style.height = "";
});
text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("talk").requestSubmit(); }
});
text.addEventListener("input", () => { text.style.height = ""; text.style.height = text.scrollHeight + "px"; });
stop.addEventListener("click", () => emit("cancel", {}));
$("history").addEventListener("click", () => {
  drawer.hidden = !drawer.hidden;
  drawer.scrollTop = drawer.scrollHeight;  // opens on the newest lines
  $("history").setAttribute("aria-expanded", String(!drawer.hidden));
});
$("close").addEventListener("click", () => { drawer.hidden = true; $("history").setAttribute("aria-expanded", "false"); });

connect();
