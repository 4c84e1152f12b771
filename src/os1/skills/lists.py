"""The user's lists and notes: "add oat milk to my shopping list", "what's on it?", "take a note that…".

Items live in the user's store (`list_items`), one row each, durable before the OS answers. A list is named by
the user's word for it ("shopping", "to-do", "vacation"); "the list" is the one used last (`lists.current` in the
profile), else the shopping list. Adding and removing can be undone.
"""

from __future__ import annotations

import re

from os1.skills.base import Done, Skill, SkillContext

CURRENT = "lists.current"
"""Profile key: the list "the list" means."""
DEFAULT_LIST = "shopping"
NOTES = "notes"
_SAME = {"grocery": "shopping", "groceries": "shopping", "grocery shopping": "shopping", "shopping": "shopping",
         "to do": "to-do", "todo": "to-do", "to-do": "to-do", "things to do": "to-do", "note": NOTES, NOTES: NOTES}
_NO_NAME = frozenset({"", "new", "me", "us", "you", "it", "this", "that", "one", "another"})
"""What "start a new list", "make a list for me" leave in the name's place."""
_LEADING = re.compile(r"^(?:(?:my|the|our|a|an|new|current|of)(?:\s+|$))+")


def list_name(context: SkillContext, said: str) -> str:
    """The list the user means by `said` ('' for "the list")."""
    name = _LEADING.sub("", said.strip().lower()).removesuffix(" list").strip()
    if not name or name in {"it", "this", "that", "list"}:
        return context.store.get(CURRENT) or DEFAULT_LIST
    return _SAME.get(name, name)


def _item(said: str) -> str:
    return re.sub(r"^(?:some|a|an)\s+", "", said.strip())


def _spoken(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _called(name: str) -> str:
    return "your notes" if name == NOTES else f"your {name} list"


def _taken_off(context: SkillContext, name: str, gone: list[tuple[int, str]], said: str) -> Done:
    """Delete these items of the list `name`; the undo puts them back."""
    store, texts = context.store, [text for _, text in gone]
    store.remove_list_items([item_id for item_id, _ in gone])

    def undo() -> str:
        for text in texts:
            store.add_list_item(name, text, context.at)
        return f"Okay, {_spoken(texts)} {'is' if len(texts) == 1 else 'are'} back on {_called(name)}."

    return Done(said, undo)


async def add_item(context: SkillContext, item: str, list: str = "") -> Done:
    """Put something on one of the user's lists."""
    name, thing = list_name(context, list), _item(item)
    store, before = context.store, context.store.get(CURRENT)
    item_id = store.add_list_item(name, thing, context.at)
    if name != NOTES:
        store.set(CURRENT, name)

    def undo() -> str:
        store.remove_list_items([item_id])
        store.set(CURRENT, before)
        return f"Okay, I took {thing} off {_called(name)} again."

    return Done(f"I've added {thing} to {_called(name)}." if name != NOTES else "Noted.", undo)


async def start_list(context: SkillContext, list: str) -> Done:
    """Start a new list: "the list" means it from now on."""
    if _LEADING.sub("", list.strip().lower()).removesuffix("list").strip() in _NO_NAME:
        return Done("What should I call the new list? Say \"start a list for …\".")
    name, store = list_name(context, list), context.store
    before = store.get(CURRENT)
    store.set(CURRENT, name)

    def undo() -> str:
        store.set(CURRENT, before)
        return f"Okay, no {name} list then."

    have = len(store.list_items(name))
    if have:
        return Done(f"You already have {_called(name)}, with {have} item{'s' if have > 1 else ''}: "
                    "I'll add to it.", undo)
    return Done(f"I've started {_called(name)}. What should go on it? Say \"add … to the list\".", undo)


async def take_note(context: SkillContext, note: str) -> Done:
    """Write down a note."""
    return await add_item(context, note, NOTES)


async def show_list(context: SkillContext, list: str = "") -> Done:
    """Read out one of the user's lists."""
    name = list_name(context, list)
    items = [text for _, text in context.store.list_items(name)]
    if not items:
        others = [n for n in context.store.list_names() if n != name]
        more = f" You have {'notes' if others == [NOTES] else 'lists: ' + _spoken(others)}." if others else ""
        return Done(f"{_called(name).capitalize()} is empty.{more}")
    if name == NOTES:
        return Done("Your notes:\n" + "\n".join(f"- {text}" for text in items))
    return Done(f"On {_called(name)}: {_spoken(items)}.")


async def show_notes(context: SkillContext) -> Done:
    """Read out the user's notes."""
    return await show_list(context, NOTES)


async def show_lists(context: SkillContext) -> Done:
    """Say which lists the user has."""
    names = [n for n in context.store.list_names() if n != NOTES]
    if not names:
        return Done("You don't have any lists yet. Tell me what to put on one.")
    return Done(f"You have {'a list' if len(names) == 1 else 'lists'}: {_spoken(names)}.")


async def remove_item(context: SkillContext, item: str, list: str = "") -> Done:
    """Take something off one of the user's lists."""
    name, thing = list_name(context, list), _item(item).lower()
    store = context.store
    items = store.list_items(name)
    gone = [(i, text) for i, text in items if text.lower() == thing] or \
           [(i, text) for i, text in items if thing in text.lower()]
    if not items:
        return Done(f"{_called(name).capitalize()} is already empty.")
    if not gone:
        return Done(f"I can't find {thing} on {_called(name)}. It has {_spoken([t for _, t in items])}.")
    return _taken_off(context, name, gone, f"I've taken {_spoken([t for _, t in gone])} off {_called(name)}.")


async def clear_list(context: SkillContext, list: str = "") -> Done:
    """Empty one of the user's lists."""
    name, store = list_name(context, list), context.store
    items = store.list_items(name)
    if not items:
        return Done(f"{_called(name).capitalize()} is already empty.")
    count = f"{len(items)} item{'s' if len(items) > 1 else ''}"
    return _taken_off(context, name, items, f"I've cleared {_called(name)} ({count}).")


LIST_WORDS = ("list", "lists", "groceries", "grocery", "shopping", "notes", "note", "item", "items", "todo",
              "to-do")
"""A line must hold one of these for the learnt classifier to call it a list skill."""
_ON = "(to|on|in|onto|into)"
_TAIL = "[please|for me|thanks|thank you]"
_ASK = "(read|show|tell|give|check|display|open|list|say|recite)"

SKILLS = (
    Skill("list_add", "Keep your lists: add something to one.", add_item, (
        f"* (add|put|include|append|write) {{item}} {_ON} [my|the|our] {{list}} list {_TAIL}",
        f"* (add|put|include|append|write) {{item}} {_ON} [my|the|our] list {_TAIL}",
        f"* (add|put|include|append) {{item}} {_ON} my {{list}} {_TAIL}",
        f"* [my|the] {{list}} list (add|put) {{item}} {_TAIL}",
        "* (i need|we need|we are out of|i am out of|we have run out of|we ran out of) {item} "
        f"(on|for|in) [my|the] {{list}} list {_TAIL}",
    ), "changes", LIST_WORDS, (("item", "What should I put on the list?"),)),
    Skill("list_start", "Start a new list.", start_list, (
        "* (make|create|start|begin|open) [me] [a|an] [new] {list} list [for me|please]",
        "* (make|create|start|begin|open) [me] [a|an] [new] list (for|of|called|named) [the|my] {list} "
        "[for me|please]",
    ), "changes", (), (("list", "What should I call the list?"),)),
    Skill("note_add", "Take notes for you.", take_note, (
        "* (take|make|write|jot) [down] [a] note [that|saying|of|to] {note}",
        "* note (that|down) {note}",
        "* (add|put) {note} (to|in) my notes",
    ), "changes"),
    Skill("list_show", "Read your lists back to you.", show_list, (
        f"* what is (on|in) [my|the] {{list}} list {_TAIL}",
        f"* what is (on|in) [my|the] list {_TAIL}",
        f"* what [do] i have (on|in) [my|the] {{list}} list {_TAIL}",
        f"* what [do] i have (on|in) [my|the] list {_TAIL}",
        f"* {_ASK} [me] [what is on] [my|the] {{list}} list [to me|back to me|out|again] {_TAIL}",
        f"* {_ASK} [me] [what is on] [my|the] list [to me|back to me|out|again] {_TAIL}",
        "* (is there|do i have) anything [left|else] (on|in) [my|the] {list} list *",
        "* (is there|do i have) anything [left|else] (on|in) [my|the] list *",
    ), "reads", LIST_WORDS),
    Skill("notes_show", "Read your notes back to you.", show_notes, (
        f"* {_ASK} [me] [all] my notes [to me|back to me|out|again] {_TAIL}",
        "* what (are|is in) my notes *",
        "* what notes do i have *",
    )),
    Skill("lists_show", "Tell you which lists you have.", show_lists, (
        "* what lists [do] i have *",
        f"* {_ASK} [me] [all] [of] my lists *",
        "* what are my [available] lists *",
        "* which lists (do i have|are there) *",
    )),
    Skill("list_remove", "Take things off your lists.", remove_item, (
        "* (remove|delete|take|cross|strike|erase|scratch) [the] {item} (from|off|off of|out of) [my|the|our] "
        f"{{list}} list {_TAIL}",
        f"* (remove|delete|take|cross|strike|erase|scratch) [the] {{item}} (from|off|off of|out of) [my|the|our] "
        f"list {_TAIL}",
    ), "changes", LIST_WORDS, (("item", "What should I take off the list?"),)),
    Skill("list_clear", "Clear a list.", clear_list, (
        f"* (clear|empty|wipe|clean|erase|delete|remove) [out] [all of] [my|the|our] {{list}} list {_TAIL}",
        f"* (clear|empty|wipe|clean|erase|delete|remove) [out] [all of] [my|the|our] list {_TAIL}",
        "* (clear|remove|delete) (everything|all items|all the items) (from|on|off) [my|the] {list} list *",
    ), "changes"),
)
