"""Context assembly within a token budget (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from os1.context import Budget, build_context, trim_to_tokens
from os1.memory.store import Turn


def count(text: str) -> int:
    return len(text.split()) or 1


def turn(i: int, role: str = "user", status: str = "complete", text: str | None = None) -> Turn:
    return Turn(i, role, text if text is not None else f"turn {i} " + "w " * 10, status,  # type: ignore[arg-type]
                datetime.now(UTC), 1)


def test_order_is_system_history_note_user() -> None:
    ctx = build_context(system="persona", note=lambda m: "note " + ";".join(m), memories=["amy is a friend"],
                        history=[turn(1), turn(2, "assistant")], user_text="hello",
                        budget=Budget(window=500, reply=50), count=count)
    roles = [m.role for m in ctx.messages]
    assert roles == ["system", "user", "assistant", "system", "user"]
    assert ctx.messages[0].content == "persona"
    assert "amy is a friend" in ctx.messages[3].content
    assert ctx.messages[-1].content == "hello" and not ctx.trimmed_input


def test_newest_history_is_kept_when_the_budget_is_short() -> None:
    history = [turn(i) for i in range(100)]
    ctx = build_context(system="s", note=lambda m: "n", memories=[], history=history, user_text="hi",
                        budget=Budget(window=200, reply=50, margin=0), count=count)
    kept = [m.content for m in ctx.messages[1:-2]]
    assert kept and kept[-1].startswith("turn 99")
    assert sum(count(k) + 4 for k in kept) <= 150


def test_huge_input_is_trimmed_and_flagged() -> None:
    text = "word " * 100_000
    ctx = build_context(system="s", note=lambda m: "n", memories=[], history=[], user_text=text,
                        budget=Budget(window=2048, reply=256), count=count)
    assert ctx.trimmed_input
    assert count(ctx.messages[-1].content) <= 2048 // 2


def test_interrupted_replies_are_marked_and_empty_ones_skipped() -> None:
    history = [turn(1, "assistant", "interrupted", "I was say"), turn(2, "assistant", "failed", "")]
    ctx = build_context(system="s", note=lambda m: "n", memories=[], history=history, user_text="x",
                        budget=Budget(window=500, reply=50), count=count)
    assert [m.content for m in ctx.messages[1:-2]] == ["I was say …"]


def test_trim_cuts_at_a_word_boundary() -> None:
    cut = trim_to_tokens("alpha " * 50, 20, lambda t: len(t) // 4)
    assert cut.endswith("alpha") and len(cut) // 4 <= 20 and set(cut.split()) == {"alpha"}
    assert trim_to_tokens("short", 10, count) == "short"


def test_the_history_window_moves_in_jumps_so_a_local_model_keeps_its_evaluated_prefix() -> None:
    """Dropping the oldest turn each time the window is full changes the context right after the persona, and a
    local model reads the whole history again every turn (35 s a reply with the 1.5B). The window's first turn
    stays put while everything since it fits, then jumps forward to leave room for many turns."""
    budget = Budget(window=300, reply=50, margin=0)
    history: list[Turn] = []
    start = 0
    starts = []
    for i in range(200):
        history.append(turn(i, "user" if i % 2 == 0 else "assistant"))
        ctx = build_context(system="s", note=lambda m: "n", memories=[], history=history, user_text="hi",
                            budget=budget, count=count, history_from=start)
        shown = [m.content for m in ctx.messages[1:-2]]
        assert shown[-1].startswith(f"turn {i} ")  # the newest turn is always there
        assert sum(count(k) + 4 for k in shown) <= budget.usable  # and everything fits
        first = int(shown[0].split()[1])
        assert first == ctx.history_from  # what it shows starts where it says
        starts.append(ctx.history_from)
        start = ctx.history_from
    assert len(set(starts)) <= 200 // 8  # it moved in jumps (dropping a turn a time: ~185 moves)
    assert starts == sorted(starts)
