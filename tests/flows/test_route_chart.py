"""The route chart as a message walks it is the chart python-statemachine runs (issue 14: the
dialogue walks the declared transitions itself, and remembers route conditions, for speed).

python-statemachine's engine is the reference: from every state, for every event, with answers
that take each fork, the dialogue's walk must land where the engine lands. The remembered route
conditions must equal the conditions evaluated afresh.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.dialogue import BY_ID, CHART, CONDITIONS
from flows.question import Kind
from flows.referral_questions import QUESTIONS
from flows.route import REVIEW, Route, chart_class
from flows.state import DialogueState
from tests.flows.conversation import Conversation, ROUTES

STATES = [q.id for q in QUESTIONS] + [REVIEW]


class _EngineModel:
    """A DialogueState as python-statemachine's model: it keeps the active leaf in ``state``."""

    def __init__(self) -> None:
        self.bound = DialogueState()

    def values(self) -> dict[str, Any]:
        return self.bound.values()

    @property
    def state(self) -> Any:
        return self.bound.current or None

    @state.setter
    def state(self, configuration: Any) -> None:
        leaf = configuration if isinstance(configuration, str) or configuration is None else list(configuration)[-1]
        self.bound.current = leaf or ""


class Engine:
    """The chart class run by python-statemachine, re-pointed at each case (building an instance
    is slow); a new one after a final state, which stops an instance for good."""

    def __init__(self) -> None:
        self.model = _EngineModel()
        self.chart = chart_class(QUESTIONS)(model=self.model)

    def target(self, state: DialogueState, event: str, **kwargs: Any) -> str:
        if self.chart.is_terminated:
            self.__init__()  # type: ignore[misc]
        self.model.bound = DialogueState(current=state.current, answers=dict(state.answers))
        self.chart.send(event, **kwargs)
        return self.model.bound.current


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def walked(state: DialogueState, event: str, **kwargs: Any) -> str:
    copy = DialogueState(current=state.current, answers=dict(state.answers))
    Route(CHART, copy).send(event, **kwargs)
    return copy.current


def _answers(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {qid: {"value": value, "typed": "", "lang": "en", "source": "user"} for qid, value in values.items()}


def _route_values(route: str) -> dict[str, Any]:
    conversation = Conversation()
    conversation.answer_all(ROUTES[route])
    return conversation.values()


@pytest.mark.parametrize("route", ["adult", "dtn", "child"])
def test_every_move_from_every_state_lands_where_python_statemachine_lands(engine: Engine, route: str) -> None:
    answers = _answers(_route_values(route))
    for current in STATES:
        state = DialogueState(current=current, answers=answers)
        for event in ("advance", "back"):
            assert walked(state, event) == engine.target(state, event), (current, event)
    for current in (QUESTIONS[0].id, "pv-dob", REVIEW):
        state = DialogueState(current=current, answers=answers)
        for event, kwargs in [("restart", {}), ("submit", {}), ("cancel", {}), ("edit", {"field": "pv-dob"}),
                              ("edit", {"field": QUESTIONS[-1].id}), ("edit", {"field": "no-such-field"})]:
            assert walked(state, event, **kwargs) == engine.target(state, event, **kwargs), (current, event, kwargs)


def _value_of(qid: str) -> st.SearchStrategy[Any]:
    question = BY_ID[qid]
    options = [choice.value for choice in question.options()]
    if question.kind is Kind.MULTI:
        return st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)
    if question.has_choices:
        return st.sampled_from(options)
    return st.sampled_from([None, "", "Leeds"])  # a list answer: skipped, empty or given


def _some(qid: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), _value_of(qid).map(lambda value: {qid: value}))


ANSWERS = st.tuples(*[_some(qid) for qid in CONDITIONS.value_fields + CONDITIONS.given_fields]).map(
    lambda parts: {qid: value for part in parts for qid, value in part.items()}
)


@settings(max_examples=60, deadline=None)
@given(values=ANSWERS, current=st.sampled_from(STATES), event=st.sampled_from(["advance", "back", "edit"]),
       field=st.sampled_from([q.id for q in QUESTIONS]))
def test_any_answers_move_the_dialogue_where_python_statemachine_moves_it(
    engine: Engine, values: dict[str, Any], current: str, event: str, field: str
) -> None:
    state = DialogueState(current=current, answers=_answers(values))
    kwargs = {"field": field} if event == "edit" else {}
    assert walked(state, event, **kwargs) == engine.target(state, event, **kwargs)


@settings(max_examples=50, deadline=None)
@given(values=ANSWERS)
def test_remembered_route_conditions_are_the_conditions_evaluated_afresh(values: dict[str, Any]) -> None:
    for _ in range(2):  # the second time from what was remembered
        on_route = CONDITIONS.of(_answers(values))
        assert on_route.applies == {q.id for q in QUESTIONS if q.applies(values)}
        assert on_route.may_apply == {q.id for q in QUESTIONS if q.may_apply(values)}


def _asked(conversation: Conversation, answers: dict[str, str]) -> tuple[str, int, int] | None:
    """Answer what is asked; what is asked next, with its progress (None at the summary)."""
    conversation.say(answers[conversation.question_id])
    return (conversation.question_id, *conversation.position) if conversation.question_id else None


def test_two_conversations_on_different_routes_interleaved_are_asked_what_each_is_asked_alone() -> None:
    alone = {}
    for route in ("adult", "child"):
        conversation, seen = Conversation(), []
        while conversation.question_id is not None:
            seen.append(_asked(conversation, ROUTES[route]))
        alone[route] = seen
    adult, child = Conversation(), Conversation()
    together: dict[str, list[Any]] = {"adult": [], "child": []}
    while adult.question_id is not None or child.question_id is not None:
        for route, conversation in (("adult", adult), ("child", child)):
            if conversation.question_id is not None:
                together[route].append(_asked(conversation, ROUTES[route]))

    assert together == alone
    assert alone["adult"] != alone["child"]


def test_place_names_typed_are_not_kept_in_the_remembered_route_conditions() -> None:
    answers = _answers({"where-exploitation-happened": "uk", "where-exploitation-happened-uk-city-1": "Leeds"})
    assert "Leeds" not in repr(CONDITIONS.key(answers))
    assert CONDITIONS.key(answers) == CONDITIONS.key(
        _answers({"where-exploitation-happened": "uk", "where-exploitation-happened-uk-city-1": "Hull"})
    )


@pytest.mark.parametrize("route", ["adult", "dtn", "child"])
def test_going_on_past_the_answered_questions_lands_where_advancing_one_at_a_time_lands(route: str) -> None:
    """``Route.send_while`` reads the route once for all its moves: it lands where ``advance``
    sent again and again lands, from every question, with some of the answers given."""
    values = _route_values(route)
    for kept in (values, {qid: value for n, (qid, value) in enumerate(values.items()) if n % 3}):
        answers = _answers(kept)
        for question in QUESTIONS:
            one_at_a_time = DialogueState(current=question.id, answers=dict(answers))
            while one_at_a_time.current in answers:
                if not Route(CHART, one_at_a_time).send("advance"):
                    break
            at_once = DialogueState(current=question.id, answers=dict(answers))
            Route(CHART, at_once).send_while("advance", lambda current: current in answers)
            assert at_once.current == one_at_a_time.current, (route, question.id)
