"""The referral route: a chart declared once from the question catalogue, walked per message.

Each question is a state of the compound state ``asking``. ``advance`` leaves a question for the
next question that applies: its transitions list the following questions in order, each guarded by
that question's condition, up to the first unconditional one (or ``review``), so the chart holds
exactly the forks of the form and no more. ``back`` mirrors it. ``edit``, ``restart`` and ``cancel``
are declared once on the enclosing ``dialogue`` state and so work from every question and from the
summary; ``submit`` leaves only the summary. The dialogue drives the chart; the chart decides
where it may go.

The chart is declared as data (:func:`route_chart`) and given to python-statemachine in its dict
form (:func:`chart_definition`, :func:`chart_class`: the library checks and draws it, and the tests
run it as the reference). A message walks the same declaration through :class:`Route`, which
takes, from the current state and then from the states enclosing it, the first transition of the
event whose guard holds, as the library's engine does: the engine's processing loop costs more
than a whole dialogue step, and ``edit`` is looked up by field rather than by trying 129 guards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Callable

from flows.question import Given, Question

if TYPE_CHECKING:
    from statemachine import StateChart

REVIEW = "review"
SUBMITTED = "submitted"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Arrow:
    """One declared transition: to ``target`` (a state's value), taken when its guard holds."""

    target: str
    applies: Question | None = None
    """Guard: this question is on the route, given the answers so far."""
    requested: str | None = None
    """Guard: the event asks for this field (``edit`` with ``field=``)."""

    def holds(self, values: Mapping[str, Any], field: str) -> bool:
        if self.applies is not None and not self.applies.applies(values):
            return False
        return self.requested is None or self.requested == field


Events = dict[str, tuple[Arrow, ...]]


@dataclass(frozen=True)
class Chart:
    """The route's states and transitions: each state's own events, and those of the enclosing
    ``dialogue`` state, which apply from every question and from the summary."""

    questions: tuple[Question, ...]
    own: dict[str, Events]
    """State value -> event -> transitions in the order they are tried."""
    anywhere: Events
    final: tuple[str, ...] = (SUBMITTED, CANCELLED)

    @cached_property
    def conditions(self) -> Conditions:
        return Conditions(self.questions)

    @cached_property
    def requested(self) -> dict[str, dict[str, str]]:
        """Event -> field -> target, for the enclosing events whose every transition is guarded
        by the field asked for (``edit``): one look-up instead of a guard per question."""
        return {
            event: {a.requested: a.target for a in chain if a.requested is not None}
            for event, chain in self.anywhere.items()
            if chain and all(a.requested is not None and a.applies is None for a in chain)
        }


def _guarded_chain(candidates: Sequence[Question], end: str | None) -> tuple[Arrow, ...]:
    """Transitions to the first applicable candidate, stopping at the first unconditional one."""
    chain: list[Arrow] = []
    for question in candidates:
        if question.when is None:
            return (*chain, Arrow(question.id))
        chain.append(Arrow(question.id, applies=question))
    return (*chain, Arrow(end)) if end is not None else tuple(chain)


@lru_cache(maxsize=4)
def route_chart(questions: tuple[Question, ...]) -> Chart:
    """The route chart of a catalogue, declared once."""
    own: dict[str, Events] = {}
    for index, question in enumerate(questions):
        events = {"advance": _guarded_chain(questions[index + 1 :], REVIEW)}
        back = _guarded_chain(list(reversed(questions[:index])), None)
        if back:
            events["back"] = back
        own[question.id] = events
    own[REVIEW] = {
        "back": _guarded_chain(list(reversed(questions)), None),
        "submit": (Arrow(SUBMITTED),),
    }
    anywhere = {
        "edit": tuple(Arrow(q.id, requested=q.id) for q in questions),
        "restart": (Arrow(questions[0].id),),
        "cancel": (Arrow(CANCELLED),),
    }
    return Chart(questions, own, anywhere)


# -- the chart as python-statemachine declares it ----------------------------------------------


def _state_id(value: str) -> str:
    """Chart ids must be identifiers; field ids have hyphens."""
    return "q_" + value.replace("-", "_")


def _cond(arrow: Arrow) -> Callable[..., bool]:
    """The guard as a python-statemachine condition (it is given the model and the event's
    keyword arguments by name)."""

    def cond(model: Any, field: str = "") -> bool:
        return arrow.holds(model.values(), field)

    cond.__name__ = f"to_{_state_id(arrow.target)}"
    return cond


def _transitions(chain: tuple[Arrow, ...]) -> list[dict[str, Any]]:
    ids = {REVIEW: REVIEW, SUBMITTED: SUBMITTED, CANCELLED: CANCELLED}
    return [
        {"target": ids.get(a.target) or _state_id(a.target)}
        | ({"cond": _cond(a)} if a.applies is not None or a.requested is not None else {})
        for a in chain
    ]


def chart_definition(questions: tuple[Question, ...]) -> dict[str, Any]:
    """The states and transitions of the route, as python-statemachine's dict definition."""
    chart = route_chart(questions)
    asking: dict[str, Any] = {}
    for index, question in enumerate(questions):
        state: dict[str, Any] = {"value": question.id, "name": question.summary}
        if index == 0:
            state["initial"] = True
        state["on"] = {event: _transitions(chain) for event, chain in chart.own[question.id].items()}
        asking[_state_id(question.id)] = state
    return {
        "dialogue": {
            "initial": True,
            "states": {
                "asking": {"initial": True, "states": asking},
                REVIEW: {
                    "value": REVIEW,
                    "on": {event: _transitions(chain) for event, chain in chart.own[REVIEW].items()},
                },
            },
            "on": {event: _transitions(chain) for event, chain in chart.anywhere.items()},
        },
        SUBMITTED: {"value": SUBMITTED, "final": True},
        CANCELLED: {"value": CANCELLED, "final": True},
    }


@lru_cache(maxsize=4)
def chart_class(questions: tuple[Question, ...]) -> type[StateChart]:
    """The chart as a python-statemachine class (building it takes about 0.1 s; the library's
    dict loader is imported here, as a message never needs it)."""
    from statemachine.io import create_machine_class_from_definition

    return create_machine_class_from_definition("ReferralRoute", states=chart_definition(questions))


# -- walking the chart ---------------------------------------------------------------------------


class Route:
    """The chart bound to one conversation's state: move, then read where it stands."""

    __slots__ = ("_model", "_chart", "_on_route_of")

    def __init__(self, chart: Chart, model: Any, on_route: Callable[[Any], OnRoute] | None = None) -> None:
        self._model = model
        self._chart = chart
        self._on_route_of = on_route or (lambda model: chart.conditions.of(model.answers))
        """Which questions are on the route now, given the model (the dialogue passes the one
        kept with its state; given the model rather than holding the dialogue's step, it makes
        no reference cycle, so a message leaves no garbage for the cycle collector)."""
        if not model.current:
            model.current = chart.questions[0].id

    def send(self, event: str, field: str = "") -> bool:
        """Fire an event; True when it moved the conversation."""
        target = self._target(event, field)
        if target is None or target == self._model.current:
            return False
        self._model.current = target
        return True

    def send_while(self, event: str, going_on: Callable[[str], bool]) -> None:
        """Fire ``event`` while ``going_on`` holds for the state the conversation stands on and
        the event moves it (on past the answered questions). Nothing is answered meanwhile, so
        the route conditions are read once."""
        model = self._model
        if not going_on(model.current):
            return
        on_route = self._on_route_of(self._model).applies
        while True:
            target = self._target(event, "", on_route)
            if target is None or target == model.current:
                return
            model.current = target
            if not going_on(target):
                return

    def _target(self, event: str, field: str, on_route: frozenset[str] | None = None) -> str | None:
        """The first transition of ``event`` whose guard holds, from the current state and then
        from the enclosing ``dialogue`` (a final state has none)."""
        current = self._model.current
        if current in self._chart.final:
            return None
        target = self._first(self._chart.own[current].get(event, ()), field, on_route)
        if target is not None:
            return target
        if event in self._chart.requested:
            return self._chart.requested[event].get(field)
        return self._first(self._chart.anywhere.get(event, ()), field, on_route)

    def _first(self, chain: tuple[Arrow, ...], field: str, on_route: frozenset[str] | None = None) -> str | None:
        """``Arrow.holds`` over the chain, with the route conditions read from those remembered
        (only when a guard is reached: most chains start with an unguarded transition), or
        ``on_route`` when the caller has read them."""
        for arrow in chain:
            if arrow.applies is not None:
                if on_route is None:
                    on_route = self._on_route_of(self._model).applies
                if arrow.applies.id not in on_route:
                    continue
            if arrow.requested is None or arrow.requested == field:
                return arrow.target
        return None

    @property
    def position(self) -> str:
        return self._model.current


def route(questions: Sequence[Question], values: dict[str, Any]) -> list[Question]:
    """The questions on the route as it stands, given the answers so far."""
    return [q for q in questions if q.applies(values)]


# -- which questions are on the route ------------------------------------------------------------

_ABSENT = object()
_EMPTY = (None, "", [])
_CONTAINERS = frozenset({list, dict})


def _frozen(value: Any) -> Any:
    """An answer as part of a dictionary key (multi-choice answers are lists)."""
    if isinstance(value, list):
        return tuple(map(_frozen, value))
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


@dataclass(frozen=True)
class OnRoute:
    """Which questions the answers put on the route, and which may still come."""

    applies: frozenset[str]
    """``Question.applies``: on the route as it stands."""
    may_apply: frozenset[str]
    """``Question.may_apply``: on it, or could be once an unanswered question is answered."""
    order: tuple[str, ...] = field(default=(), compare=False)
    """``applies`` in the catalogue's order (the summary, the first unanswered question)."""
    _hash: int = field(init=False, compare=False, repr=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.applies, self.may_apply)))

    def __hash__(self) -> int:
        """Hashed once (a message looks progress up by the route, each time)."""
        return self._hash


class Conditions:
    """Every question's route condition, evaluated once per distinct set of the answers the
    conditions read, and remembered: a dialogue step asks "which questions are on the route?"
    several times, and few answers move the route.

    The conditions read choices (kept in the key as they are) and whether a list answer was given
    (kept as absent, skipped or given: the place typed is never kept).
    """

    LIMIT = 4096

    def __init__(self, questions: tuple[Question, ...]) -> None:
        self.questions = questions
        atoms = frozenset().union(*(q.when.atoms() for q in questions if q.when))
        read = {a.field_id for a in atoms if not isinstance(a, Given)}
        given = {a.field_id for a in atoms} - read
        self.value_fields = tuple(sorted(read))
        self.given_fields = tuple(sorted(given))
        self._known: dict[tuple[Any, ...], OnRoute] = {}

    def key(self, answers: Mapping[str, Mapping[str, Any]]) -> tuple[Any, ...]:
        """What the conditions read of the answers (``DialogueState.answers``): two sets of
        answers with one key share a route."""
        get = answers.get
        key: list[Any] = []
        for name in self.value_fields:
            record = get(name)
            if record is None:
                key.append(_ABSENT)
            else:
                value = record["value"]
                key.append(_frozen(value) if value.__class__ in _CONTAINERS else value)
        for name in self.given_fields:
            record = get(name)
            key.append(0 if record is None else 1 if record["value"] in _EMPTY else 2)
        return tuple(key)

    def of(self, answers: Mapping[str, Mapping[str, Any]]) -> OnRoute:
        """Which questions are on the route given ``DialogueState.answers``."""
        key = self.key(answers)
        found = self._known.get(key)
        if found is None:
            values = {qid: record["value"] for qid, record in answers.items()}
            order = tuple(q.id for q in self.questions if q.applies(values))
            found = OnRoute(frozenset(order), frozenset(q.id for q in self.questions if q.may_apply(values)), order)
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[key] = found
        return found
