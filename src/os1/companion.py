"""The per-user conversation: first boot, context assembly, the streamed reply, durable turns."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from os1.context import Budget, Context, build_context, fit_memories, history_budget, turns_in_view
from os1.errors import InputError, ModelError, OS1Error
from os1.events import (
    CompanionEvent,
    Confirm,
    ContextShown,
    ErrorEvent,
    Notice,
    Prompt,
    Renamed,
    ReplyDelta,
    ReplyDone,
    ReplyStarted,
    TurnStored,
)
from os1.llm.base import LLM, Message, Tool, ToolCall
from os1.memory.api import Memory, fewer_own
from os1.memory.store import Turn, TurnStatus, UserStore, now
from os1.persona import Onboarding, choose_name
from os1.persona.onboarding import intro, messages
from os1.persona.prompts import context_note, system_prompt
from os1.skills.base import SkillContext
from os1.skills.executor import TOOL_GUIDANCE, Executor
from os1.skills.remembering import rename
from os1.skills.timers import ringing

Recall = Callable[[str], Awaitable[list[str]]]
"""Given the user's words, the memories worth having in mind (most relevant first)."""
Route = Literal["onboarding", "skill", "reply"]
"""What the OS does with a line: answer a first-boot question, run a skill (a new name, forgetting, a timer…, or
the answer to a skill's question), or reply."""
Preview = Callable[[str], None]
"""Sees each piece of a reply the moment the model makes it, before it is stored or shown."""

HISTORY_TURNS = 80
SPOKEN_WORDS = 45
"""A spoken reply ends at the first sentence end after this many words (about 15 seconds of speech)."""
SPOKEN_REPLY_TOKENS = 120
"""The most tokens a spoken reply may take, should no sentence end come."""
_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[a-z])(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?…]+[\"'”’)]*\s*$")


def enough_for_speech(text: str) -> bool:
    """Whether a spoken reply may end here: long enough, and at the end of a sentence."""
    return len(text.split()) >= SPOKEN_WORDS and bool(_SENTENCE_END.search(text))


def clean_input(text: str) -> str:
    """Text safe to store: no NULs, no lone surrogates, outer whitespace stripped."""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    if not text:
        raise InputError("Nothing to send: the message is empty.")
    return text


@dataclass(frozen=True, slots=True)
class Prepared:
    """A reply made ready while the user was still speaking (see `Companion.prepare`)."""

    text: str
    """What the user had said so far."""
    memories: tuple[str, ...]
    """What was recalled for it."""
    history: tuple[Turn, ...]
    """The turns the context was built from."""
    when: datetime
    """The time the context note gives."""


TOOL_ROUNDS = 4
"""The most rounds of tool calls a model may make in one answer."""
RING_CHECK_S = 300.0
"""The longest `Companion.rings` waits before looking at the user's timers again."""
PREPARED_FOR_S = 120.0
"""How long a preparation stays usable: the note's time would be wrong after that."""
RECALL_FROM_WORDS = 3
"""Memories are recalled for the words so far once there are this many (and again when they double)."""


def memories_still_serve(words: int, recalled_at: int) -> bool:
    """Whether the memories recalled when the words so far numbered `recalled_at` still serve `words` words:
    until they double (each new set of memories makes the model read the changed note again)."""
    return words < 2 * max(RECALL_FROM_WORDS, recalled_at)


@dataclass(frozen=True, slots=True)
class _TurnState:
    """What one turn reads once and uses several times."""

    system: str
    """The system prompt (persona and profile)."""
    terms: dict[str, str]
    """The user's own words and what they mean."""


class _Pump:
    """Runs a model's stream ahead of its reader: the reply is being made, and previewed, while nobody reads it
    yet (the user's turn is not over, or speech synthesis is busy)."""

    def __init__(self, source: AsyncGenerator[str, None], preview: Preview | None) -> None:
        self._pieces: list[str] = []
        self._end: BaseException | None = None
        self._ended = False
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(source, preview))

    async def _run(self, source: AsyncGenerator[str, None], preview: Preview | None) -> None:
        try:
            async with aclosing(source) as deltas:
                async for delta in deltas:
                    if preview is not None:
                        preview(delta)
                    self._pieces.append(delta)
                    self._ready.set()
        except Exception as exc:  # raised again in the reader
            self._end = exc
        finally:
            self._ended = True
            self._ready.set()

    async def deltas(self, *, joined: bool = True) -> AsyncIterator[str]:
        """The reply's pieces in order. `joined`: those that came while the reader was away as one (a model that
        sends a burst, a reply made ahead), so one event, one frame, one send for them; else one by one (a spoken
        reply may end after any piece). The model's error is raised here, after the pieces that came before it."""
        while True:
            if not self._pieces and not self._ended:
                self._ready.clear()
                await self._ready.wait()
            if self._pieces:
                count = len(self._pieces) if joined else 1
                text, self._pieces = "".join(self._pieces[:count]), self._pieces[count:]
                yield text
            elif self._end is not None:
                raise self._end
            else:
                return

    async def aclose(self) -> None:
        """Stop the model (a no-op once it has finished)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _quietly(reading: Awaitable[None]) -> None:
    """Await a model's reading ahead, a hint: its failure (or a model closed meanwhile) is the next reply's."""
    with contextlib.suppress(OS1Error, RuntimeError):
        await reading


def gap_words(seconds: float) -> str:
    """`3 days`, `2 weeks`… for a welcome back after a while; '' when it was recent."""
    days = int(seconds // 86400)
    if days < 1:
        return ""
    if days < 14:
        return f"{days} day{'s' if days > 1 else ''}"
    if days < 60:
        return f"{days // 7} weeks"
    return f"{days // 30} months"


class Companion:
    """One user's OS: it onboards them, then answers, storing every turn before it replies."""

    def __init__(self, store: UserStore, llm: LLM, *, max_reply_tokens: int = 256,
                 temperature: float = 0.7, recall: Recall | None = None, memory: Memory | None = None,
                 flush_seconds: float = 0.5, recall_k: int = 8, voice_llm: LLM | None = None,
                 skills: Executor | None = None) -> None:
        self.store = store
        self.skills = skills
        """Runs the skills a line asks for (`skills/executor.py`); None: the OS only talks."""
        self.llm = llm
        self.voice_llm = voice_llm
        """What writes spoken replies and reads ahead while the user speaks (`llm/relay.py`); None: `llm`."""
        self.memory = memory
        self.recall_k = recall_k
        self.max_reply_tokens = max_reply_tokens
        self.temperature = temperature
        self.recall = recall
        self.flush_seconds = flush_seconds
        self._history_from = 0
        """The id of the history window's first turn, kept while it fits (`context.window_start`)."""
        self.read_ahead = True
        """After a typed reply, the model reads the finished exchange while the user writes the next line, so
        the next reply reads only the new line and its memory note."""
        self._reading: asyncio.Future[None] | None = None
        self.session_id: int | None = None
        self._timers_changed = asyncio.Event()
        """Set (and replaced) when a skill may have set or cancelled a timer: `rings` looks again."""
        self._timers_version = 0
        """Counts those moments, for a `rings` that was not waiting when one came."""
        self._listeners: list[Callable[[Notice], Awaitable[None]]] = []
        self._ringer: asyncio.Task[None] | None = None
        """Runs `rings` for the listeners, only while there are listeners and pending timers."""
        self._outside_turn: int | None = None
        """The user turn whose answer brought outside text (a page, a tool's result) into the model's view: while
        it is in the history window, changes a model asks for wait for the user's yes (`Executor.needs_yes`)."""
        self.store.recover_streaming()

    @property
    def name(self) -> str:
        """The OS's name ('' before first boot completes)."""
        return self.store.get("os.name")

    @property
    def user_name(self) -> str:
        """What the OS calls the user."""
        return self.store.get("user.name")

    def onboarding(self) -> Onboarding:
        """First-boot state from the answers stored so far."""
        return Onboarding(self.store.profile())

    def warm_up(self) -> None:
        """A conversation opens and the user is about to write or speak: have the model read the persona and the
        conversation so far now, in a task (a local model's first reply of a session otherwise reads them all,
        10 s and more for the default brain). Quietly, only past first boot and for a model that reads ahead."""
        if self.read_ahead and self.llm.reads_ahead and self.onboarding().next_question() is None:
            self._read_ahead()

    def opening(self, at: datetime | None = None) -> list[CompanionEvent]:
        """What the OS says when a conversation opens: the first-boot questions, or welcome back."""
        question = self.onboarding().next_question()
        if question is not None:
            started = any(k.startswith("user.") for k in self.store.profile())
            lines = [] if started else intro()
            return [Prompt(line) for line in [*lines, question.prompt]]
        last = self.store.recent_turns(1)
        gap = gap_words(((at or now()) - last[0].created_at).total_seconds()) if last else ""
        text = messages()["welcome_back_gap" if gap else "welcome_back"]
        return [ReplyDelta(text.format(user_name=self.user_name, gap=gap))]

    def start_session(self, at: datetime | None = None) -> int:
        """Begin a conversation session (turns carry its id)."""
        self.session_id = self.store.start_session(at)
        return self.session_id

    def route(self, text: str) -> Route:
        """What `say` would do with `text` (raises `InputError` on an empty line once onboarding is over)."""
        if self.onboarding().next_question() is not None:
            return "onboarding"
        cleaned = clean_input(text)
        if self.skills is not None and self.skills.pending:
            return "skill"  # a question of a skill's is answered first
        if self.skills is not None and not self.llm.can_call_tools and self.skills.claims(cleaned):
            return "skill"  # a model that calls tools chooses skills itself
        return "reply"

    async def say(self, text: str, *, at: datetime | None = None, prepared: Prepared | None = None,
                  commit: Awaitable[bool] | None = None, preview: Preview | None = None,
                  amend: int | None = None, show_context: bool = False,
                  spoken: bool = False) -> AsyncGenerator[CompanionEvent, None]:
        """Everything the OS does with one line from the user.

        With `commit`, the reply is speculative until it resolves: the model starts at once (its pieces go to
        `preview`), but nothing is stored or yielded until `commit` gives True; on False nothing happened at all.
        Lines that act (a new name, forgetting…) simply wait for it. `prepared` is `prepare`'s result for the
        words said so far. `amend`: the id of the user's last turn, which `text` continues and replaces (a model
        reply only; the turns after it are left out of the context). `show_context`: a model reply is preceded
        by `ContextShown`, the messages the model was given. `spoken`: the reply will be heard, not read: it
        ends at a sentence once it is long enough (`enough_for_speech`).

        A `TurnStored` or a finished `ReplyDone` comes only once what it reports is on disk (`UserStore.synced`).
        """
        async with aclosing(self._say(text, at, prepared, commit, preview, amend, show_context, spoken)) as events:
            async for event in events:
                finished = isinstance(event, ReplyDone) and event.status == "complete"
                if isinstance(event, TurnStored) or finished:
                    await self.store.synced()
                yield event
                question = self.skills.confirming if finished and self.skills is not None else ""
                if question:
                    yield Confirm(question)
                if finished and not spoken and self.read_ahead and self.llm.reads_ahead:  # a voice: `prepare`
                    self._read_ahead()

    async def _say(self, text: str, at: datetime | None, prepared: Prepared | None, commit: Awaitable[bool] | None,
                   preview: Preview | None, amend: int | None, show_context: bool,
                   spoken: bool) -> AsyncGenerator[CompanionEvent, None]:
        route = self.route(text)
        if route != "reply" and commit is not None and not await commit:
            return
        if route == "onboarding":
            for event in self._onboard(text, at):
                yield event
            return
        cleaned = clean_input(text)
        if self.skills is not None and route == "skill":
            for event in await self._skill(self.skills, cleaned, at):
                yield event
            return
        async with aclosing(self.respond(cleaned, at=at, prepared=prepared, commit=commit, preview=preview,
                                         amend=amend, show_context=show_context, spoken=spoken)) as events:
            async for event in events:
                yield event

    async def prepare(self, partial: str, *, keep: Prepared | None = None, memory_tokens: int | None = None,
                      amend: int | None = None, spoken: bool = True) -> Prepared | None:
        """Get ready to answer while the user is still speaking (or typing: `spoken=False`, and the model that
        answers typed lines reads it): recall for the words said so far and have the
        model evaluate the context up to them, so the reply starts the moment they stop. With no words yet,
        the persona and history are evaluated. `keep`: an earlier preparation of this turn whose memories
        still serve (recalling anew changes the context, which then costs more to evaluate). `memory_tokens`
        caps what recalled memories may take (each token is read before the reply can start); `amend` is as for
        `say`. None when there
        is nothing to reuse, or the words would not get a model reply (onboarding, a rename…)."""
        try:
            route = self.route(partial if partial.strip() else "…")  # "…": only onboarding stops an empty one
        except InputError:
            return None
        if route != "reply":
            return None
        history = self._history(amend)
        turn = self._turn()
        speaker = (self.voice_llm or self.llm) if spoken else self.llm
        if not partial.strip():
            await _quietly(speaker.prepare(self._history_messages(history, turn)))
            return None
        text = clean_input(partial)
        kept = self._usable(keep, amend)
        if kept is not None:
            memories = list(kept.memories)
        else:
            memories = await self._recall(text, None, self._in_view(history, text, turn), turn)
            if memory_tokens is not None:
                memories = fit_memories(memories, memory_tokens, self.llm.count_tokens)
        when = kept.when if kept is not None else now()
        context = self._context(text, memories, history, when, turn)
        await speaker.prepare(context.messages)
        return Prepared(text, tuple(memories), tuple(history), when)

    def _history_messages(self, history: list[Turn], turn: _TurnState) -> list[Message]:
        """The persona and the conversation so far, as the next reply's context begins."""
        return self._context("…", [], history, now(), turn).messages[:-2]

    def _read_ahead(self) -> None:
        """Have the model read the finished exchange while the user writes. What it reads is gathered now, while
        the store is surely open (a script may close it right after the reply); the model reads it in a task."""
        messages = self._history_messages(self._history(), self._turn())
        self._reading = asyncio.ensure_future(_quietly(self.llm.prepare(messages)))

    def _history(self, amend: int | None = None) -> list[Turn]:
        """The recent turns the context is built from; before the turn being amended when there is one."""
        turns = self.store.recent_turns(HISTORY_TURNS)
        return turns if amend is None else [t for t in turns if t.id < amend]

    def _usable(self, prepared: Prepared | None, amend: int | None = None) -> Prepared | None:
        """`prepared` if the conversation has not moved on since it was made (same last turn, recent)."""
        if prepared is None or (now() - prepared.when).total_seconds() > PREPARED_FOR_S:
            return None
        latest = self.store.recent_turns(1) if amend is None else self._history(amend)[-1:]
        same = (latest[-1].id if latest else None) == (prepared.history[-1].id if prepared.history else None)
        return prepared if same else None

    def amend(self, turn_id: int, text: str) -> None:
        """Replace what the user said in a stored turn (they went on after a pause that seemed to end it)."""
        self.store.update_turn(turn_id, clean_input(text), "complete")
        if self.memory is not None:
            self.memory.index_turn(turn_id)

    def _onboard(self, text: str, at: datetime | None) -> list[CompanionEvent]:
        """Answer the pending first-boot question; after the last, the OS names itself."""
        state = self.onboarding()
        question = state.next_question()
        assert question is not None
        try:
            value = state.answer(question, text.replace("\x00", ""))
        except InputError as exc:
            return [Prompt(exc.message)]
        self.store.set(question.key, value)
        following = state.next_question()
        if following is not None:
            return [Prompt(following.prompt)]
        choice = choose_name(self.store.profile())
        self.store.set("os.name", choice.name)
        self.store.set("os.name_reason", choice.reason)
        greeting = f"Hi {self.user_name}. I'm {choice.name}. {choice.reason} So, how are you?"
        turn_id = self._store("assistant", greeting, at)
        return [Prompt(messages()["initialising"]), Renamed(choice.name), ReplyDelta(greeting),
                ReplyDone(greeting, turn_id, "complete")]

    def rename(self, new_name: str) -> str:
        """Give the OS a new name; returns what it says about it."""
        return rename(self.store, new_name)

    def _store(self, role: Literal["user", "assistant"], text: str, at: datetime | None,
               status: TurnStatus = "complete") -> int:
        """A durable turn (a reply's streaming placeholder is made durable by its finished text), indexed in
        memory when there is one."""
        speaker = self.user_name if role == "user" else self.name
        if self.memory is not None:
            return self.memory.remember(text, speaker=speaker, role=role, at=at, session_id=self.session_id,
                                        status=status)
        with self.store.transaction(durable=status != "streaming"):
            return self.store.add_turn(role, text, session_id=self.session_id, status=status, at=at,
                                       speaker=speaker)

    def _exchange(self, said: str, reply: str, at: datetime | None, *, recallable: bool = True,
                  user_turn: int | None = None) -> list[CompanionEvent]:
        """Store a turn (unless stored already, `user_turn`) and a reply the OS gives without the model; a reply
        that only repeats memories or data is kept but not indexed (else it would be recalled as a memory of
        its own)."""
        if user_turn is None:
            user_turn = self._store("user", said, at)
        if recallable or self.memory is None:
            turn_id = self._store("assistant", reply, at)
        else:
            turn_id = self.memory.keep(reply, speaker=self.name, at=at, session_id=self.session_id)
        return [TurnStored(user_turn, said), ReplyDelta(reply), ReplyDone(reply, turn_id, "complete")]

    async def _skill(self, skills: Executor, text: str, at: datetime | None) -> list[CompanionEvent]:
        """Run the skill the line asks for; the line is stored before it runs, its answer kept but not indexed."""
        user_turn = self._store("user", text, at)
        name = self.name
        reply = await skills.run(text, SkillContext(self.store, at or now(), memory=self.memory))
        self._skill_ran()
        events = self._exchange(text, reply, at, recallable=False, user_turn=user_turn)
        return events if self.name == name else [events[0], Renamed(self.name), *events[1:]]

    def _skill_ran(self) -> None:
        """A skill may have set or cancelled a timer: the ringer looks again."""
        self._timers_version += 1
        self._timers_changed.set()
        self._timers_changed = asyncio.Event()
        self._start_ringer()

    async def _tool_turn(self, skills: Executor, llm: LLM, messages: list[Message], tools: list[Tool],
                         user_turn: int, at: datetime | None, max_tokens: int) -> AsyncGenerator[str, None]:
        """A reply by a model that calls tools: its words stream; each round's calls run through the executor
        and their results go back to it, up to `TOOL_ROUNDS`; a call that needs the user's yes ends the reply
        with the question (the user's next line answers it)."""
        if messages and messages[0].role == "system":
            messages = [Message("system", messages[0].content + "\n\n" + TOOL_GUIDANCE), *messages[1:]]
        context = SkillContext(self.store, at or now(), memory=self.memory)
        tainted = self._outside_turn is not None and self._outside_turn >= self._history_from
        for _ in range(TOOL_ROUNDS):
            said: list[str] = []
            calls: list[ToolCall] = []
            async with aclosing(llm.stream_turn(messages, tools, max_tokens=max_tokens,
                                                temperature=self.temperature)) as pieces:
                async for piece in pieces:
                    if isinstance(piece, ToolCall):
                        calls.append(piece)
                    else:
                        said.append(piece)
                        yield piece
            if not calls:
                return
            messages = [*messages, Message("assistant", "".join(said), tool_calls=tuple(calls))]
            question = ""
            for call in calls:
                outcome = await skills.tool(call, context, tainted=tainted)
                if outcome.untrusted:
                    tainted, self._outside_turn = True, user_turn
                if outcome.ran:
                    self._skill_ran()
                question = question or outcome.question
                messages.append(Message("tool", outcome.content, tool_call_id=call.id))
            if question:
                yield ("\n\n" if "".join(said).strip() else "") + question
                return
        yield " I stopped there: that took more steps than I take for one answer."

    def listen(self, deliver: Callable[[Notice], Awaitable[None]]) -> Callable[[], None]:
        """Have `deliver` (a surface: a socket, the terminal) get each of this user's timers and alarms as it
        goes off, while it is open; returns what to call when it closes. Every open surface gets each one.
        Costs nothing while the user has no pending timer: the task that waits for them (`rings`) runs only
        while there are listeners and timers."""
        self._listeners.append(deliver)
        self._start_ringer()

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(deliver)
            if not self._listeners and self._ringer is not None:
                self._ringer.cancel()
                self._ringer = None

        return stop

    def _start_ringer(self) -> None:
        if self._listeners and (self._ringer is None or self._ringer.done()) and self.store.timers():
            self._ringer = asyncio.ensure_future(self._ring())

    async def _ring(self) -> None:
        async for notice in self.rings():
            for deliver in list(self._listeners):
                with contextlib.suppress(Exception):  # a surface that went away misses it; the others do not
                    await deliver(notice)

    async def rings(self) -> AsyncIterator[Notice]:
        """Each of this user's timers and alarms as it goes off, as a `Notice` (one that fell due while OS1
        was not running at once, saying so); it ends when none is pending. Each goes off once, however many
        iterate (`UserStore.ring`). It looks again when a skill runs here, and about every `RING_CHECK_S`
        (for one set or cancelled through another process)."""
        while True:
            current, seen = now(), self._timers_version
            pending = self.store.timers()
            if not pending:
                return
            for timer in pending:
                if timer.due_at <= current and self.store.ring(timer.id, current):
                    yield Notice(ringing(timer, current))
            later = [t.due_at for t in pending if t.due_at > current]
            check = RING_CHECK_S * random.uniform(0.75, 1.25)  # thousands of sessions opened together spread out
            wait = min([check, *((d - current).total_seconds() for d in later)])
            if seen != self._timers_version or not later:
                continue  # a skill ran while the listener was away (at a yield), or all that was due has rung
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._timers_changed.wait(), max(0.0, wait))

    async def respond(self, text: str, *, at: datetime | None = None, prepared: Prepared | None = None,
                      commit: Awaitable[bool] | None = None, preview: Preview | None = None,
                      amend: int | None = None, show_context: bool = False,
                      spoken: bool = False) -> AsyncGenerator[CompanionEvent, None]:
        """Store the user's turn, then stream the model's reply, storing it as it grows.

        Closing this generator or cancelling its task stops the model and stores the partial reply
        as 'interrupted'. `prepared`, `commit`, `preview`, `amend`, `show_context` and `spoken` are as for `say`.
        """
        text = clean_input(text)
        hold = self.memory.replying() if self.memory else contextlib.nullcontext()
        async with hold, aclosing(self._respond(text, at, self._usable(prepared, amend), commit, preview,
                                                amend, show_context, spoken)) as events:
            async for event in events:
                yield event

    async def _respond(self, text: str, at: datetime | None, prepared: Prepared | None, commit: Awaitable[bool] | None,
                       preview: Preview | None, amend: int | None, show_context: bool = False,
                       spoken: bool = False) -> AsyncGenerator[CompanionEvent, None]:
        history = list(prepared.history) if prepared else self._history(amend)
        turn = self._turn()
        user_turn = None
        if commit is None:
            user_turn = self._keep_said(text, at, amend)
            yield TurnStored(user_turn, text)
        if prepared is not None:
            memories = list(prepared.memories)
        else:
            in_view = self._in_view(history, text, turn) | ({user_turn} if user_turn else set())
            memories = await self._recall(text, at, in_view, turn)
        context = self._context(text, memories, history, prepared.when if prepared else at or now(), turn)
        max_tokens = min(self.max_reply_tokens, SPOKEN_REPLY_TOKENS) if spoken else self.max_reply_tokens
        llm = self.voice_llm if spoken and self.voice_llm is not None else self.llm
        chooser = self.skills if llm.can_call_tools else None
        tools = chooser.tools() if chooser is not None else []
        if tools and commit is not None:  # skills must not run for words the user may still take back
            if not await commit:
                return
            commit, user_turn = None, self._keep_said(text, at, amend)
            yield TurnStored(user_turn, text)
        if chooser is not None and tools and user_turn is not None:
            source = self._tool_turn(chooser, llm, context.messages, tools, user_turn, at, max_tokens)
        else:
            source = llm.stream(context.messages, max_tokens=max_tokens, temperature=self.temperature)
        pump = _Pump(source, preview)
        try:
            if commit is not None:
                if not await commit:
                    return
                yield TurnStored(self._keep_said(text, at, amend), text)
            if show_context:
                yield ContextShown(tuple(context.messages))
            if context.trimmed_input:
                yield Notice(f"Your message is long ({len(text):,} characters): I kept all of it, "
                             "but I can only read the beginning at once.")
            async with aclosing(self._stream_reply(pump.deltas(joined=not spoken), at, spoken)) as events:
                async for event in events:
                    yield event
        finally:
            await pump.aclose()

    async def preview_context(self, text: str, *, at: datetime | None = None) -> tuple[Message, ...]:
        """Exactly the messages the model would read if the user said `text` now (history, the memory note with
        its recalled lines, the user's words), without storing anything or asking the model."""
        text = clean_input(text)
        history, turn = self._history(), self._turn()
        memories = await self._recall(text, at, self._in_view(history, text, turn), turn)
        return tuple(self._context(text, memories, history, at or now(), turn).messages)

    def _keep_said(self, text: str, at: datetime | None, amend: int | None) -> int:
        """Store the user's words (durably, before any answer): a new turn, or the amended one."""
        if amend is None:
            return self._store("user", text, at)
        self.amend(amend, text)
        return amend

    def _turn(self) -> _TurnState:
        """The persona and the user's vocabulary, read once for everything one turn (or preparation) builds."""
        return _TurnState(system_prompt(self.store.profile()), self.memory.vocabulary() if self.memory else {})

    def _context(self, text: str, memories: list[str], history: list[Turn], when: datetime,
                 turn: _TurnState) -> Context:
        """What the model reads: persona, history, the note (time, memories), then the user's words."""
        context = build_context(
            system=turn.system, note=lambda kept: context_note(when, kept), memories=memories, history=history,
            user_text=self.memory.read(text, turn.terms) if self.memory else text,
            budget=Budget(self.llm.context_tokens, self.max_reply_tokens), count=self.llm.count_tokens,
            history_from=self._history_from)
        self._history_from = context.history_from
        return context

    def _in_view(self, history: list[Turn], text: str, turn: _TurnState) -> set[int]:
        """Turns the context will show anyway (recall need not repeat them)."""
        room = history_budget(turn.system, text, Budget(self.llm.context_tokens, self.max_reply_tokens),
                              self.llm.count_tokens)
        since = [t for t in history if t.id >= self._history_from]
        return {t.id for t in turns_in_view(since, room, self.llm.count_tokens)}

    async def _recall(self, text: str, at: datetime | None, in_view: set[int], turn: _TurnState) -> list[str]:
        """Memories for the context slot, leaving out turns the history already shows."""
        if self.recall is not None:
            return await self.recall(text)
        if self.memory is None:
            return []
        words = self.memory.read(text, turn.terms)
        terms = [f"{term} is {meaning}." for term, meaning in turn.terms.items()
                 if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", words)]
        found = await self.memory.recall(words, k=self.recall_k + min(len(in_view), 40), at=at)
        fresh = fewer_own([r for r in found if r.kind != "turn" or not set(r.turn_ids) <= in_view])  # items say more
        return terms + [r.render() for r in fresh][: self.recall_k]

    async def _stream_reply(self, deltas: AsyncIterator[str], at: datetime | None,
                            spoken: bool = False) -> AsyncGenerator[CompanionEvent, None]:
        reply_id = self._store("assistant", "", at, status="streaming")
        parts: list[str] = []
        status: TurnStatus = "interrupted"
        failure: ModelError | None = None
        flushed = time.monotonic()
        try:
            yield ReplyStarted(reply_id)
            async for delta in deltas:
                parts.append(delta)
                yield ReplyDelta(delta)
                if spoken and enough_for_speech("".join(parts)):
                    break  # the model is stopped when the reply's pump closes
                if time.monotonic() - flushed >= self.flush_seconds:
                    with self.store.transaction(durable=False):  # the finished reply is stored durably
                        self.store.update_turn(reply_id, "".join(parts), "streaming")
                    flushed = time.monotonic()
            status = "complete"
        except ModelError as exc:
            status, failure = "failed", exc
        finally:
            self._finish(reply_id, "".join(parts), status)
        if failure is not None:
            yield ErrorEvent(failure.code, failure.friendly())
            return
        yield ReplyDone("".join(parts).strip(), reply_id, status)

    def _finish(self, reply_id: int, text: str, status: TurnStatus) -> None:
        """Store the reply as it ended; a reply stopped or failed before its first word leaves no row."""
        if status != "complete" and not text.strip():
            self.store.delete_turn(reply_id)
            return
        with self.store.transaction():
            self.store.update_turn(reply_id, text.strip(), status)
            if self.memory is not None and status == "complete":
                self.memory.index_turn(reply_id)  # not `new`: a voice's speculative reply may be there already

    def truncate_reply(self, turn_id: int, spoken: str) -> None:
        """Keep only the words of a reply that were actually heard (the user cut in), marked interrupted."""
        if not spoken.strip():
            self.store.delete_turn(turn_id)
            return
        self.store.update_turn(turn_id, spoken.strip(), "interrupted")
        if self.memory is not None:
            self.memory.index_turn(turn_id)

    def history(self, limit: int = 20) -> list[Turn]:
        """The latest turns, oldest first."""
        return self.store.recent_turns(limit)
