"""The record a channel stores after every message (issue 14: it is copied without
``dataclasses.asdict``, which deep-copied every string)."""

from __future__ import annotations

import json
from dataclasses import asdict

from flows.state import DialogueState
from tests.flows.conversation import Conversation, ROUTES


def _mid_referral() -> DialogueState:
    conversation = Conversation()
    conversation.answer_all(ROUTES["adult"], until="pv-nationality")
    conversation.say("Albanain")  # close matches offered: a pending pick with its candidates
    state = conversation.state
    state.consent_explanations = [{"version": "explanation-adult-v2", "language": "pl"}]
    return state


def test_the_stored_record_is_what_asdict_gave_and_survives_json() -> None:
    state = _mid_referral()
    record = state.to_dict()

    assert record == asdict(state)
    assert DialogueState.from_dict(json.loads(json.dumps(record))) == state


def test_changing_the_state_after_storing_it_does_not_change_the_stored_record() -> None:
    state = _mid_referral()
    record = state.to_dict()
    stored = json.dumps(record)

    state.answers["pv-dob"]["value"]["date"] = "2000-01-01"
    state.answers["types-of-exploitation"]["value"].append("other")
    state.pending["candidates"].append("Palauan")
    state.consent_explanations[0]["language"] = "cy"

    assert json.dumps(record) == stored
