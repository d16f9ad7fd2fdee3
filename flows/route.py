"""The referral route as a python-statemachine chart built from the question catalogue.

Each question is a state of the compound state ``asking``. ``advance`` leaves a question for the
next question that applies: its transitions list the following questions in order, each guarded by
that question's condition, up to the first unconditional one (or ``review``), so the chart holds
exactly the forks of the form and no more. ``back`` mirrors it. ``edit``, ``restart`` and ``cancel``
are declared once on the enclosing ``dialogue`` state and so work from every question and from the
summary; ``submit`` leaves only the summary. The dialogue drives the chart; the chart decides
where it may go.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from statemachine import StateChart
from statemachine.io import create_machine_class_from_definition

from flows.question import Question

REVIEW = "review"
SUBMITTED = "submitted"
CANCELLED = "cancelled"


def _state_id(value: str) -> str:
    """Chart ids must be identifiers; field ids have hyphens."""
    return "q_" + value.replace("-", "_")


def _applies(question: Question) -> Callable[..., bool]:
    def cond(model: Any) -> bool:
        return question.applies(model.values())

    cond.__name__ = f"applies_{_state_id(question.id)}"
    return cond


def _requested(question: Question) -> Callable[..., bool]:
    def cond(field: str = "") -> bool:
        return field == question.id

    cond.__name__ = f"requested_{_state_id(question.id)}"
    return cond


def _guarded_chain(candidates: Sequence[Question], end: str | None) -> list[dict[str, Any]]:
    """Transitions to the first applicable candidate, stopping at the first unconditional one."""
    transitions: list[dict[str, Any]] = []
    for question in candidates:
        if question.when is None:
            transitions.append({"target": _state_id(question.id)})
            return transitions
        transitions.append({"target": _state_id(question.id), "cond": _applies(question)})
    if end is not None:
        transitions.append({"target": end})
    return transitions


def chart_definition(questions: Sequence[Question]) -> dict[str, Any]:
    """The states and transitions of the route, as python-statemachine's dict definition."""
    asking: dict[str, Any] = {}
    for index, question in enumerate(questions):
        state: dict[str, Any] = {"value": question.id, "name": question.summary}
        if index == 0:
            state["initial"] = True
        events = {"advance": _guarded_chain(questions[index + 1 :], REVIEW)}
        back = _guarded_chain(list(reversed(questions[:index])), None)
        if back:
            events["back"] = back
        state["on"] = events
        asking[_state_id(question.id)] = state
    return {
        "dialogue": {
            "initial": True,
            "states": {
                "asking": {"initial": True, "states": asking},
                REVIEW: {
                    "value": REVIEW,
                    "on": {
                        "back": _guarded_chain(list(reversed(questions)), None),
                        "submit": [{"target": SUBMITTED}],
                    },
                },
            },
            "on": {
                "edit": [
                    {"target": _state_id(q.id), "cond": _requested(q)} for q in questions
                ],
                "restart": [{"target": _state_id(questions[0].id)}],
                "cancel": [{"target": CANCELLED}],
            },
        },
        SUBMITTED: {"value": SUBMITTED, "final": True},
        CANCELLED: {"value": CANCELLED, "final": True},
    }


@lru_cache(maxsize=4)
def chart_class(questions: tuple[Question, ...]) -> type[StateChart]:
    """Build the chart class once per catalogue (building it is the slow part)."""
    return create_machine_class_from_definition("ReferralRoute", states=chart_definition(questions))


class _ChartModel:
    """Adapts a DialogueState to the chart, which keeps its active leaf in ``state``.

    The adapter is re-pointed at each conversation in turn, so one chart instance serves them all.
    """

    def __init__(self, state: Any) -> None:
        self.bound = state

    def values(self) -> dict[str, Any]:
        return self.bound.values()

    @property
    def state(self) -> Any:
        return self.bound.current or None

    @state.setter
    def state(self, configuration: Any) -> None:
        self.bound.current = _leaf(configuration)


def _leaf(configuration: Any) -> str:
    """The chart reports the whole active configuration (dialogue, asking, leaf); keep the leaf."""
    if isinstance(configuration, str) or configuration is None:
        return configuration or ""
    return list(configuration)[-1]


@dataclass
class _Instance:
    chart: StateChart
    adapter: _ChartModel


_idle: dict[int, list[_Instance]] = {}
_idle_lock = threading.Lock()


@contextmanager
def _bound_chart(questions: tuple[Question, ...], state: Any) -> Iterator[StateChart]:
    """An idle chart instance, pointed at ``state`` for the duration of the block.

    Instantiating the chart resolves thousands of callbacks (about 0.1 s), far too slow to do per
    message; the chart reads its position from the model on every event, so an instance
    re-pointed at another conversation behaves exactly like a fresh one. Instances are pooled
    rather than kept per thread because web servers start a thread per request.
    """
    with _idle_lock:
        idle = _idle.setdefault(id(questions), [])
        instance = idle.pop() if idle else None
    if instance is None:
        adapter = _ChartModel(_Unbound())
        instance = _Instance(chart_class(questions)(model=adapter), adapter)
    instance.adapter.bound = state
    try:
        yield instance.chart
    finally:
        instance.adapter.bound = _Unbound()
        # a chart that reached a final state (submitted, cancelled) stops for good: drop it
        if not instance.chart.is_terminated:
            with _idle_lock:
                idle.append(instance)


@dataclass
class _Unbound:
    """Stands in for a conversation while the chart instance is first built."""

    current: str = ""

    def values(self) -> dict[str, Any]:
        return {}


class Route:
    """The chart bound to one conversation's state: move, then read where it stands."""

    def __init__(self, questions: tuple[Question, ...], model: Any) -> None:
        self._model = model
        self._questions = questions
        if not model.current:
            model.current = questions[0].id

    def send(self, event: str, **kwargs: Any) -> bool:
        """Fire an event; True when it moved the conversation."""
        before = self._model.current
        with _bound_chart(self._questions, self._model) as chart:
            chart.send(event, **kwargs)
        return self._model.current != before

    @property
    def position(self) -> str:
        return self._model.current


def route(questions: Sequence[Question], values: dict[str, Any]) -> list[Question]:
    """The questions on the route as it stands, given the answers so far."""
    return [q for q in questions if q.applies(values)]
