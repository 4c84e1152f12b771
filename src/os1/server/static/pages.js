// The memory page and the settings page: they speak the small JSON API under /api/ (docs/protocol.md).
// No build step, no dependencies. Every change sends the CSRF token (the os1_csrf cookie) in X-CSRF-Token.
"use strict";

const $ = (id) => document.getElementById(id);

function csrfToken() {
  const found = document.cookie.match(/(?:^|;\s*)os1_csrf=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin",
                                   body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error("I can't reach the server right now. Is OS1 still running?");
  }
  if (response.status === 401) {
    location.assign("/login");
    throw new Error("Please sign in again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((data.error && data.error.message) || `Something went wrong (${response.status}).`);
  }
  return data;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(node, text) {
  node.textContent = text;
}

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
}

// --- the memory page ------------------------------------------------------------------------------------

const KINDS = [["person", "People"], ["fact", "About you"], ["preference", "What you like"],
               ["event", "What happened"], ["plan", "Plans"]];
let memories = [];

async function loadMemory() {
  try {
    const data = await api("GET", "/api/memory");
    memories = data.items.filter((item) => item.kind !== "vocabulary");  // shown under "Your words"
    if (data.name) document.title = `What ${data.name} remembers · OS1`;
    renderMemories();
    renderWords(data.vocabulary);
  } catch (e) {
    say($("status"), e.message);
  }
}

function renderMemories() {
  const query = $("filter").value.trim().toLowerCase();
  const shown = memories.filter((item) => !query || item.text.toLowerCase().includes(query));
  const groups = $("groups");
  groups.replaceChildren();
  const known = new Set(KINDS.map(([kind]) => kind));
  const extra = [...new Set(shown.map((item) => item.kind).filter((kind) => !known.has(kind)))];
  for (const [kind, title] of [...KINDS, ...extra.map((kind) => [kind, kind])]) {
    const mine = shown.filter((item) => item.kind === kind);
    if (!mine.length) continue;
    groups.append(el("h3", { textContent: title }),
                  el("ul", { className: "list memories" }, ...mine.map(memoryLine)));
  }
  $("empty").hidden = memories.length > 0;
  $("nomatch").hidden = !(memories.length > 0 && shown.length === 0);
}

function memoryLine(item) {
  const li = el("li", { className: "item" + (item.until ? " past" : "") });
  const when = item.until ? `from ${day(item.since)} until ${day(item.until)}; no longer true`
                          : `since ${day(item.since)}`;
  const edit = el("button", { className: "quiet", type: "button", textContent: "edit" });
  const forget = el("button", { className: "quiet", type: "button", textContent: "forget" });
  const actions = el("div", { className: "actions" }, edit, forget);
  li.append(el("p", { className: "text", textContent: item.text }), el("p", { className: "meta", textContent: when }),
            actions);
  edit.addEventListener("click", () => editMemory(li, item));
  forget.addEventListener("click", () => confirmInside(li, actions,
    "Forget this, with what you said about it and what I answered?", () => forgetMemory(item)));
  return li;
}

function editMemory(li, item) {
  const box = el("textarea", { value: item.text, maxLength: 1000, rows: 3 });
  box.setAttribute("aria-label", "The memory, in your words");
  const save = el("button", { className: "solid", type: "button", textContent: "Save" });
  const cancel = el("button", { className: "quiet", type: "button", textContent: "cancel" });
  const note = el("p", { className: "status" });
  note.setAttribute("aria-live", "polite");
  li.replaceChildren(box, el("div", { className: "actions" }, cancel, save), note);
  box.focus();
  const done = () => li.replaceWith(memoryLine(item));
  const store = async () => {
    save.disabled = true;
    try {
      const data = await api("PATCH", `/api/memory/items/${item.id}`, { text: box.value });
      Object.assign(item, data.item);
      done();
    } catch (e) {
      say(note, e.message);
      save.disabled = false;
    }
  };
  cancel.addEventListener("click", done);
  save.addEventListener("click", store);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") done();
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); store(); }
  });
}

function confirmInside(li, actions, question, onYes) {
  const yes = el("button", { className: "solid warn", type: "button", textContent: "Forget" });
  const no = el("button", { className: "quiet", type: "button", textContent: "keep it" });
  const ask = el("div", { className: "confirm" }, el("p", { textContent: question }),
                 el("div", { className: "actions" }, no, yes));
  actions.replaceWith(ask);
  no.focus();
  no.addEventListener("click", () => ask.replaceWith(actions));
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await onYes();
    } catch (e) {
      ask.replaceWith(actions);
      li.append(el("p", { className: "status", textContent: e.message }));
    }
  });
}

function forgotten(report) {
  const parts = [];
  if (report.items) parts.push(`${report.items} ${report.items === 1 ? "memory" : "memories"}`);
  if (report.turns) parts.push(`${report.turns} ${report.turns === 1 ? "line" : "lines"} of our conversations`);
  if (report.terms) parts.push(`${report.terms} of your words`);
  if (report.profile) parts.push(`${report.profile} of your answers`);
  return parts.length ? `Forgotten: ${parts.join(", ")}.` : "I didn't have anything about that to forget.";
}

async function forgetMemory(item) {
  const data = await api("DELETE", `/api/memory/items/${item.id}`);
  await loadMemory();  // the list is right before the page says it is done
  say($("status"), forgotten(data.forgotten));
}

function renderWords(vocabulary) {
  const list = $("words");
  list.replaceChildren();
  for (const { term, meaning } of vocabulary) {
    const forget = el("button", { className: "quiet", type: "button", textContent: "forget" });
    const actions = el("div", { className: "actions" }, forget);
    const li = el("li", { className: "item" },
                  el("p", { className: "text" }, el("strong", { textContent: term }), ` — ${meaning}`), actions);
    forget.addEventListener("click", () => confirmInside(li, actions, `Forget the word “${term}”?`, async () => {
      const data = await api("DELETE", `/api/memory/vocabulary/${encodeURIComponent(term)}`);
      await loadMemory();
      say($("words-status"), forgotten(data.forgotten));
    }));
    list.append(li);
  }
  if (!vocabulary.length) list.append(el("li", { className: "soft", textContent: "None yet." }));
}

function setUpMemoryPage() {
  $("filter").addEventListener("input", renderMemories);
  $("teach").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await api("POST", "/api/memory/vocabulary", { term: $("term").value, meaning: $("meaning").value });
      say($("words-status"), `I'll remember that ${$("term").value.trim()} means ${$("meaning").value.trim()}.`);
      $("term").value = "";
      $("meaning").value = "";
      renderWords(data.vocabulary);
    } catch (e) {
      say($("words-status"), e.message);
    }
  });
  const confirmBox = $("forget-confirm");
  $("forget").addEventListener("submit", (event) => {
    event.preventDefault();
    const topic = $("topic").value.trim();
    if (!topic) return;
    say($("forget-question"), `Forget everything that mentions “${topic}”? This can't be undone.`);
    say($("forget-status"), "");
    confirmBox.hidden = false;
    $("forget-no").focus();
  });
  $("forget-no").addEventListener("click", () => { confirmBox.hidden = true; });
  $("forget-yes").addEventListener("click", async () => {
    $("forget-yes").disabled = true;
    try {
      const data = await api("POST", "/api/memory/forget", { topic: $("topic").value });
      $("topic").value = "";
      await loadMemory();
      say($("forget-status"), forgotten(data.forgotten));
    } catch (e) {
      say($("forget-status"), e.message);
    } finally {
      confirmBox.hidden = true;
      $("forget-yes").disabled = false;
    }
  });
  loadMemory();
}

// --- the settings page ----------------------------------------------------------------------------------

function showSettings(data) {
  $("name-input").value = data.name;
  $("name-input").disabled = !data.name;
  if (!data.name) say($("name-status"), "I'll choose my name at the end of our first conversation.");
  const choices = data.voice.choices.slice();
  if (!choices.some((voice) => voice.id === data.voice.current)) {
    choices.unshift({ id: data.voice.current, label: `${data.voice.current} (not installed)`, disabled: true });
  }
  $("voices").replaceChildren(...choices.map((voice) => {
    const radio = el("input", { type: "radio", name: "voice", value: voice.id,
                                checked: voice.id === data.voice.current, disabled: !!voice.disabled });
    return el("label", {}, radio, voice.label);
  }));
  $("no-voices").hidden = data.voice.choices.length > 0;
  $("voice-save").disabled = data.voice.choices.length === 0;
  say($("model-current"), data.model.current);
  $("model-form").hidden = !data.model.changeable;
  $("model-locked").hidden = data.model.changeable;
  $("backends").replaceChildren(...data.model.backends.map((b) => el("option", { value: b.prefix })));
  $("backend-list").replaceChildren(...data.model.backends.map(
    (b) => el("li", {}, el("strong", { textContent: b.prefix }), ` — ${b.description}`)));
}

function settingsForm(formId, statusId, body, done) {
  $(formId).addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $(formId).querySelector("button[type=submit]");
    const change = body();
    if (change === null) return;
    button.disabled = true;
    say($(statusId), change.model ? "Loading the model… this can take a while." : "");
    try {
      const data = await api("POST", "/api/settings", change);
      showSettings(data);
      say($(statusId), done(data));
    } catch (e) {
      say($(statusId), e.message);
    } finally {
      button.disabled = false;
    }
  });
}

// The key for other apps is shown once, in the answer that made it; afterwards only its hint and date.
function showKeyState(data) {
  say($("key-url"), data.base_url);
  say($("key-state"), data.exists
    ? `You have a key (${data.hint}…${data.created ? `, made ${day(data.created)}` : ""}).`
    : "You have no key yet.");
  $("key-new").textContent = data.exists ? "Make a new key (the old one stops working)" : "Make a key";
}

function setUpKeyAndAccount() {
  api("GET", "/api/key").then(showKeyState).catch((e) => say($("key-status"), e.message));
  $("key-copy").addEventListener("click", async () => {
    $("key").select();
    try {
      await navigator.clipboard.writeText($("key").value);
      say($("key-status"), "Copied.");
    } catch (e) {
      say($("key-status"), "Select it and copy it yourself: the browser would not let me.");
    }
  });
  $("key-new").addEventListener("click", async () => {
    try {
      const data = await api("POST", "/api/key");
      showKeyState(data);
      $("key").value = data.key;
      $("key-made").hidden = false;
      $("key").select();
      say($("key-status"), "Here is your new key; any older one no longer works.");
    } catch (e) {
      say($("key-status"), e.message);
    }
  });
  $("sign-out").addEventListener("click", async () => {
    try {
      await api("POST", "/logout");
      location.assign("/login");
    } catch (e) {
      say($("status"), e.message);
    }
  });
  say($("key-url"), `${location.origin}/v1`);
  api("GET", "/api/me").then((me) => {
    $("account").hidden = !me.accounts;
    say($("account-name"), me.user);
  }).catch(() => {});
}

async function setUpSettingsPage() {
  setUpKeyAndAccount();
  settingsForm("name-form", "name-status", () => ({ name: $("name-input").value }),
               (data) => `From now on, I'm ${data.name}.`);
  settingsForm("voice-form", "voice-status", () => {
    const chosen = $("voices").querySelector("input:checked");
    return chosen ? { voice: chosen.value } : null;
  }, () => "Done. I'll speak with that voice.");
  settingsForm("model-form", "model-status", () => ({ model: $("model-input").value }),
               (data) => `Now I think with ${data.model.current}.`);
  try {
    showSettings(await api("GET", "/api/settings"));
  } catch (e) {
    say($("status"), e.message);
  }
}

if (document.body.dataset.page === "memory") setUpMemoryPage();
if (document.body.dataset.page === "settings") setUpSettingsPage();
