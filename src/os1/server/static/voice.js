// Voice for the OS1 page (protocol v1, docs/protocol.md). A tap on the microphone starts hands-free listening:
// the server's VAD finds each turn and the OS answers aloud; the user can cut in and it stops. Hold to talk
// (the button, or the space bar) is the fallback; the text box always works. No build step, no dependencies.
//
// Capture: getUserMedia (echo cancellation on, so the OS does not hear itself) → the "os1-capture" worklet →
// 16 kHz mono Int16 frames of 64 ms → binary WebSocket frames. Playback: binary frames of s16le at the rate of
// `voice_ready` → the "os1-player" worklet, which plays them back to back; `audio_stop` empties it at once.
// `?mic=raw` turns echo cancellation, noise suppression and gain control off (a headset, or tests feeding a file).
"use strict";

window.OS1Voice = (() => {
  const mic = $("mic"), modeButton = $("mode"), heard = $("heard");
  const raw = new URLSearchParams(location.search).get("mic") === "raw";
  const LOOKS = { starting: "thinking", listening: "listening", user_speaking: "hearing", thinking: "thinking",
                  speaking: "speaking", off: "idle" };
  const WORDS = { starting: "getting ready to listen", listening: "listening", user_speaking: "hearing you",
                  thinking: "thinking", speaking: "speaking", off: "here" };
  const stats = { sent: 0, received: 0, samples: 0, played: 0, stops: 0 };
  let ctx = null, stream = null, source = null, capture = null, player = null;
  let on = false, holding = false, mode = "hands_free", rate = 22050, state = "off", flushed = null;

  function send(frame) {
    if (frame.byteLength && socket && socket.readyState === WebSocket.OPEN) { socket.send(frame); stats.sent++; }
  }

  async function open() {  // the first tap: an audio context (it needs a gesture) and the two worklets
    if (ctx) return;
    ctx = new AudioContext({ latencyHint: "interactive" });
    await ctx.audioWorklet.addModule("/static/voice-worklet.js");
    player = new AudioWorkletNode(ctx, "os1-player", { numberOfInputs: 0, outputChannelCount: [1] });
    player.port.onmessage = (e) => { stats.played = e.data.played; };
    player.connect(ctx.destination);
    capture = new AudioWorkletNode(ctx, "os1-capture", { processorOptions: { rate: 16000, frame: 1024 },
                                                          outputChannelCount: [1] });
    capture.port.onmessage = (e) => {
      if (e.data.last ? flushed !== null : on && (mode === "hands_free" || holding)) send(e.data.pcm);
      if (e.data.last && flushed) { const then = flushed; flushed = null; then(); }
    };
    capture.connect(ctx.destination);  // outputs silence; being connected keeps it processing
  }

  async function listen() {  // the microphone, at its own rate (the worklet resamples)
    if (stream) return;
    stream = await navigator.mediaDevices.getUserMedia({ audio: {
      channelCount: 1, echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw } });
    source = ctx.createMediaStreamSource(stream);
    source.connect(capture);
  }

  function release() {  // the microphone off (its indicator too); the context stays for the OS's last words
    if (source) source.disconnect();
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = source = null;
  }

  function flush(then) {  // send what the worklet holds, then `then` (no word is cut off)
    flushed = then;
    capture.port.postMessage("flush");
  }

  async function start() {
    try {
      await open();
      await ctx.resume();
      await listen();
    } catch (err) {
      status.textContent = `The microphone is not available (${err.message || err.name}); you can still type.`;
      release();
      return false;
    }
    on = true;
    emit("audio_start", { rate: 16000, format: "s16le", mode });
    show();
    return true;
  }

  function stop() {
    if (!on) return;
    flush(() => { emit("audio_end", {}); });
    on = holding = false;
    release();
    show();
  }

  function quiet() {  // the user takes the floor: the OS stops at once, here and on the server
    if (player) player.port.postMessage({ stop: true });
    if (state === "speaking" || state === "thinking") emit("cancel", {});
  }

  async function press() {  // hold to talk
    if (holding) return;
    holding = true;
    if (!on && !(await start())) { holding = false; return; }
    quiet();
    show();
  }

  function letGo() {
    if (!holding) return;
    holding = false;
    flush(() => emit("end_turn", {}));
    show();
  }

  function show() {
    mic.setAttribute("aria-pressed", String(on));
    mic.classList.toggle("on", on);
    mic.classList.toggle("holding", holding);
    mic.setAttribute("aria-label", mode === "hands_free" ? (on ? "Stop listening" : "Talk (hands-free)")
                                                         : "Hold to talk (or hold the space bar)");
    modeButton.textContent = mode === "hands_free" ? "hands-free" : "hold to talk";
    if (on) look(state);
  }

  function look(voiceState) {  // the presence follows the voice while it is on
    setState(LOOKS[voiceState] || "idle");
    presence.setAttribute("aria-label", `${osName} is ${WORDS[voiceState] || "here"}`);
    document.body.dataset.voice = voiceState;
  }

  const heardLines = new Map();

  function event(e) {  // every JSON event, after app.js has handled it
    switch (e.type) {
      case "ready":
        if (on) emit("audio_start", { rate: 16000, format: "s16le", mode });  // a new session after a reconnect
        break;
      case "voice_ready":
        rate = e.rate;
        break;
      case "voice_state":
        state = e.state;
        if (state === "off" && on) { on = holding = false; release(); show(); }  // the server stopped listening
        break;
      case "audio_stop":
        if (player) player.port.postMessage({ stop: true });
        stats.stops++;
        break;
      case "transcript":
        heard.textContent = e.text;
        if (e.turn_id === null) addLine("You", e.text, "you");
        else setTurn(e.turn_id, "You", e.text, "you");
        break;
    }
    if (on || state !== "off" || e.type === "voice_state") look(state);  // over app.js's own reply states
  }

  function audio(data) {  // a binary frame: the OS's speech
    stats.received++;
    stats.samples += data.byteLength / 2;
    if (player) player.port.postMessage({ pcm: data, rate }, [data]);
  }

  function closed() {  // the socket dropped; `ready` on the next one starts the voice again
    state = "off";
    if (player) player.port.postMessage({ stop: true });
  }

  mic.addEventListener("click", () => {
    if (mode !== "hands_free") return;
    if (on) stop(); else start();
  });
  mic.addEventListener("pointerdown", (e) => { if (mode === "push_to_talk") { e.preventDefault(); press(); } });
  for (const kind of ["pointerup", "pointerleave", "pointercancel"]) mic.addEventListener(kind, letGo);
  modeButton.addEventListener("click", () => {
    mode = mode === "hands_free" ? "push_to_talk" : "hands_free";
    modeButton.blur();  // the space bar talks now, rather than pressing this button again
    holding = false;
    if (on) emit("audio_start", { rate: 16000, format: "s16le", mode });
    show();
  });
  const typing = (e) => e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement
                        || e.target instanceof HTMLButtonElement;
  document.addEventListener("keydown", (e) => {
    if (e.code !== "Space" || mode !== "push_to_talk" || typing(e)) return;
    e.preventDefault();
    if (!e.repeat) press();
  });
  document.addEventListener("keyup", (e) => {
    if (e.code === "Space" && mode === "push_to_talk" && !typing(e)) { e.preventDefault(); letGo(); }
  });
  show();

  return { stats, event, audio, closed, start, stop, get state() { return state; } };
})();
