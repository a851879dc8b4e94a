"""The plan's texts that may name facts, and the communication a decision carries.

A text of the plan catalogues (a warning, a message's subject or text) is fixed when it names
only parameters, and is filled from a decision's facts otherwise. A decision's communication
is the selected plan with its stakeholders, messages and post-mortem; it depends only on the
ids the tables selected and the values its messages name, so the policy's runtime remembers
each communication, message and text by exactly those (:func:`communication`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from rollback_decision._models import built, every_field
from rollback_decision.decision import Communication, Message
from rollback_decision.policy.templates import Template
from rollback_decision.runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.policy.plan import PlanCatalogue

__all__ = ["Communicate", "PlanMessage", "PlanText", "communicator", "fact_or_parameter"]

# The field names the models built here share (see rollback_decision._models).
_EVERY_COMMUNICATION_FIELD = every_field(Communication)
_EVERY_MESSAGE_FIELD = every_field(Message)


@dataclass(frozen=True)
class PlanText:
    """A text that is either fixed (``template`` None) or filled from the facts."""

    text: str
    template: Template | None

    def render(self, values: Callable[[str], Any]) -> str:
        if self.template is None:
            return self.text
        return self.template.render({n: values(n) for n in self.template.names})


@dataclass(frozen=True)
class PlanMessage:
    id: str
    title: str
    channel: str
    section: str
    subject: PlanText | None
    text: PlanText

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The facts and parameters its texts name."""
        return tuple(
            n for t in (self.subject, self.text) if t and t.template for n in t.template.names
        )


_NAMES = attrgetter("names")


def fact_or_parameter(
    facts: Mapping[str, Any], parameters: Mapping[str, Any]
) -> Callable[[str], Any]:
    """How a text reads a name: the fact, else the parameter."""
    return lambda name: facts[name] if name in facts else parameters[name]


#: What :func:`communicator` gives: a decision's communication from its facts.
Communicate = Callable[[Mapping[str, Any]], Communication | None]


def communicator(catalogue: PlanCatalogue, runtime: Runtime | None) -> Communicate:
    """The communication the tables selected (None: no communication plan) as a function of
    the facts, remembered by ``runtime`` (if given) per selection and the values its messages
    name; the memos it reads are bound once."""
    if runtime is None:

        def afresh(facts: Mapping[str, Any]) -> Communication | None:
            selected = _selection(facts)
            if selected is None:
                return None
            value = fact_or_parameter(facts, catalogue.parameters)
            return _communication(catalogue, *selected, value)

        return afresh

    entries = catalogue.messages
    # The messages fix which values their texts name (and in which order): the key. A
    # parameter's value is the catalogue's own (``get`` reads None for it unless a fact has
    # its name); facts are hashable. The names of a selection of messages are remembered.
    names_memo, memo = runtime.memos["plan.message_names"], runtime.memos["plan.communication"]
    names_of, found_by = names_memo.reader, memo.reader

    def remembered(facts: Mapping[str, Any]) -> Communication | None:
        selected = _selection(facts)
        if selected is None:
            return None
        messages = selected[2]
        names: tuple[str, ...] | None = names_of(messages)
        if names is None:
            names = names_memo.put(
                messages,
                tuple(chain.from_iterable(map(_NAMES, map(entries.__getitem__, messages)))),
            )
        key = (*selected, *map(facts.get, names))
        found: Communication | None = found_by(key)
        if found is None:
            found = memo.put(key, _remembered(catalogue, facts, runtime, *selected))
        return found

    return remembered


#: What the tables selected for a communication: its plan and the ids of its stakeholder
#: groups, messages and post-mortems.
_Selection = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _selection(facts: Mapping[str, Any]) -> _Selection | None:
    """The communication the facts select (None: no communication plan)."""
    get = facts.get
    plans: Sequence[str] = get("communication_plan") or ()
    if not plans:
        return None
    return (
        plans[0],
        tuple(get("notify_stakeholders") or ()),
        tuple(get("notify_messages") or ()),
        tuple(get("post_mortem") or ()),
    )


def _remembered(
    catalogue: PlanCatalogue,
    facts: Mapping[str, Any],
    runtime: Runtime,
    plan: str,
    stakeholders: Sequence[str],
    messages: Sequence[str],
    post_mortems: Sequence[str],
) -> Communication:
    """A communication not remembered: its messages and texts each made once (a function of
    its own, so that the closures' cells are made only here)."""
    get = facts.get
    entries = catalogue.messages
    value = fact_or_parameter(facts, catalogue.parameters)
    # Many communications share a message with the same values, and many messages a text
    # (a subject may name what the text does not): each is made once.
    rendered, texts = runtime.memos["plan.messages"], runtime.memos["plan.texts"]

    def text(t: PlanText) -> str:
        if t.template is None:
            return t.text
        # by its text (a str hashes once; the PlanText's dataclass hash is Python code):
        # a text fixes its template, so equal texts render equal with equal values
        text_key = (t.text, *map(get, t.template.names))
        done: str | None = texts.reader(text_key)
        return done if done is not None else texts.put(text_key, t.render(value))

    def message(i: str) -> Message:
        entry = entries[i]
        message_key = (i, *map(get, entry.names))
        done: Message | None = rendered.reader(message_key)
        return done or rendered.put(message_key, _message(entry, value, text))

    return _communication(catalogue, plan, stakeholders, messages, post_mortems, value, message)


def _communication(
    catalogue: PlanCatalogue,
    plan: str,
    stakeholders: Sequence[str],
    messages: Sequence[str],
    post_mortems: Sequence[str],
    value: Callable[[str], Any],
    message: Callable[[str], Message] | None = None,
) -> Communication:
    render = message or (lambda i: _message(catalogue.messages[i], value))
    fields = {
        **catalogue.communication_plans[plan],
        "stakeholders": [catalogue.stakeholder_groups[i] for i in stakeholders],
        "messages": [render(i) for i in messages],
        "post_mortem": catalogue.post_mortems[post_mortems[0]] if post_mortems else None,
    }
    return built(Communication, fields, _EVERY_COMMUNICATION_FIELD)


def _message(
    message: PlanMessage,
    value: Callable[[str], Any],
    text: Callable[[PlanText], str] | None = None,
) -> Message:
    render = text or (lambda t: t.render(value))
    fields = {
        "id": message.id,
        "title": message.title,
        "channel": message.channel,
        "section": message.section,
        "subject": render(message.subject) if message.subject else None,
        "text": render(message.text),
    }
    return built(Message, fields, _EVERY_MESSAGE_FIELD)
