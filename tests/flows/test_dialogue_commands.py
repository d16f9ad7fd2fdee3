"""What a responder types on a phone: answers in many shapes, wrong answers, and the commands.

Text in, text out: each test reads the replies a user would see (the question asked next, the
error, the progress, the summary) and the payload the backend would get.
"""

from __future__ import annotations

import pytest

from flows import dialogue, payload
from flows.i18n import ENGLISH
from tests.flows.conversation import (
    ADULT_NRM,
    CHILD,
    DTN,
    PROGRESS,
    Conversation,
    conversation_at,
    validate,
)

REFERENCE = "NRM-2026-000123"


def finished(answers: dict[str, str], registration: dict[str, str] | None = None) -> Conversation:
    """A conversation that answered everything and shows the summary."""
    conversation = Conversation(registration=registration)
    conversation.answer_all(answers)
    return conversation


def confirm(conversation: Conversation) -> dict:
    conversation.say("CONFIRM")
    submission = conversation.turn.submission
    assert submission is not None, conversation.text
    validate(submission)
    return submission


# -- answers as typed on a phone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "typed", "stored"),
    [
        ("fr-location", "2", "wales"),
        ("fr-location", "Wales", "wales"),
        ("fr-location", "  northern ireland ", "northern-ireland"),
        ("fr-location", "NI", "northern-ireland"),
        ("pv-under-age", "No", "no"),
        ("pv-under-age", "no.", "no"),
        ("pv-under-age", "2", "no"),
        ("pv-under-age", "Not sure", "not-sure"),
        ("potential-victim-exploitative-situation-multiple", "dont know", "i-dont-know"),
        ("evidence-of-dishonesty", "N", "no"),
        ("evidence-of-dishonesty", "Yes!", "yes"),
        ("when-last-contact", "7", "not-sure"),
    ],
)
def test_choice_by_number_or_by_word(question: str, typed: str, stored: str) -> None:
    conversation = conversation_at(question)
    before = conversation.position

    conversation.say(typed)

    assert conversation.values()[question] == stored
    assert conversation.question_id != question
    assert conversation.position > before


@pytest.mark.parametrize("typed", ["1 3", "1,3", "1, 3", "1 and 3", "3 1", "Forced to work for little or no pay, 3"])
def test_several_choices_by_numbers(typed: str) -> None:
    conversation = conversation_at("types-of-exploitation")

    conversation.say(typed)

    assert conversation.values()["types-of-exploitation"] == ["forced-to-work", "forced-to-commit-fraud"]
    assert conversation.question_id == "any-other-pvs"
    conversation.say("REVIEW")
    assert "Types of exploitation: Forced to work for little or no pay, Forced to commit fraud" in conversation.text


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("3/2/1990", {"date": "1990-02-03", "approximate": False}, "3/2/1990"),
        ("3 Feb 1990", {"date": "1990-02-03", "approximate": False}, "3/2/1990"),
        ("1990-02-03", {"date": "1990-02-03", "approximate": False}, "3/2/1990"),
        ("03/02/90", {"date": "1990-02-03", "approximate": False}, "3/2/1990"),
        ("3rd of February 1990", {"date": "1990-02-03", "approximate": False}, "3/2/1990"),
        ("Feb 1990", {"date": "1990-02", "approximate": False}, "2/1990"),
        ("about 1990", {"date": "1990", "approximate": True}, "about 1990"),
    ],
)
def test_dates_as_people_type_them(typed: str, stored: dict, shown: str) -> None:
    conversation = conversation_at("pv-dob")
    assert "For example 3/2/1990" in conversation.last

    conversation.say(typed)

    assert conversation.values()["pv-dob"] == stored
    assert conversation.question_id == "pv-gender"
    conversation.say("REVIEW")
    assert f"Date of birth: {shown}" in conversation.text


WRONG_ANSWERS = [
    ("reference", "   ", "Please type an answer"),
    ("fr-location", "7", "There is no option 7. Choose from 1 to 4"),
    ("fr-location", "Mars", "Please reply with the number of your answer, 1 to 4"),
    ("pv-under-age", "maybe", "Please reply with the number of your answer, 1 to 3"),
    ("evidence-of-dishonesty", "perhaps", "Please reply YES or NO"),
    ("types-of-exploitation", "1 12", "There is no option 12. Choose from 1 to 10"),
    ("types-of-exploitation", "1 lots", '"lots" is not one of the options'),
    ("details-last-contact", "He wrote on www.example.com/chat", "Please remove the web address www.example.com/chat"),
    ("user-email", "sam@", "Enter a valid email address, like name@example.com"),
    ("user-organisation", "Qwxzplk", 'Nothing matches "Qwxzplk"'),  # a list that binds
    ("pv-dob", "31/2/1990", "That date does not exist"),
    ("pv-dob", "3/2/2027", "That date is in the future"),
    ("pv-dob", "12/25/1990", "Please put the day first, like 25/12/1990"),
    ("pv-dob", "3/2", "Please include the year"),
    ("pv-contact-details-email-check", "no", "We can only email the person if it is safe"),
    ("fr-details-phone", "12345", "Enter a real telephone number, like 07700 900123"),
]


@pytest.mark.parametrize(("question", "typed", "message"), WRONG_ANSWERS)
def test_a_wrong_answer_says_why_and_asks_the_same_question_with_nothing_lost(
    question: str, typed: str, message: str
) -> None:
    conversation = conversation_at(question)
    before = conversation.values()
    prompt = conversation.last

    conversation.say(typed)

    assert conversation.turn.messages[0].startswith(message), conversation.text
    assert conversation.question_id == question
    assert conversation.last == prompt  # the same question, same progress
    assert conversation.values() == before

    conversation.say("REVIEW")
    summary = conversation.summary()
    assert len(summary.splitlines()) == len(before) + 1
    if before:
        assert summary.splitlines()[1] == "1 Your reference: SA-0412"
    assert conversation.question_id == question


def test_postcode_and_number_refusals() -> None:
    conversation = conversation_at("pv-contact-details")
    for typed in ("post", "10 Park Row", "Leeds", "SKIP"):
        conversation.say(typed)
    assert conversation.question_id == "pv-contact-details-postcode"
    conversation.say("LS1")
    assert conversation.text.startswith("Enter a real UK postcode, like SW1A 1AA")
    assert conversation.question_id == "pv-contact-details-postcode"
    conversation.say("ls15ab")
    assert conversation.values()["pv-contact-details-postcode"] == "LS1 5AB"

    conversation = conversation_at("does-pv-have-children")
    conversation.say("yes")
    conversation.say("lots")
    assert conversation.text.startswith("Please reply with a number, like 2")
    assert conversation.question_id == "does-pv-have-children-yes-amount"
    conversation.say("3")
    assert conversation.values()["does-pv-have-children-yes-amount"] == 3


# -- commands -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["HELP", "help", "Help.", "info"])
def test_help_explains_the_question_and_asks_it_again(typed: str) -> None:
    conversation = conversation_at("pv-under-age")
    prompt = conversation.last

    conversation.say(typed)

    assert conversation.turn.messages[0].startswith("If you are not sure, they are treated as a child")
    assert "Commands: BACK, SKIP" in conversation.text
    assert conversation.last == prompt
    assert conversation.question_id == "pv-under-age"


def test_back_shows_the_previous_question_with_the_answer_so_far() -> None:
    conversation = conversation_at("pv-under-age")
    assert conversation.progress == ("Age", 1, 1)

    conversation.say("back")
    assert conversation.question_id == "fr-location"
    assert conversation.last.startswith("(About you 4/4) In which part of the UK")
    assert conversation.last.endswith("Answer so far: England")

    conversation.say("BACK")
    assert conversation.question_id == "user-email"
    assert "Answer so far: sam.jones@example.org" in conversation.last

    # a new answer replaces the old one and carries on where work is needed
    conversation.say("team@example.org")
    assert conversation.question_id == "pv-under-age"
    assert conversation.values()["user-email"] == "team@example.org"
    assert conversation.values()["fr-location"] == "england"


def test_back_on_the_first_question_says_so() -> None:
    conversation = Conversation()
    conversation.say("BACK")
    assert conversation.turn.messages[0] == "This is the first question."
    assert conversation.question_id == "reference"
    assert conversation.last.startswith("(About you 1/4) Give this referral a short reference")


def test_back_from_the_summary_goes_to_the_last_question() -> None:
    conversation = finished(ADULT_NRM)
    conversation.say("Back")
    assert conversation.question_id == "what-evidence-you-will-submit"
    conversation.say("Payslips")
    assert conversation.at_summary
    assert "Evidence to send: Payslips" in conversation.summary()


def test_skip_an_optional_question() -> None:
    conversation = conversation_at("details-last-contact")
    assert "Reply SKIP to leave it out." in conversation.last

    conversation.say("skip")

    assert conversation.question_id == "is-this-the-first-chance-to-report"
    assert conversation.state.answers["details-last-contact"]["value"] is None
    conversation.say("REVIEW")
    assert "Last contact details: (skipped)" in conversation.summary()


def test_skip_is_refused_on_a_required_question() -> None:
    conversation = conversation_at("birthplace")
    prompt = conversation.last
    assert "SKIP" not in prompt

    conversation.say("SKIP")

    assert conversation.turn.messages[0].startswith("This question needs an answer.")
    assert conversation.question_id == "birthplace"
    assert conversation.last == prompt
    assert "birthplace" not in conversation.values()


@pytest.mark.parametrize("typed", ["REVIEW", "review", "Summary"])
def test_review_mid_dialogue_shows_numbered_answers_then_the_same_question(typed: str) -> None:
    conversation = conversation_at("birthplace")
    prompt = conversation.last

    conversation.say(typed)

    lines = conversation.summary().splitlines()
    assert lines[:6] == [
        "Your answers:",
        "1 Your reference: SA-0412",
        "2 Organisation: The Salvation Army",
        "3 Your email: sam.jones@example.org",
        "4 Where you are: England",
        "5 Under 18: No",
    ]
    assert lines[6] == "6 Under 18 when exploited: No"
    assert len(lines) == 7
    assert conversation.last == prompt
    assert conversation.question_id == "birthplace"


def test_edit_mid_dialogue_then_carries_on_where_it_was() -> None:
    conversation = conversation_at("birthplace")
    conversation.say("EDIT 4")
    assert conversation.question_id == "fr-location"
    assert "Answer so far: England" in conversation.last
    conversation.say("3")
    assert conversation.question_id == "birthplace"
    assert conversation.values()["fr-location"] == "scotland"


@pytest.mark.parametrize("typed", ["EDIT {n}", "edit {n}", "Change {n}", "EDIT{n}"])
def test_edit_at_the_summary_asks_the_question_then_returns_to_the_summary(typed: str) -> None:
    conversation = finished(ADULT_NRM)
    number = conversation.summary_number("Your role")

    conversation.say(typed.format(n=number))
    assert conversation.question_id == "fr-details-role"
    assert "What is your job title or role?" in conversation.last
    assert conversation.last.endswith("Answer so far: Police constable")

    conversation.say("Detective sergeant")
    assert conversation.at_summary
    assert f"{number} Your role: Detective sergeant" in conversation.summary()
    assert confirm(conversation)["answers"]["fr-details-role"] == "Detective sergeant"


@pytest.mark.parametrize("typed", ["EDIT", "EDIT 0", "EDIT 999"])
def test_edit_without_a_valid_number_explains(typed: str) -> None:
    conversation = finished(ADULT_NRM)
    conversation.say(typed)
    assert conversation.turn.messages[0].startswith("Reply EDIT and the number of the answer, e.g. EDIT 3")
    assert conversation.at_summary


def test_edit_that_changes_a_branch_drops_the_old_answer_and_asks_the_new_question() -> None:
    conversation = finished(
        {**ADULT_NRM, "still-in-exploitative-situation": "yes", "what-is-keeping-them-in-situation": "Debts"}
    )
    assert "Why they cannot leave: Debts" in conversation.summary()

    conversation.say(f"EDIT {conversation.summary_number('Still exploited')}")
    assert conversation.last.endswith("Answer so far: Yes")
    conversation.say("no")

    assert conversation.question_id == "how-why-did-they-leave-the-situation"
    assert "How and why did they leave?" in conversation.last
    conversation.say("REVIEW")
    assert "Why they cannot leave" not in conversation.summary()
    assert conversation.question_id == "how-why-did-they-leave-the-situation"
    conversation.say("Ran away")
    assert conversation.at_summary
    summary = conversation.summary()
    assert "Still exploited: No" in summary
    assert "How they left: Ran away" in summary
    assert "Why they cannot leave" not in summary
    answers = confirm(conversation)["answers"]
    assert "what-is-keeping-them-in-situation" not in answers
    assert answers["how-why-did-they-leave-the-situation"] == "Ran away"


def test_edit_under_18_from_no_to_yes_drops_consent_and_asks_the_local_authority() -> None:
    conversation = finished(ADULT_NRM)
    assert "Agrees to referral: Yes" in conversation.summary()

    conversation.say(f"EDIT {conversation.summary_number('Under 18')}")
    conversation.say("yes")

    asked = conversation.answer_all(CHILD)
    assert asked == [
        "pv-dob",  # 3/2/1990 makes the person 36: it is asked again before anything else
        "local-authority-contacted-about-child-local-authority-name",
        "local-authority-contacted-about-child-local-authority-phone",
        "local-authority-contacted-about-child-local-authority-email",
        "local-authority-contacted-about-child-local-authority-first-name",
        "local-authority-contacted-about-child-local-authority-last-name",
    ]
    labels = conversation.summary_labels()
    for gone in ("Under 18 when exploited", "Agrees to referral", "Wants support", "Decision sent to", "Email"):
        assert gone not in labels
    assert "Local authority" in labels
    submission = confirm(conversation)
    assert submission["age_route"] == "child"
    assert submission["automatic_referral"] is True
    assert "pv-want-to-submit-nrm" not in submission["answers"]
    assert "pv-contact-details-email-input" not in submission["answers"]


def test_edit_under_18_turns_a_duty_to_notify_into_a_childs_referral() -> None:
    conversation = finished(DTN)
    conversation.say(f"EDIT {conversation.summary_number('Under 18')}")
    conversation.say("not sure")

    asked = conversation.answer_all(CHILD, must_not_ask=("refuse-nrm", "pv-want-to-submit-nrm"))
    assert asked[:5] == [
        "local-authority-contacted-about-child-local-authority-name",
        "local-authority-contacted-about-child-local-authority-phone",
        "local-authority-contacted-about-child-local-authority-email",
        "local-authority-contacted-about-child-local-authority-first-name",
        "local-authority-contacted-about-child-local-authority-last-name",
    ]
    # the referral questions a Duty to Notify never asked, but not gender and nationality again
    assert "pv-name-first-name" in asked and "fr-details-role" in asked
    assert "pv-gender" not in asked and "pv-nationality" not in asked
    assert "Why they said no" not in conversation.summary_labels()
    submission = confirm(conversation)
    assert (submission["route"], submission["age_route"]) == ("nrm", "unknown")


def test_edit_under_18_from_yes_to_no_drops_the_local_authority_and_asks_consent() -> None:
    conversation = finished(CHILD)
    conversation.say(f"EDIT {conversation.summary_number('Under 18')}")
    conversation.say("no")

    asked = conversation.answer_all(ADULT_NRM)
    # The person's details (name...) are kept: only what an adult needs is asked (the form keeps
    # the values too, NRM-FORM.md §1.3), after the child's date of birth is asked again.
    assert asked == [
        "pv-dob",
        "pv-under-age-at-time-of-exploitation",
        "pv-want-to-submit-nrm",
        "does-pv-need-support",
        "who-contact",
        "pv-contact-details",
        "pv-contact-details-email-input",
        "pv-contact-details-email-check",
    ]
    assert "Local authority" not in conversation.summary_labels()
    submission = confirm(conversation)
    assert (submission["route"], submission["age_route"], submission["automatic_referral"]) == ("nrm", "adult", False)


def test_edit_consent_to_no_makes_a_duty_to_notify() -> None:
    conversation = finished(ADULT_NRM)
    conversation.say(f"EDIT {conversation.summary_number('Agrees to referral')}")
    conversation.say("no")
    assert conversation.question_id == "refuse-nrm"
    conversation.say("Scared")
    assert conversation.at_summary
    labels = conversation.summary_labels()
    assert "First name" not in labels and "Your role" not in labels and "Gender" in labels
    submission = confirm(conversation)
    assert submission["route"] == "dtn"
    assert "pv-name-first-name" not in submission["answers"]


def test_changing_consent_back_keeps_the_persons_details() -> None:
    conversation = finished(ADULT_NRM)
    conversation.say(f"EDIT {conversation.summary_number('Agrees to referral')}")
    conversation.say("no")
    assert conversation.question_id == "refuse-nrm"
    conversation.say("BACK")
    assert conversation.question_id == "pv-want-to-submit-nrm"
    conversation.say("yes")
    assert conversation.at_summary, conversation.text
    assert "First name: Anna" in conversation.summary()
    assert "Why they said no" not in conversation.summary_labels()
    assert confirm(conversation)["route"] == "nrm"


def test_edit_co_operation_to_yes_in_a_duty_to_notify_asks_name_and_contact() -> None:
    conversation = finished(DTN)
    conversation.say(f"EDIT {conversation.summary_number('Will help authorities')}")
    conversation.say("yes")
    asked = conversation.answer_all({**DTN, "authorities-cooperation-details": "SKIP"})
    assert asked == [
        "authorities-cooperation-details",
        "pv-name-first-name",
        "pv-name-last-name",
        "pv-name-nickname",
        "pv-contact-details",
        "pv-contact-details-email-input",
        "pv-contact-details-email-check",
    ]
    assert confirm(conversation)["answers"]["pv-name-first-name"] == "Anna"


def test_edit_from_uk_and_overseas_to_uk_drops_the_countries() -> None:
    conversation = finished(
        {
            **ADULT_NRM,
            "where-exploitation-happened": "uk and overseas",
            "where-exploitation-happened-overseas-country-1": "France",
            "where-exploitation-happened-overseas-country-2": "Belgium",
            "where-exploitation-happened-overseas-country-3": "SKIP",
            "where-exploitation-happened-other-overseas-other-location": "Calais camp",
        }
    )
    conversation.say(f"EDIT {conversation.summary_number('Where exploited')}")
    conversation.say("uk")
    assert conversation.at_summary
    assert "Country" not in conversation.summary_labels()
    answers = confirm(conversation)["answers"]
    assert not [qid for qid in answers if "overseas" in qid]


def test_skipping_a_town_when_editing_drops_the_towns_after_it() -> None:
    conversation = finished(
        {**ADULT_NRM, "where-exploitation-happened-uk-city-2": "Bradford", "where-exploitation-happened-uk-city-3": "York",
         "where-exploitation-happened-uk-city-4": "SKIP"}
    )
    conversation.say(f"EDIT {conversation.summary_number('Another UK town')}")
    conversation.say("SKIP")
    assert conversation.at_summary
    answers = confirm(conversation)["answers"]
    assert answers["where-exploitation-happened-uk-city-1"] == "Leeds"
    assert "where-exploitation-happened-uk-city-2" not in answers
    assert "where-exploitation-happened-uk-city-3" not in answers


def test_restart_asks_for_yes_and_no_keeps_everything() -> None:
    conversation = conversation_at("birthplace")
    before = conversation.values()
    prompt = conversation.last

    conversation.say("restart")
    assert "This deletes all your answers and starts again. Reply YES to confirm" in conversation.text
    conversation.say("NO")
    assert conversation.turn.messages[0] == "OK, nothing deleted."
    assert conversation.last == prompt
    assert conversation.values() == before

    conversation.say("RESTART")
    conversation.say("yes")
    assert conversation.turn.messages[0] == "Started again."
    assert conversation.question_id == "reference"
    assert conversation.last.startswith("(About you 1/4) ")
    assert conversation.values() == {}


def test_restart_from_the_summary() -> None:
    conversation = finished(ADULT_NRM)
    conversation.say("Restart")
    conversation.say("Yes.")
    assert conversation.question_id == "reference"
    assert conversation.values() == {}


@pytest.mark.parametrize("typed", ["DISCARD", "cancel", "Discard."])
def test_discard_asks_for_yes_then_ends_without_sending(typed: str) -> None:
    conversation = conversation_at("birthplace")
    before = conversation.values()

    conversation.say(typed)
    assert "This deletes this referral without sending it. Reply YES to confirm" in conversation.text
    conversation.say("no")
    assert conversation.values() == before
    assert conversation.question_id == "birthplace"
    assert not conversation.turn.done

    conversation.say(typed)
    conversation.say("YES")
    assert conversation.text == "Deleted. Nothing was sent."
    assert conversation.turn.done is True
    assert conversation.turn.submission is None

    conversation.say("Hello")
    assert conversation.turn.done is True
    assert "This conversation has ended" in conversation.text


def test_confirm_before_the_end_is_refused() -> None:
    conversation = conversation_at("birthplace")
    conversation.say("CONFIRM")
    assert conversation.turn.messages[0] == "You can send the referral once every question is answered."
    assert conversation.turn.submission is None
    assert conversation.question_id == "birthplace"


def test_text_at_the_summary_says_how_to_finish() -> None:
    conversation = finished(ADULT_NRM)
    conversation.say("ok")
    assert conversation.text == "Reply CONFIRM to send the referral, or EDIT and a number to change an answer."
    assert conversation.turn.submission is None


@pytest.mark.parametrize("typed", ["CONFIRM", "confirm", "Send"])
def test_confirm_at_the_end_hands_over_the_payload(typed: str) -> None:
    conversation = finished(ADULT_NRM)
    conversation.say(typed)
    submission = conversation.turn.submission
    assert submission == payload.build(conversation.state)
    validate(submission)
    assert not conversation.turn.done  # the channel calls submitted() once it has stored it


def test_submitted_referral_with_support_says_what_happens_next() -> None:
    conversation = finished(
        {**ADULT_NRM, "does-pv-need-support": "yes", "pv-phone-number": "3", "no-contact-details": "No phone"}
    )
    confirm(conversation)

    turn = dialogue.submitted(conversation.state, REFERENCE, ENGLISH)

    text = "\n".join(turn.messages)
    assert turn.done is True
    assert turn.reference == REFERENCE
    assert "NRM referral sent. Reference: NRM-2026-000123." in text
    assert "within 5 working days" in text
    assert "A support provider will contact the person" in text
    assert turn.state.current == "submitted"


def test_submitted_referral_without_support_does_not_promise_it() -> None:
    conversation = finished(ADULT_NRM)
    confirm(conversation)
    text = "\n".join(dialogue.submitted(conversation.state, REFERENCE, ENGLISH).messages)
    assert "NRM referral sent. Reference: NRM-2026-000123." in text
    assert "5 working days" in text
    assert "support provider" not in text


def test_submitted_duty_to_notify_says_so() -> None:
    conversation = finished(DTN)
    assert confirm(conversation)["route"] == "dtn"
    turn = dialogue.submitted(conversation.state, REFERENCE, ENGLISH)
    text = "\n".join(turn.messages)
    assert "Duty to Notify report sent. Reference: NRM-2026-000123." in text
    assert "NRM referral sent" not in text
    assert "working days" not in text
    assert turn.done is True
    conversation.say("hello")
    assert "This conversation has ended" in conversation.text


# -- progress -------------------------------------------------------------------------------------


def test_every_prompt_shows_its_part_of_the_form_and_its_place_in_that_part() -> None:
    conversation = Conversation()
    assert conversation.last.startswith("(About you 1/4) ")
    question = conversation.turn.question.as_json()
    assert {k: question[k] for k in ("step", "of", "section", "section_number", "sections")} == {
        "step": 1, "of": 4, "section": "About you", "section_number": 1, "sections": 7}

    conversation.answer_all(CHILD, until="pv-under-age")
    assert conversation.progress == ("Age", 1, 1)
    conversation.say("yes")  # a child: the local authority questions join the part
    assert conversation.progress == ("Age", 2, 6)
    conversation.say("Leeds")
    assert conversation.progress == ("Age", 3, 6)

    adult = Conversation()
    adult.answer_all(ADULT_NRM, until="pv-under-age")
    adult.say("no")
    assert adult.progress == ("Age", 2, 2)  # under 18 when exploited
    adult.say("no")
    assert adult.progress[0] == "Background" and adult.position == (3, 1)


def test_progress_grows_when_a_yes_adds_a_question() -> None:
    conversation = conversation_at("modern-slavery-indicators")
    part, step, total = conversation.progress
    conversation.say("yes")
    assert conversation.progress == (part, step + 1, total + 1)


# -- registration --------------------------------------------------------------------------------

REGISTRATION = {"user-organisation": "The Salvation Army", "fr-details-phone": "+447700900123"}


def test_registration_answers_are_never_asked_and_are_in_the_payload() -> None:
    answers = {k: v for k, v in ADULT_NRM.items() if k not in REGISTRATION}
    conversation = Conversation(registration=REGISTRATION)
    assert conversation.last.startswith("(About you 1/3) ")

    conversation.answer_all(answers, must_not_ask=REGISTRATION)

    assert "Your phone: +447700900123" in conversation.summary()
    submission = confirm(conversation)
    assert submission["answers"]["user-organisation"] == "The Salvation Army"
    assert submission["answers"]["fr-details-phone"] == "+447700900123"


def test_back_steps_over_registration_answers() -> None:
    conversation = Conversation(registration=REGISTRATION)
    conversation.say("SA-0412")
    assert conversation.question_id == "user-email"
    assert conversation.progress == ("About you", 2, 3)
    conversation.say("BACK")
    assert conversation.question_id == "reference"


def test_restart_keeps_registration_answers() -> None:
    conversation = Conversation(registration=REGISTRATION)
    conversation.answer_all(ADULT_NRM, until="birthplace")
    conversation.say("RESTART")
    conversation.say("YES")
    assert conversation.question_id == "reference"
    assert conversation.values() == REGISTRATION


def test_a_duty_to_notify_leaves_the_registered_phone_out() -> None:
    conversation = Conversation(registration=REGISTRATION)
    conversation.answer_all({k: v for k, v in DTN.items() if k not in REGISTRATION})
    submission = confirm(conversation)
    assert submission["route"] == "dtn"
    assert "fr-details-phone" not in submission["answers"]
    assert submission["answers"]["user-organisation"] == "The Salvation Army"


# -- list lookups ---------------------------------------------------------------------------------


def test_an_ambiguous_place_offers_numbered_choices_and_a_number_picks_one() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")

    conversation.say("Newport")
    assert conversation.text == (
        "Did you mean one of these? Reply with the number, or type it again.\n"
        "1 Newport\n"
        "2 Newport / Casnewydd\n"
        "3 Newport / Trefdraeth\n"
        '4 None of these: keep "Newport"'
    )
    assert conversation.question_id == "where-exploitation-happened-uk-city-1"

    conversation.say("2")
    assert conversation.values()["where-exploitation-happened-uk-city-1"] == "Newport / Casnewydd"
    assert conversation.question_id == "where-exploitation-happened-uk-city-2"


@pytest.mark.parametrize("typed", ["3", " 3 ", "3.", "3)"])
def test_the_pick_number_as_typed_on_a_phone(typed: str) -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")
    conversation.say("Newport")
    conversation.say(typed)
    assert conversation.values()["where-exploitation-happened-uk-city-1"] == "Newport / Trefdraeth"
    assert conversation.question_id == "where-exploitation-happened-uk-city-2"


def test_a_pick_number_out_of_range_shows_the_list_again() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")
    conversation.say("Newport")
    conversation.say("5")
    assert conversation.turn.messages[0] == "There is no option 5."
    assert conversation.turn.messages[1].splitlines()[1] == "1 Newport"
    conversation.say("1")
    assert conversation.values()["where-exploitation-happened-uk-city-1"] == "Newport"


def test_east_of_england_is_accepted_for_the_county_or_region() -> None:
    conversation = conversation_at("current-pv-location-uk-region")

    conversation.say("East of England")

    assert conversation.values()["current-pv-location-uk-region"] == "East of England"
    assert conversation.question_id == "who-exploited-pv"


def test_a_pick_offers_none_of_these_where_the_form_allows_free_text_and_it_keeps_the_typed_text() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")
    conversation.say("Shipley Glen")
    assert conversation.text.splitlines()[1:] == ["1 Shipley", '2 None of these: keep "Shipley Glen"']

    conversation.say("2")

    assert conversation.values()["where-exploitation-happened-uk-city-1"] == "Shipley Glen"
    assert conversation.question_id == "where-exploitation-happened-uk-city-2"
    conversation.answer_all(ADULT_NRM)
    assert confirm(conversation)["answers"]["where-exploitation-happened-uk-city-1"] == "Shipley Glen"


def test_the_picks_api_question_has_the_numbered_choices() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")

    conversation.say("Newport")

    view = conversation.turn.question
    assert view is not None and view.id == "where-exploitation-happened-uk-city-1"
    assert [c["label"] for c in view.choices] == [
        "Newport", "Newport / Casnewydd", "Newport / Trefdraeth", 'None of these: keep "Newport"',
    ]
    assert [c["value"] for c in view.choices][:3] == ["Newport", "Newport / Casnewydd", "Newport / Trefdraeth"]


def test_nothing_matching_where_free_text_is_allowed_offers_to_keep_it() -> None:
    conversation = conversation_at("current-pv-location-uk-city")
    conversation.say("Qwxzplk")
    assert conversation.turn.messages == [
        'Nothing matches "Qwxzplk". Check the spelling and try again',
        '1 Keep "Qwxzplk" as typed',
    ]
    assert [c["label"] for c in conversation.turn.question.choices] == ['Keep "Qwxzplk" as typed']

    conversation.say("1")

    assert conversation.values()["current-pv-location-uk-city"] == "Qwxzplk"
    assert conversation.question_id == "current-pv-location-uk-region"


def test_a_list_that_binds_offers_no_way_around_it() -> None:
    """NRM-FORM.md: the organisation must be an entry of the list."""
    conversation = conversation_at("user-organisation")
    conversation.say("Yorkshire")
    assert "None of these" not in conversation.text
    assert conversation.turn.question is not None
    assert all("None of these" not in c["label"] for c in conversation.turn.question.choices)
    conversation.say(str(len(conversation.turn.question.choices) + 1))
    assert "user-organisation" not in conversation.values()


def test_skip_at_the_summary_says_there_is_nothing_to_skip() -> None:
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM)
    conversation.say("SKIP")
    assert conversation.turn.messages[0] == "There is nothing to skip here."
    assert conversation.at_summary


def test_an_ambiguous_police_force_can_be_typed_again() -> None:
    conversation = conversation_at("reported-to-police")
    conversation.say("yes")
    conversation.say("Yorkshire")
    assert conversation.text.splitlines()[1:] == [
        "1 West Yorkshire Police",
        "2 North Yorkshire Police",
        "3 South Yorkshire Police",
        '4 None of these: keep "Yorkshire"',
    ]
    conversation.say("south yorks")
    assert conversation.values()["reported-to-police-police-forces"] == "South Yorkshire Police"
    assert conversation.question_id == "reported-to-police-crime-reference"


def test_a_command_during_a_pick_still_works() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")
    conversation.say("Newport")
    conversation.say("BACK")
    assert conversation.question_id == "where-exploitation-happened"
    assert conversation.state.pending is None


# -- surviving a process restart -------------------------------------------------------------------


def test_a_conversation_survives_a_restart_through_json() -> None:
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM, until="where-exploitation-happened")
    stored = conversation.stored()

    resumed = Conversation.resumed(stored)

    assert resumed.values() == conversation.values()
    assert resumed.question_id == "where-exploitation-happened"
    assert resumed.last == conversation.last  # repeat() asks the same question, same progress
    resumed.answer_all(ADULT_NRM)
    submission = confirm(resumed)
    assert submission["answers"]["user-email"] == ADULT_NRM["user-email"]
    assert submission["answers"]["birthplace"] == "Elbasan, Albania"


def test_a_pending_pick_survives_a_restart() -> None:
    conversation = conversation_at("where-exploitation-happened-uk-city-1")
    conversation.say("Newport")

    resumed = Conversation.resumed(conversation.stored())
    resumed.say("3")

    assert resumed.values()["where-exploitation-happened-uk-city-1"] == "Newport / Trefdraeth"
    assert resumed.question_id == "where-exploitation-happened-uk-city-2"


def test_a_pending_restart_confirmation_survives_a_restart() -> None:
    conversation = conversation_at("birthplace")
    conversation.say("RESTART")

    resumed = Conversation.resumed(conversation.stored())
    resumed.say("YES")

    assert resumed.question_id == "reference"
    assert resumed.values() == {}


def test_a_restart_at_the_summary_then_an_edit() -> None:
    conversation = finished(ADULT_NRM)
    resumed = Conversation.resumed(conversation.stored())
    assert resumed.at_summary
    resumed.say(f"EDIT {conversation.summary_number('Your role')}")
    resumed.say("Nurse")
    assert resumed.at_summary
    assert confirm(resumed)["answers"]["fr-details-role"] == "Nurse"


def test_every_turn_of_a_route_shows_a_question_with_progress_or_the_summary() -> None:
    conversation = Conversation()
    while conversation.question_id is not None:
        assert PROGRESS.match(conversation.last)
        conversation.say(ADULT_NRM[conversation.question_id])
    assert conversation.summary().startswith("Your answers:\n1 Your reference: SA-0412")
