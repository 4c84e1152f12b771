"""Two models as one voice: the quick one's first words, then the main one continuing from them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from os1.errors import ConfigError
from os1.events import ReplyDone
from os1.llm.base import LLM, Message
from os1.llm.relay import Relay, opening, voice_model
from os1.testing import FakeLLM
from tests.test_companion import onboarded


class Continuing(FakeLLM):
    """A scripted main model that continues a last assistant message, and records what it was asked."""

    def __init__(self, replies: Sequence[str] = ()) -> None:
        super().__init__(replies)
        self.can_continue = True
        self.file_bytes = 1_117_320_768
        self.prepared: list[list[Message]] = []

    async def prepare(self, messages: Sequence[Message]) -> None:
        self.prepared.append(list(messages))


def test_opening_is_the_first_two_whole_words() -> None:
    assert opening("Oh,") is None
    assert opening("Oh, that") is None  # "that" may still be "that's"
    assert opening("Oh, that sou") == "Oh, that"
    assert opening(" Yes.") == "Yes."
    assert opening("Hi!") == "Hi!"


async def test_the_quick_model_begins_and_the_main_one_goes_on_from_its_words() -> None:
    quick = FakeLLM(["Oh, that sounds like a long story about something else"])
    main = Continuing([" sounds like a hard day. What happened?"])
    relay = Relay(main, lambda: quick)
    asked = [Message("system", "You are Samantha."), Message("user", "I had a long day at work.")]
    reply = "".join([delta async for delta in relay.stream(asked, max_tokens=64)])
    assert reply == "Oh, that sounds like a hard day. What happened?"
    other = Relay(Continuing([" goes on."]), lambda: FakeLLM(["Well then, it"]))
    pieces = [delta async for delta in other.stream(asked)]
    assert pieces[0] == "Well then, "  # whole: a voice can speak it before the main model's first word
    assert quick.cancelled == 1  # stopped after its two words
    assert main.calls[-1] == [*asked, Message("assistant", "Oh, that ")]  # continued, not answered


async def test_without_the_quick_model_the_main_one_answers_alone() -> None:
    main = Continuing(["I'm here."])
    relay = Relay(main, lambda: FakeLLM(fail="unavailable"))
    asked = [Message("user", "Are you there?")]
    assert "".join([d async for d in relay.stream(asked)]) == "I'm here."
    assert main.calls[-1] == asked


def test_only_a_large_local_model_that_can_continue_gets_a_relay() -> None:
    assert isinstance(voice_model(Continuing(), FakeLLM), Relay)
    small = Continuing()
    small.file_bytes = 100_000_000
    assert voice_model(small, FakeLLM) is None
    assert voice_model(FakeLLM(), FakeLLM) is None  # an API model answers as it is
    with pytest.raises(ConfigError):
        Relay(FakeLLM(), FakeLLM)


async def test_spoken_replies_use_the_voice_model_and_typed_ones_the_main(store) -> None:
    main = Continuing()
    companion = await onboarded(store, main)
    quick = FakeLLM(["Well, hello there"])
    companion.voice_llm = Relay(main, lambda: quick)
    main.enqueue(" it is good to hear you.")
    spoken = [e async for e in companion.say("Hello again", spoken=True)]
    assert spoken[-1] == ReplyDone("Well, hello it is good to hear you.", spoken[-1].turn_id, "complete")
    main.enqueue("Typed back.")
    typed = [e async for e in companion.say("Hello in writing")]
    assert typed[-1].text == "Typed back." and len(quick.calls) == 1
    await companion.prepare("I was thinking")
    assert main.prepared[-1][-1].content.endswith("I was thinking")  # a voice reads ahead with the relay


@pytest.mark.real_model
async def test_the_local_model_continues_a_reply_it_did_not_begin(embedded_settings) -> None:
    from os1.llm import get_model

    model: LLM = get_model("tiny", embedded_settings)
    assert model.can_continue
    asked = [Message("system", "You are a kind friend. Answer in one short sentence."),
             Message("user", "What colour is the sky on a clear day?"), Message("assistant", "The sky is")]
    text = "".join([d async for d in model.stream(asked, max_tokens=12, temperature=0.0)])
    assert text.strip() and "<|im_start|>" not in text and "assistant" not in text.lower()
    assert not text.lstrip().lower().startswith("the sky is")  # it goes on, it does not start again
