// The OS1 page: speaks protocol v1 (docs/protocol.md) over /ws. No build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const presence = $("presence"), prompt = $("prompt"), reply = $("reply"), status = $("status");
const text = $("text"), send = $("send"), stop = $("stop"), drawer = $("drawer"), lines = $("lines");
const stage = document.querySelector("main");
const MAX_FRAME = 64 * 1024;  // the most UTF-8 bytes a text frame may have (docs/protocol.md)
const HISTORY = 200;  // the stored turns the transcript shows when a session opens
let socket = null, replying = false, streaming = false, osName = "OS1", retry = 1000;
let opening = false;  // the prompts on screen are one run (the opening's lines): the next is added below them

function setState(state) {
  presence.className = "presence " + state;
  presence.setAttribute("aria-label", `${osName} is ${state === "idle" ? "listening" : state}`);
}

// The transcript. A stored turn's line carries its id (data-turn), so the history asked when a session opens and
// the events of the socket update a line instead of adding it twice.
let pending = null;  // the user's typed line, until `turn_stored` says which turn it is

function follow() {  // an open transcript follows the conversation
  drawer.scrollTop = drawer.scrollHeight;
}

function write(li, who, words, cls) {
  li.textContent = `${who}: ${words}`;
  li.className = cls || "";
}

function addLine(who, words, cls) {
  const li = document.createElement("li");
  write(li, who, words, cls);
  lines.appendChild(li);
  follow();
  return li;
}

function placeTurn(id, who, words, cls) {  // a stored turn's line, in order of turns; no words: none (unsaid)
  let li = lines.querySelector(`li[data-turn="${id}"]`);
  if (!words) { if (li) li.remove(); return; }
  if (!li) {
    li = document.createElement("li");
    li.dataset.turn = id;
    const later = [...lines.querySelectorAll("li[data-turn]")].find((other) => Number(other.dataset.turn) > id);
    lines.insertBefore(li, later || (pending && pending.parentNode === lines ? pending : null));
  }
  write(li, who, words, cls);
}

function setTurn(id, who, words, cls) {
  placeTurn(id, who, words, cls);
  follow();
}

function stored(id) {  // the user's typed line is the turn `id`, unless the history has shown that turn already
  if (!pending) return;
  if (lines.querySelector(`li[data-turn="${id}"]`)) pending.remove();
  else pending.dataset.turn = id;
  pending = null;
}

function marks(role, state) {  // a line's classes: the user's words, a reply cut short
  return [role === "user" ? "you" : "", state === "complete" ? "" : "interrupted"].join(" ").trim();
}

let asking = 0;  // history requests in flight (the transcript is aria-busy while any is)

async function restore() {  // the conversation so far: on a reload, in a new tab, after a reconnect
  lines.setAttribute("aria-busy", String(++asking > 0));
  try {
    const response = await fetch(`/api/history?limit=${HISTORY}`, { credentials: "same-origin" });
    if (response.status === 401) return;  // signed out: the socket's close sends the page to /login
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    for (const turn of (await response.json()).turns) {
      const who = turn.role === "user" ? "You" : turn.speaker || osName;
      placeTurn(turn.id, who, turn.text, marks(turn.role, turn.status));
    }
    follow();
  } catch (err) {
    status.textContent = `The transcript of our earlier conversation could not be loaded (${err.message}).`;
  } finally {
    lines.setAttribute("aria-busy", String(--asking > 0));
  }
}

// The reply on the stage: it scrolls inside its own box, following the words as they come unless the user has
// scrolled up to read; once it is longer than the room, the presence shrinks to give it more.
function showReply(words, more) {
  const atEnd = reply.scrollTop + reply.clientHeight >= reply.scrollHeight - 4;
  if (more) reply.textContent += words;
  else { reply.textContent = words; stage.classList.remove("long"); }
  if (reply.scrollHeight > reply.clientHeight + 1) stage.classList.add("long");
  if (atEnd || !more) reply.scrollTop = reply.scrollHeight;
}
reply.addEventListener("scroll", () => reply.classList.toggle("scrolled", reply.scrollTop > 0));

function showPrompt(line) {  // the opening's lines one below the other; a new question replaces the last run
  if (!opening) { prompt.textContent = ""; opening = true; }
  const p = document.createElement("p");
  p.textContent = line;
  p.style.setProperty("--i", String(prompt.childElementCount));
  prompt.appendChild(p);
}

function clearPrompt() {
  prompt.textContent = "";
  opening = false;
}

// Text the socket cannot carry is never cut and never lost: the page says so and keeps it in the box.
const encoder = new TextEncoder();
let warned = false;

function tooLong(words) {  // why `words` cannot be sent in one frame, or ""
  if (words.length * 6 + 64 <= MAX_FRAME) return "";  // JSON and UTF-8 give at most 6 bytes a character
  const bytes = encoder.encode(JSON.stringify({ v: 1, type: "say", text: words })).length;
  if (bytes <= MAX_FRAME) return "";
  const over = Math.ceil((bytes - MAX_FRAME) * words.length / bytes);
  return `This is too long to send at once: about ${over.toLocaleString("en")} characters more than one message `
    + "can carry (64 KiB). It is all still here: shorten it, or send it in parts.";
}

function checkLength() {
  const why = tooLong(text.value.trim());
  text.setAttribute("aria-invalid", String(Boolean(why)));
  if (why) status.textContent = why;
  else if (warned) status.textContent = "";
  warned = Boolean(why);
  return why;
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
      clearPrompt();
      if (OS1Context.on) emit("debug", { context: true });  // each new session starts without it
      restore();
      break;
    case "prompt":
      showPrompt(event.text);
      showReply("", false);
      addLine("OS1", event.text, "you");
      pending = null;  // a first-boot answer is not a turn
      busy(false);
      setState("idle");
      break;
    case "turn_stored":
      confirmBox.hidden = true;  // answered (by voice, too)
      stored(event.turn_id);
      setState("thinking");
      break;
    case "reply_started":
      clearPrompt();
      showReply("", false);
      streaming = true;
      setState("thinking");
      break;
    case "delta":  // a reply's next words, or a whole line the OS says without the model (welcome back)
      if (!streaming) { showReply("", false); clearPrompt(); streaming = true; }
      showReply(event.text, true);
      setState(replying ? "speaking" : "idle");
      break;
    case "reply_done":
      streaming = false;
      pending = null;
      if (reply.textContent !== event.text) showReply(event.text, false);
      setTurn(event.turn_id, osName, event.text, marks("assistant", event.status));
      busy(false);
      setState("idle");
      break;
    case "notice":
      status.textContent = event.text;
      break;
    case "confirm":  // a skill asks the user's yes or no to the exact action the reply named
      confirmBox.hidden = false;
      $("confirm-yes").focus();
      break;
    case "context":
      OS1Context.show(event.messages);
      break;
    case "renamed":
      osName = event.name;
      $("name").textContent = osName;
      break;
    case "error":
      status.textContent = event.message;
      if (pending) { pending.classList.add("unsent"); pending = null; }
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
    pending = null;
    setState("offline");
    status.textContent = "Reconnecting…";
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

// The context drawer: with it on (the drawer's "context" button, or /?debug), each typed reply is preceded by
// exactly the messages the model read, shown in place of the transcript (docs/protocol.md, `debug`).
const OS1Context = (() => {
  const button = $("debug"), panel = $("context"), list = $("messages"), about = $("context-about");
  const self = { on: false };

  function part(role, i, last) {  // where a message sits in what the model read
    if (role === "system" && i === 0) return "prompt";
    if (role === "user" && i === last) return "now";
    if (role === "system" && i === last - 1) return "note";
    return role === "assistant" ? `history (${osName})` : "history";
  }

  self.show = (messages) => {
    list.textContent = "";
    messages.forEach((message, i) => {
      const li = document.createElement("li"), role = document.createElement("span");
      const content = document.createElement("div");
      li.className = `message ${message.role}`;
      role.className = "role";
      role.textContent = `${message.role} · ${part(message.role, i, messages.length - 1)}`;
      content.className = "content";
      content.textContent = message.content;
      li.append(role, content);
      list.appendChild(li);
    });
    const characters = messages.reduce((sum, message) => sum + message.content.length, 0);
    about.textContent = `What the model read for the reply that follows: ${messages.length} messages, `
      + `${characters.toLocaleString("en")} characters.`;
    follow();
  };

  self.set = (on) => {
    self.on = on;
    button.setAttribute("aria-pressed", String(on));
    panel.hidden = !on;
    lines.hidden = on;
    $("drawer-title").textContent = on ? "Context" : "Transcript";
    emit("debug", { context: on });
    follow();
  };

  button.addEventListener("click", () => self.set(!self.on));
  return self;
})();

function openDrawer(open) {
  drawer.hidden = !open;
  $("history").setAttribute("aria-expanded", String(open));
  if (open) follow();  // it opens on the newest lines
}

// The answer to a skill's question is the user's next line, typed, spoken or one of these buttons.
const confirmBox = $("confirm");
function answer(words) {
  if (replying) return;
  confirmBox.hidden = true;
  status.textContent = "";
  pending = addLine("You", words, "you");
  busy(true);
  streaming = false;
  emit("say", { text: words });
}
$("confirm-yes").addEventListener("click", () => answer("yes"));
$("confirm-no").addEventListener("click", () => answer("no"));

$("talk").addEventListener("submit", (e) => {
  e.preventDefault();
  const words = text.value.trim();
  if (!words || replying) return;
  if (checkLength()) { text.focus(); return; }  // kept in the box, every character
  status.textContent = "";
  confirmBox.hidden = true;
  pending = addLine("You", words, "you");
  busy(true);
  streaming = false;
  opening = false;
  clearTimeout(draftTimer);
  drafted = "";
  emit("say", { text: words });
  text.value = "";
  text.style.height = "";
});
text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("talk").requestSubmit(); }
});
// What is typed so far goes to the server as a `draft` when the user ends a word or pauses, so the OS can read
// it ahead and answer sooner once it is sent (a hint: never while a reply is coming, never a line too long).
// At most two a second: drafts share the socket's 20 messages a second with the lines themselves.
const DRAFT_PAUSE_MS = 300;
const DRAFT_EVERY_MS = 500;
let draftTimer = null;
let drafted = "";
let draftedAt = 0;

function sendDraft() {
  clearTimeout(draftTimer);
  const words = text.value.trim();
  if (!words || words === drafted || replying || opening || tooLong(words)) return;
  const wait = draftedAt + DRAFT_EVERY_MS - Date.now();
  if (wait > 0) { draftTimer = setTimeout(sendDraft, wait); return; }
  drafted = words;
  draftedAt = Date.now();
  emit("draft", { text: words });
}

text.addEventListener("input", (e) => {
  text.style.height = "";
  text.style.height = text.scrollHeight + "px";
  checkLength();
  clearTimeout(draftTimer);
  if (e.data === " " || e.data === ",") sendDraft();
  else draftTimer = setTimeout(sendDraft, DRAFT_PAUSE_MS);
});
stop.addEventListener("click", () => emit("cancel", {}));
$("history").addEventListener("click", () => openDrawer(drawer.hidden));
$("close").addEventListener("click", () => openDrawer(false));

if (new URLSearchParams(location.search).has("debug")) { OS1Context.set(true); openDrawer(true); }
connect();
