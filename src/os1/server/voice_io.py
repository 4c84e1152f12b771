"""The voice's edges on the socket, pure apart from the clock: `SocketSink`, a model of what the page is playing,
and the page's presence.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

from os1.server.protocol import Presence
from os1.speech.audio import Audio, Samples, resample, rms_dbfs, to_pcm16
from os1.speech.loop import ECHO_WINDOW_S, Sink

OUT_BYTES = 16 * 1024
"""The largest binary frame of speech sent (8192 samples, 0.37 s at 22.05 kHz)."""
KEEP_S = 1.0
"""Speech the sink keeps after it has played, past the echo window (memory stays bounded)."""


def presence(*, user_speaking: bool, replying: bool, playing: bool) -> Presence:
    """The page's presence: the OS's voice first, then its thinking, then the user's voice."""
    if playing:
        return "speaking"
    if replying:
        return "thinking"
    return "user_speaking" if user_speaking else "listening"


class SocketSink(Sink):
    """Speech to the browser: PCM sent at once, and a model, on the wall clock, of what the page is playing.

    The page plays each piece right after what it already has, so a piece queued at `t` starts at
    max(t, the end of the queue), as on a `TimelineSink` whose clock is real time. `stop` cuts the model where it
    is now and calls `on_stop` (the page is told to drop its queue) when anything was still to be heard.
    """

    def __init__(self, rate: int, send: Callable[[bytes], None], on_stop: Callable[[], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._send, self._on_stop, self._clock = send, on_stop, clock
        self._parts: deque[tuple[float, Samples]] = deque()
        self._end = self._reply_start = clock()
        self._first = True
        self.replies = 0
        """Replies begun (`begin` calls)."""
        self.stops = 0
        """Times the loop stopped the speech (`stop` calls)."""

    def play(self, audio: Audio) -> None:
        samples = resample(audio, self.rate).samples
        if not len(samples):
            return
        now = self._clock()
        start = max(now, self._end)
        if self._first:
            self._reply_start, self._first = start, False
        self._parts.append((start, samples))
        self._end = start + len(samples) / self.rate
        while self._parts and self._parts[0][0] + len(self._parts[0][1]) / self.rate < now - ECHO_WINDOW_S - KEEP_S:
            self._parts.popleft()
        pcm = to_pcm16(Audio(samples, self.rate))
        for at in range(0, len(pcm), OUT_BYTES):
            self._send(pcm[at: at + OUT_BYTES])

    def begin(self) -> None:
        self._first = True
        self._reply_start = max(self._clock(), self._end)
        self.replies += 1

    def stop(self) -> None:
        now = self._clock()
        self.stops += 1
        if self._end <= now:
            return
        self._parts = deque((start, samples[: max(0, int((now - start) * self.rate))])
                            for start, samples in self._parts if start < now)
        self._end = now
        self._on_stop()

    def played(self) -> float:
        return max(0.0, min(self._clock(), self._end) - self._reply_start)

    def playing(self) -> bool:
        return self._end > self._clock()

    def level(self) -> float:
        now = self._clock()
        window = np.zeros(int(ECHO_WINDOW_S * self.rate), dtype=np.float32)
        begin = now - ECHO_WINDOW_S
        for start, samples in self._parts:
            lo = max(0, int((begin - start) * self.rate))
            hi = min(len(samples), int((now - start) * self.rate))
            if hi > lo:
                at = max(0, int((start - begin) * self.rate))
                piece = samples[lo:hi][: len(window) - at]
                window[at: at + len(piece)] += piece
        return rms_dbfs(window)
