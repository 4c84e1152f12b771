// AudioWorklet processors of the OS1 page (loaded by voice.js; a worklet must be a file of its own under the
// page's CSP): "os1-capture" turns the microphone into 16 kHz mono Int16 frames, "os1-player" plays the OS's
// speech gap-free at the context's rate and drops it the moment it is told to stop.
"use strict";

const PHASES = 256;  // fractional positions the filter is tabulated at
const ZEROS = 12;    // zero crossings of the filter on each side

// A streaming windowed-sinc resampler: blocks of any size in, the same signal at `to` Hz out, no seams.
class Resampler {
  constructor(from, to) {
    this.step = from / to;                              // input samples per output sample
    this.same = from === to;
    const cut = Math.min(1, to / from) * 0.94;          // low-pass just under the lower rate's Nyquist
    this.half = Math.ceil(ZEROS / cut);                 // taps on each side, in input samples
    const width = 2 * this.half;
    this.table = new Float32Array((PHASES + 1) * width);
    for (let p = 0; p <= PHASES; p++) {
      for (let j = 0; j < width; j++) {
        const x = j - this.half + 1 - p / PHASES;       // distance from the output position to input tap j
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * cut * x) / (Math.PI * cut * x);
        const w = 0.42 + 0.5 * Math.cos(Math.PI * x / this.half) + 0.08 * Math.cos(2 * Math.PI * x / this.half);
        this.table[p * width + j] = Math.abs(x) < this.half ? cut * sinc * w : 0;
      }
    }
    this.reset();
  }

  reset() {
    this.buf = new Float32Array(this.half);  // silence before the stream, so its first sample is centred
    this.pos = this.half;                    // input position of the next output sample
  }

  pending() { return this.buf.length > this.half; }

  push(input) {
    if (this.same) return Float32Array.from(input);
    const buf = new Float32Array(this.buf.length + input.length);
    buf.set(this.buf);
    buf.set(input, this.buf.length);
    const width = 2 * this.half, out = [];
    while (Math.floor(this.pos) + this.half < buf.length) {
      const base = Math.floor(this.pos), frac = this.pos - base;
      const row = Math.round(frac * PHASES) * width, first = base - this.half + 1;
      let sum = 0;
      for (let j = 0; j < width; j++) sum += buf[first + j] * this.table[row + j];
      out.push(sum);
      this.pos += this.step;
    }
    const keep = Math.max(0, Math.floor(this.pos) - this.half + 1);  // what the next outputs still reach
    this.buf = buf.slice(keep);
    this.pos -= keep;
    return Float32Array.from(out);
  }

  // The output still held back for lack of input after it (the end of a stream), then a fresh start.
  drain() {
    const tail = this.push(new Float32Array(2 * this.half));
    this.reset();
    return tail;
  }
}

class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = options.processorOptions || {};
    this.resampler = new Resampler(sampleRate, opts.rate || 16000);
    this.frame = new Int16Array(opts.frame || 1024);
    this.filled = 0;
    this.port.onmessage = (event) => { if (event.data === "flush") this.send(true); };
  }

  send(last) {
    const frame = this.frame.slice(0, this.filled);
    this.port.postMessage({ pcm: frame.buffer, last }, [frame.buffer]);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length) return true;
    let mono = channels[0];
    if (channels.length > 1) {
      mono = new Float32Array(mono.length);
      for (const ch of channels) for (let i = 0; i < ch.length; i++) mono[i] += ch[i] / channels.length;
    }
    for (const v of this.resampler.push(mono)) {
      this.frame[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
      if (this.filled === this.frame.length) this.send(false);
    }
    return true;
  }
}

class Player extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.resamplers = new Map();
    this.played = 0;   // samples of speech output so far
    this.since = 0;    // samples since the last report
    this.port.onmessage = (event) => this.take(event.data);
  }

  take(data) {
    if (data.stop) {
      this.queue = [];
      this.offset = 0;
      for (const r of this.resamplers.values()) r.reset();
      this.port.postMessage({ stopped: true, played: this.played / sampleRate });
      return;
    }
    const ints = new Int16Array(data.pcm), floats = new Float32Array(ints.length);
    for (let i = 0; i < ints.length; i++) floats[i] = ints[i] / 32768;
    if (!this.resamplers.has(data.rate)) this.resamplers.set(data.rate, new Resampler(data.rate, sampleRate));
    this.queue.push(this.resamplers.get(data.rate).push(floats));
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    let filled = 0;
    while (filled < out.length) {
      if (!this.queue.length) {
        const holding = [...this.resamplers.values()].filter((r) => r.pending());
        if (!holding.length) break;
        for (const r of holding) this.queue.push(r.drain());  // the speech ended: play its last samples too
        continue;
      }
      const head = this.queue[0], take = Math.min(out.length - filled, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
      if (this.offset === head.length) { this.queue.shift(); this.offset = 0; }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.played += filled;
    this.since += out.length;
    if (this.since >= sampleRate / 4) {
      this.since = 0;
      this.port.postMessage({ played: this.played / sampleRate, busy: this.queue.length > 0 });
    }
    return true;
  }
}

registerProcessor("os1-capture", Capture);
registerProcessor("os1-player", Player);
