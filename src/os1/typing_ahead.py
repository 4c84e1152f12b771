"""Getting ready while the user types, as the voice does while they speak: the words typed so far are recalled
for and read by the model, so the reply to the line, once sent, only waits for what was typed last.

A local model reads some 40 tokens a second (the default 1.5B on one thread), and a line's reply must first
read its memory note and the line: a second and more. The page sends what is in its text box as the user types
(`draft`, when they pause or finish a word); `TypingAhead` prepares the reply to it (`Companion.prepare`), one
preparation at a time, the newest draft taken up when one ends. When the line is sent, `take` hands the
preparation to `Companion.say` if it was made for the start of that line. Memories are recalled again only
when the words have doubled since the last recall (each new set makes the model read the changed note again).
Only for a model that reads ahead (`LLM.reads_ahead`): a remote one has nothing to gain.
"""

from __future__ import annotations

import asyncio
import contextlib

from os1.companion import Companion, Prepared, clean_input, memories_still_serve
from os1.errors import OS1Error

COVERED = 0.5
"""A preparation serves a line only if it was made for at least this share of the line's words."""


class TypingAhead:
    """One conversation's drafts; `update` as the user types, `take` when they send the line."""

    def __init__(self, companion: Companion) -> None:
        self.companion = companion
        self._latest = ""
        self._task: asyncio.Task[None] | None = None
        self._prepared: Prepared | None = None
        self._recalled_at = 0
        self.preparations = 0
        """Preparations made so far (each a recall or a reading by the model)."""

    @property
    def useful(self) -> bool:
        """Whether preparing helps this conversation's model."""
        return self.companion.llm.reads_ahead

    def update(self, text: str) -> None:
        """The draft is now `text` (a hint: it is taken up when the preparation in progress ends)."""
        if not self.useful:
            return
        self._latest = text
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                words = clean_input(self._latest)
            except OS1Error:  # nothing but spaces: nothing to prepare
                return
            if self._prepared is not None and self._prepared.text == words:
                return
            await self._prepare(words)

    async def _prepare(self, words: str) -> None:
        last = self._prepared if self._serves(self._prepared, words) else None
        count = len(words.split())
        keep = last if last is not None and memories_still_serve(count, self._recalled_at) else None
        prepared = None
        with contextlib.suppress(OS1Error):  # a hint only: the reply works without it
            prepared = await self.companion.prepare(words, keep=keep, spoken=False)
        self.preparations += 1
        if prepared is None:
            self._latest = ""  # nothing to prepare for (first boot, a rename…): wait for the next draft
            return
        if keep is None:
            self._recalled_at = count
        self._prepared = prepared

    @staticmethod
    def _serves(prepared: Prepared | None, text: str) -> bool:
        """Whether `prepared` was made for the start of `text`, and for enough of it."""
        if prepared is None or not text.startswith(prepared.text):
            return False
        return len(prepared.text.split()) >= COVERED * len(text.split())

    async def take(self, text: str) -> Prepared | None:
        """The line `text` was sent: the preparation for it, if one was made for its start (else None, and the
        reply recalls for the whole line). Drafts start afresh."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()  # the model's reading so far is kept; a reply goes ahead of a reading anyway
            with contextlib.suppress(asyncio.CancelledError):
                await task
        prepared, self._prepared, self._latest, self._recalled_at = self._prepared, None, "", 0
        try:
            line = clean_input(text)
        except OS1Error:
            return None
        return prepared if self._serves(prepared, line) else None

    def close(self) -> None:
        """Stop preparing (the conversation ends)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
