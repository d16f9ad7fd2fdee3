"""The three routes of the referral, walked question by question, and every fork of the form.

Text in, text out: each test types what a responder would and checks what they would see (the
next question, its progress, the summary) and what the backend would get (the payload).
NRM-FORM.md §1.2 lists the forks, §1.3 the children's route.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.flows.conversation import PROGRESS, Conversation, conversation_at, validate

# -- golden conversations (one per route) -----------------------------------------------------

ADULT_WITH_SUPPORT: dict[str, str] = {
    "reference": "SA-0412",
    "user-organisation": "salvation army",
    "user-email": "Sam.Jones@Example.org",
    "fr-location": "England",
    "pv-under-age": "no",
    "pv-under-age-at-time-of-exploitation": "3",
    "birthplace": "Elbasan, Albania",
    "family": "Mother and two younger sisters",
    "education": "Left school at 16",
    "employment-history": "Waitress in Tirana",
    "potential-victim-exploitative-situation-multiple": "yes",
    "when-did-the-exploitation-take-place-multiple": "2019 farm work, 2021-2022 cannabis farm",
    "how-did-the-exploitation-start": "Offered a restaurant job in London",
    "were-they-taken-somewhere-by-their-exploiter": "yes",
    "were-they-taken-somewhere-by-their-exploiter-journey-details": "Lorry from Calais to Dover",
    "what-were-they-required-to-do": "Cleaning 14 hours a day, no breaks",
    "living-conditions": "Slept on the floor of the kitchen",
    "how-they-were-treated": "Threats and passport taken",
    "still-in-exploitative-situation": "no",
    "how-why-did-they-leave-the-situation": "Ran away while the boss was out",
    "when-last-contact": "within the last month",
    "details-last-contact": "A text message threatening her family",
    "is-this-the-first-chance-to-report": "no",
    "why-report-now": "She feels safe in the hostel",
    "modern-slavery-indicators": "yes",
    "modern-slavery-indicators-details": "Bruises, no documents, scripted account",
    "where-how-interview-carried-out": "At the police station with an interpreter",
    "professional-insight": "Account consistent and detailed",
    "evidence-of-dishonesty": "no",
    "are-others-involved": "yes",
    "are-others-involved-details": "Hostel support worker, Leeds City Council",
    "where-exploitation-happened": "both",
    "where-exploitation-happened-uk-city-1": "Leeds",
    "where-exploitation-happened-uk-city-2": "bham",
    "where-exploitation-happened-uk-city-3": "SKIP",
    "where-exploitation-happened-other-uk-other-location": "Industrial estate off the A64",
    "where-exploitation-happened-overseas-country-1": "France",
    "where-exploitation-happened-overseas-country-2": "SKIP",
    "where-exploitation-happened-other-overseas-other-location": "SKIP",
    "current-pv-location-uk-city": "Leeds",
    "current-pv-location-uk-region": "West Yorkshire",
    "who-exploited-pv": "A restaurant owner and his brother",
    "exploiters-location": "yes",
    "are-exploiters-in-the-uk": "yes",
    "exploiters-current-location-details": "Still running the restaurant in Leeds",
    "types-of-exploitation": "1 2 10",
    "other-exploitation-details": "Made to beg outside the station",
    "any-other-pvs": "yes",
    "other-potential-victims-yes-details": "Two other women at the restaurant",
    "future-exploitation-concerns": "yes",
    "future-exploitation-reasons": "She owes them money",
    "reported-to-police": "yes",
    "reported-to-police-police-forces": "West Yorkshire Police",
    "reported-to-police-crime-reference": "13/123456/22",
    "authorities-cooperation": "yes",
    "authorities-cooperation-details": "Will give a statement",
    "pv-want-to-submit-nrm": "yes",
    "does-pv-need-support": "yes",
    "pv-phone-number": "1",
    "pv-phone-number-yes": "07700 900456",
    "pv-name-first-name": "Anna",
    "pv-name-last-name": "Hoxha",
    "pv-name-nickname": "Ana",
    "pv-dob": "3 Feb 1990",
    "pv-gender": "female",
    "does-pv-have-children": "yes",
    "does-pv-have-children-yes-amount": "2",
    "pv-nationality": "Albania",
    "pv-nationality-second": "SKIP",
    "pv-interpreter-requirements": "yes",
    "pv-interpreter-requirements-language": "Albanian",
    "pv-other-help-with-communication": "no",
    "pv-ho-reference": "yes",
    "pv-ho-reference-type": "H1234567",
    "who-contact": "1",
    "pv-contact-details": "1 2",
    "pv-contact-details-email-input": "anna.h@example.com",
    "pv-contact-details-email-check": "yes",
    "pv-contact-details-street": "Flat 2, 10 Park Row",
    "pv-contact-details-town": "Leeds",
    "pv-contact-details-county": "SKIP",
    "pv-contact-details-postcode": "ls1 5ab",
    "pv-contact-details-post-check": "yes",
    "fr-details-first-name": "Sam",
    "fr-details-last-name": "Jones",
    "fr-details-role": "Police constable",
    "fr-details-phone": "07700 900123",
    "fr-alternative-contact": "mst.team@example.org",
    "what-evidence-you-will-submit": "Photos of the injuries, payslips",
}
"""Path A: an adult who consents, wants support, gives a phone and wants the decision by email
and post. Every key is asked exactly once (the golden test checks that)."""

REFERRAL_ONLY = (
    "does-pv-need-support",
    "pv-phone-number",
    "pv-phone-number-yes",
    "pv-dob",
    "does-pv-have-children",
    "does-pv-have-children-yes-amount",
    "pv-interpreter-requirements",
    "pv-interpreter-requirements-language",
    "pv-other-help-with-communication",
    "pv-ho-reference",
    "pv-ho-reference-type",
    "who-contact",
    "fr-details-first-name",
    "fr-details-last-name",
    "fr-details-role",
    "fr-details-phone",
    "fr-alternative-contact",
    "what-evidence-you-will-submit",
)
"""Asked on referrals only: a Duty to Notify never gets to these (NRM-FORM.md §1.2 notes)."""

NAME_AND_CONTACT = (
    "pv-name-first-name",
    "pv-name-last-name",
    "pv-name-nickname",
    "pv-contact-details",
    "pv-contact-details-email-input",
    "pv-contact-details-email-check",
    "pv-contact-details-street",
    "pv-contact-details-town",
    "pv-contact-details-county",
    "pv-contact-details-postcode",
    "pv-contact-details-post-check",
)

LOCAL_AUTHORITY = {
    "local-authority-contacted-about-child-local-authority-name": "Leeds",
    "local-authority-contacted-about-child-local-authority-phone": "0113 222 4403",
    "local-authority-contacted-about-child-local-authority-email": "childrens.services@leeds.gov.uk",
    "local-authority-contacted-about-child-local-authority-first-name": "Priya",
    "local-authority-contacted-about-child-local-authority-last-name": "SKIP",
}

ADULT_ONLY = (
    "pv-under-age-at-time-of-exploitation",
    "pv-want-to-submit-nrm",
    "refuse-nrm",
    "does-pv-need-support",
    "pv-phone-number",
    "pv-phone-number-yes",
    "who-contact",
    "someone-else",
    *NAME_AND_CONTACT[3:],
)
"""Children skip consent, support, phone, who gets the decision and contact (NRM-FORM.md §1.3)."""


def without(answers: dict[str, str], *ids: str) -> dict[str, str]:
    return {qid: text for qid, text in answers.items() if qid not in ids}


def walk(answers: dict[str, str], must_not_ask: tuple[str, ...] = ()) -> tuple[Conversation, list[str]]:
    """Answer every question of a route and check the progress shown on each prompt."""
    conversation = Conversation()
    progress: list[tuple[int, int, int]] = []
    asked: list[str] = []
    while conversation.question_id is not None:
        progress.append((*conversation.position, conversation.progress[2]))
        qid = conversation.question_id
        assert qid not in must_not_ask, f"{qid} must not be asked on this route"
        assert qid in answers, f"unexpected question {qid}: {conversation.last}"
        asked.append(qid)
        conversation.say(answers[qid])
        assert conversation.question_id != qid, f"{answers[qid]!r} refused for {qid}: {conversation.text}"
    assert conversation.at_summary, conversation.text
    # Exactly the questions of the answer set, each once, numbered 1..n of n without gaps in
    # each part of the form, the parts in order.
    assert sorted(asked) == sorted(answers), set(asked) ^ set(answers)
    parts = [part for part, _, _ in progress]
    assert parts == sorted(parts)
    for part in set(parts):
        steps = [(n, m) for p, n, m in progress if p == part]
        assert [n for n, _ in steps] == list(range(1, len(steps) + 1))
        totals = [m for _, m in steps]
        assert totals == sorted(totals), "the total only grows as branches add questions"
        assert totals[-1] == len(steps)
    return conversation, asked


def confirmed_payload(conversation: Conversation) -> dict[str, Any]:
    conversation.say("CONFIRM")
    payload = conversation.turn.submission
    assert payload is not None, conversation.text
    validate(payload)
    return payload


def answered(answers: dict[str, str]) -> set[str]:
    """The field ids a payload must hold: every question asked and not skipped, but the
    responder's own reference, which is never sent."""
    return {qid for qid, text in answers.items() if text != "SKIP"} - {"reference"}


def test_adult_who_consents_walks_every_question_to_a_valid_nrm_referral() -> None:
    conversation, asked = walk(ADULT_WITH_SUPPORT, must_not_ask=(*LOCAL_AUTHORITY, "refuse-nrm"))

    assert asked[:6] == [
        "reference",
        "user-organisation",
        "user-email",
        "fr-location",
        "pv-under-age",
        "pv-under-age-at-time-of-exploitation",
    ]
    assert asked.index("pv-want-to-submit-nrm") < asked.index("does-pv-need-support") < asked.index(
        "pv-phone-number"
    ) < asked.index("pv-name-first-name")
    assert asked.index("pv-ho-reference-type") < asked.index("who-contact") < asked.index("fr-details-first-name")
    assert asked[-1] == "what-evidence-you-will-submit"

    summary = conversation.summary()
    assert "Organisation: The Salvation Army" in summary
    assert "Their phone: +447700900456" in summary
    assert "Contact by: Email, Post" in summary
    assert "Postcode: LS1 5AB" in summary
    assert "Second nationality: (skipped)" in summary
    assert conversation.last == "Reply CONFIRM to send the referral, or EDIT and a number to change an answer."

    payload = confirmed_payload(conversation)
    assert payload["route"] == "nrm"
    assert payload["age_route"] == "adult"
    assert payload["automatic_referral"] is False
    answers = payload["answers"]
    assert set(answers) == answered(ADULT_WITH_SUPPORT)
    assert answers["user-organisation"] == "The Salvation Army"
    assert answers["user-email"] == "Sam.Jones@example.org"
    assert answers["fr-location"] == "england"
    assert answers["pv-under-age-at-time-of-exploitation"] == "not-sure"
    assert answers["where-exploitation-happened"] == "uk-and-overseas"
    assert [answers["where-exploitation-happened-uk-city-1"], answers["where-exploitation-happened-uk-city-2"]] == [
        "Leeds",
        "Birmingham",
    ]
    assert answers["where-exploitation-happened-overseas-country-1"] == "France"
    assert answers["types-of-exploitation"] == ["forced-to-work", "wages-taken", "other"]
    assert answers["does-pv-need-support"] == "yes"
    assert answers["pv-phone-number"] == "yes"
    assert answers["pv-phone-number-yes"] == "+447700900456"
    assert answers["pv-dob"] == {"date": "1990-02-03", "approximate": False}
    assert answers["pv-gender"] == "female"
    assert answers["does-pv-have-children-yes-amount"] == 2
    assert answers["pv-nationality"] == "Albanian"
    assert answers["who-contact"] == "potential-victim"
    assert answers["pv-contact-details"] == ["email", "post"]
    assert answers["pv-contact-details-postcode"] == "LS1 5AB"
    assert answers["fr-details-phone"] == "+447700900123"


DTN_ANONYMOUS = {
    **without(ADULT_WITH_SUPPORT, *REFERRAL_ONLY, *NAME_AND_CONTACT, "authorities-cooperation-details"),
    "authorities-cooperation": "no",
    "pv-want-to-submit-nrm": "No",
    "refuse-nrm": "Afraid of the exploiters finding out",
}

DTN_CO_OPERATING = {
    **without(ADULT_WITH_SUPPORT, *REFERRAL_ONLY),
    "pv-want-to-submit-nrm": "no",
    "refuse-nrm": "SKIP",
}


def test_duty_to_notify_without_co_operation_is_anonymous() -> None:
    conversation, asked = walk(DTN_ANONYMOUS, must_not_ask=(*REFERRAL_ONLY, *NAME_AND_CONTACT, *LOCAL_AUTHORITY))

    assert asked[asked.index("refuse-nrm"):] == ["refuse-nrm", "pv-gender", "pv-nationality", "pv-nationality-second"]
    assert "First name" not in conversation.summary_labels()

    payload = confirmed_payload(conversation)
    assert payload["route"] == "dtn"
    assert payload["age_route"] == "adult"
    assert payload["automatic_referral"] is False
    assert set(payload["answers"]) == answered(DTN_ANONYMOUS)
    assert payload["answers"]["pv-want-to-submit-nrm"] == "no"
    assert not {"pv-name-first-name", "pv-name-last-name", "pv-contact-details"} & set(payload["answers"])


def test_duty_to_notify_with_co_operation_asks_name_and_contact() -> None:
    conversation, asked = walk(DTN_CO_OPERATING, must_not_ask=(*REFERRAL_ONLY, *LOCAL_AUTHORITY))

    assert asked[asked.index("pv-want-to-submit-nrm"):] == [
        "pv-want-to-submit-nrm",
        "refuse-nrm",
        "pv-name-first-name",
        "pv-name-last-name",
        "pv-name-nickname",
        "pv-gender",
        "pv-nationality",
        "pv-nationality-second",
        "pv-contact-details",
        "pv-contact-details-email-input",
        "pv-contact-details-email-check",
        "pv-contact-details-street",
        "pv-contact-details-town",
        "pv-contact-details-county",
        "pv-contact-details-postcode",
        "pv-contact-details-post-check",
    ]
    assert "Why they said no: (skipped)" in conversation.summary()

    payload = confirmed_payload(conversation)
    assert payload["route"] == "dtn"
    assert payload["automatic_referral"] is False
    assert set(payload["answers"]) == answered(DTN_CO_OPERATING)
    assert payload["answers"]["pv-name-first-name"] == "Anna"
    assert payload["answers"]["pv-contact-details-email-input"] == "anna.h@example.com"
    assert "refuse-nrm" not in payload["answers"]


@pytest.mark.parametrize(("under_18", "age_route"), [("yes", "child"), ("not-sure", "unknown"), ("not sure", "unknown")])
def test_child_or_uncertain_age_is_an_automatic_referral_without_consent(under_18: str, age_route: str) -> None:
    answers = {
        **without(ADULT_WITH_SUPPORT, *ADULT_ONLY),
        "pv-under-age": under_18,
        "pv-dob": "3 Feb 2012",
        **LOCAL_AUTHORITY,
    }
    conversation, asked = walk(answers, must_not_ask=ADULT_ONLY)

    assert asked[4:11] == ["pv-under-age", *LOCAL_AUTHORITY, "birthplace"]
    assert asked[asked.index("authorities-cooperation-details") + 1] == "pv-name-first-name"
    assert asked[asked.index("pv-ho-reference-type") + 1] == "fr-details-first-name"
    assert "Local authority: Leeds City Council" in conversation.summary()

    payload = confirmed_payload(conversation)
    assert payload["route"] == "nrm"
    assert payload["age_route"] == age_route
    assert payload["automatic_referral"] is True
    assert set(payload["answers"]) == answered(answers)
    assert payload["answers"]["local-authority-contacted-about-child-local-authority-phone"] == "+441132224403"


# -- every fork (NRM-FORM.md §1.2, §1.3) --------------------------------------------------------

PROMPT_WORDS = {
    "pv-under-age-at-time-of-exploitation": "under 18 at any time during the exploitation",
    "local-authority-contacted-about-child-local-authority-name": "Which local authority have you contacted",
    "local-authority-contacted-about-child-local-authority-phone": "local authority's phone number",
    "local-authority-contacted-about-child-local-authority-email": "local authority's email address",
    "local-authority-contacted-about-child-local-authority-first-name": "first name of your contact",
    "local-authority-contacted-about-child-local-authority-last-name": "last name of your contact",
    "birthplace": "Where was the person born",
    "when-did-the-exploitation-take-place-multiple": "When did each situation happen",
    "when-did-the-exploitation-take-place": "When did the exploitation happen",
    "how-did-the-exploitation-start": "How did the exploitation start",
    "were-they-taken-somewhere-by-their-exploiter-journey-details": "Describe the journey",
    "what-were-they-required-to-do": "average day",
    "what-is-keeping-them-in-situation": "What is stopping them from leaving",
    "how-why-did-they-leave-the-situation": "How and why did they leave",
    "when-last-contact": "last in contact",
    "why-report-now": "Why is the person reporting it now",
    "yes-the-first-chance-to-report": "Tell us about the earlier report",
    "not-sure-the-first-chance-to-report": "what you know about any earlier report",
    "modern-slavery-indicators": "signs of modern slavery",
    "modern-slavery-indicators-details": "What signs did you see",
    "where-how-interview-carried-out": "Where and how did you speak",
    "evidence-of-dishonesty-details": "concerns about their credibility",
    "are-others-involved": "other professionals",
    "are-others-involved-details": "Who else is involved",
    "where-exploitation-happened": "Where was the person exploited",
    "where-exploitation-happened-uk-city-1": "In which UK town or city were they exploited",
    "where-exploitation-happened-uk-city-2": "Another UK town or city",
    "where-exploitation-happened-uk-city-3": "Another UK town or city",
    "where-exploitation-happened-other-uk-other-location": "where in the UK it happened",
    "where-exploitation-happened-overseas-country-1": "In which country outside the UK",
    "where-exploitation-happened-overseas-country-2": "Another country",
    "where-exploitation-happened-other-overseas-other-location": "where overseas it happened",
    "current-pv-location-uk-city": "Which UK town or city is the person in now",
    "are-exploiters-in-the-uk": "Are the exploiters in the UK",
    "exploiters-current-location-details": "What do you know about where the exploiters are",
    "types-of-exploitation": "What kinds of exploitation happened",
    "other-exploitation-details": "What other kind of exploitation",
    "any-other-pvs": "Could other people have been exploited",
    "other-potential-victims-yes-details": "Tell us about the other victims",
    "other-potential-victims-not-sure-details": "Why do you think there may be other victims",
    "future-exploitation-concerns": "exploited again",
    "future-exploitation-reasons": "Why are you worried",
    "reported-to-police": "reported to the police",
    "reported-to-police-police-forces": "Which police force",
    "reported-to-police-crime-reference": "crime reference or CAD number",
    "authorities-cooperation": "willing to help the police",
    "authorities-cooperation-details": "how they are willing to help",
    "pv-want-to-submit-nrm": "Do they agree to an NRM referral",
    "refuse-nrm": "Why does the person not want to be referred",
    "does-pv-need-support": "Does the person want support",
    "pv-phone-number": "How can the support provider phone the person",
    "pv-phone-number-yes": "What is the person's phone number",
    "pv-phone-number-alternative": "What is the other phone number",
    "alternative-number-relation-to-pv": "Whose number is it",
    "no-contact-details": "Why can the person not give a phone number",
    "pv-name-first-name": "What is the person's first name",
    "pv-gender": "What is the person's gender",
    "does-pv-have-children-yes-amount": "How many children",
    "pv-nationality": "What is the person's nationality",
    "pv-nationality-second": "second nationality",
    "pv-interpreter-requirements": "need an interpreter",
    "pv-interpreter-requirements-language": "Which language",
    "pv-other-help-with-communication": "other help to communicate",
    "pv-other-help-with-communication-aid": "What help do they need to communicate",
    "pv-ho-reference": "Home Office reference number",
    "pv-ho-reference-type": "What is their Home Office reference number",
    "who-contact": "Who should the NRM decision be sent to",
    "someone-else": "How should the decision be sent to that contact",
    "someone-else-first-name": "first name of the contact",
    "someone-else-last-name": "contact's last name",
    "someone-else-email-input": "contact's email address",
    "someone-else-street": "contact's street address",
    "someone-else-town": "contact's address in",
    "someone-else-county": "county is the contact's address",
    "someone-else-postcode": "postcode of the contact's address",
    "someone-else-permission-check": "given permission",
    "pv-contact-details": "How can the person be contacted safely",
    "pv-contact-details-email-input": "What is the person's email address",
    "pv-contact-details-email-check": "safe to email",
    "pv-contact-details-street": "person's street address",
    "pv-contact-details-town": "person's address in",
    "pv-contact-details-county": "county is the person's address",
    "pv-contact-details-postcode": "postcode of the person's address",
    "pv-contact-details-post-check": "safe to send letters",
    "fr-details-first-name": "What is your first name",
}

SUMMARY = None
"""Expected "next question" when the answer completes the route: the summary is shown."""

TOWNS = [
    ("Leeds", "where-exploitation-happened-uk-city-2"),
    ("Bradford", "where-exploitation-happened-uk-city-3"),
    ("SKIP", "where-exploitation-happened-other-uk-other-location"),
]
COUNTRIES = [
    ("France", "where-exploitation-happened-overseas-country-2"),
    ("SKIP", "where-exploitation-happened-other-overseas-other-location"),
]

FORKS = [
    # (route of the answers before the fork, question, [(typed, next question), ...])
    ("adult", "pv-under-age", [("no", "pv-under-age-at-time-of-exploitation"), ("no", "birthplace")]),
    ("adult", "pv-under-age", [
        ("yes", "local-authority-contacted-about-child-local-authority-name"),
        ("Leeds", "local-authority-contacted-about-child-local-authority-phone"),
        ("0113 222 4403", "local-authority-contacted-about-child-local-authority-email"),
        ("cs@leeds.gov.uk", "local-authority-contacted-about-child-local-authority-first-name"),
        ("SKIP", "local-authority-contacted-about-child-local-authority-last-name"),
        ("SKIP", "birthplace"),
    ]),
    ("adult", "pv-under-age", [("not-sure", "local-authority-contacted-about-child-local-authority-name")]),
    ("adult", "pv-under-age", [("3", "local-authority-contacted-about-child-local-authority-name")]),
    ("adult", "potential-victim-exploitative-situation-multiple", [
        ("yes", "when-did-the-exploitation-take-place-multiple"),
        ("2019 and 2021", "how-did-the-exploitation-start"),
    ]),
    ("adult", "potential-victim-exploitative-situation-multiple", [
        ("no", "when-did-the-exploitation-take-place"),
        ("2022", "how-did-the-exploitation-start"),
    ]),
    ("adult", "potential-victim-exploitative-situation-multiple", [("I don't know", "when-did-the-exploitation-take-place")]),
    ("adult", "were-they-taken-somewhere-by-their-exploiter", [
        ("yes", "were-they-taken-somewhere-by-their-exploiter-journey-details"),
        ("By van", "what-were-they-required-to-do"),
    ]),
    ("adult", "were-they-taken-somewhere-by-their-exploiter", [("no", "what-were-they-required-to-do")]),
    ("adult", "still-in-exploitative-situation", [
        ("yes", "what-is-keeping-them-in-situation"),
        ("Debt", "when-last-contact"),
    ]),
    ("adult", "still-in-exploitative-situation", [
        ("no", "how-why-did-they-leave-the-situation"),
        ("Escaped", "when-last-contact"),
    ]),
    ("adult", "is-this-the-first-chance-to-report", [
        ("no", "why-report-now"),
        ("Felt safe", "modern-slavery-indicators"),
    ]),
    ("adult", "is-this-the-first-chance-to-report", [
        ("yes", "yes-the-first-chance-to-report"),
        ("SKIP", "modern-slavery-indicators"),
    ]),
    ("adult", "is-this-the-first-chance-to-report", [
        ("not sure", "not-sure-the-first-chance-to-report"),
        ("Maybe a GP", "modern-slavery-indicators"),
    ]),
    ("adult", "modern-slavery-indicators", [
        ("yes", "modern-slavery-indicators-details"),
        ("Bruises", "where-how-interview-carried-out"),
    ]),
    ("adult", "evidence-of-dishonesty", [
        ("yes", "evidence-of-dishonesty-details"),
        ("Dates changed", "are-others-involved"),
    ]),
    ("adult", "are-others-involved", [
        ("yes", "are-others-involved-details"),
        ("Social services", "where-exploitation-happened"),
    ]),
    ("adult", "where-exploitation-happened", [
        ("uk", "where-exploitation-happened-uk-city-1"),
        *TOWNS,
        ("SKIP", "current-pv-location-uk-city"),
    ]),
    ("adult", "where-exploitation-happened", [
        ("overseas", "where-exploitation-happened-overseas-country-1"),
        *COUNTRIES,
        ("SKIP", "current-pv-location-uk-city"),
    ]),
    ("adult", "where-exploitation-happened", [
        ("3", "where-exploitation-happened-uk-city-1"),
        *TOWNS,
        ("SKIP", "where-exploitation-happened-overseas-country-1"),
        *COUNTRIES,
        ("SKIP", "current-pv-location-uk-city"),
    ]),
    ("adult", "exploiters-location", [
        ("yes", "are-exploiters-in-the-uk"),
        ("no", "exploiters-current-location-details"),
        ("Back in Albania", "types-of-exploitation"),
    ]),
    ("adult", "exploiters-location", [("no", "types-of-exploitation")]),
    ("adult", "types-of-exploitation", [
        ("4 10", "other-exploitation-details"),
        ("Begging", "any-other-pvs"),
    ]),
    ("adult", "types-of-exploitation", [("1 2", "any-other-pvs")]),
    ("adult", "any-other-pvs", [
        ("yes", "other-potential-victims-yes-details"),
        ("SKIP", "future-exploitation-concerns"),
    ]),
    ("adult", "any-other-pvs", [
        ("not sure", "other-potential-victims-not-sure-details"),
        ("SKIP", "future-exploitation-concerns"),
    ]),
    ("adult", "future-exploitation-concerns", [
        ("yes", "future-exploitation-reasons"),
        ("Owes money", "reported-to-police"),
    ]),
    ("adult", "future-exploitation-concerns", [("no", "reported-to-police")]),
    ("adult", "reported-to-police", [
        ("yes", "reported-to-police-police-forces"),
        ("met", "reported-to-police-crime-reference"),
        ("CAD 1234", "authorities-cooperation"),
    ]),
    ("adult", "reported-to-police", [("no", "authorities-cooperation")]),
    ("adult", "authorities-cooperation", [
        ("yes", "authorities-cooperation-details"),
        ("SKIP", "pv-want-to-submit-nrm"),
    ]),
    ("adult", "pv-want-to-submit-nrm", [("yes", "does-pv-need-support")]),
    ("adult", "pv-want-to-submit-nrm", [
        ("no", "refuse-nrm"),
        ("SKIP", "pv-gender"),
        ("2", "pv-nationality"),
        ("Polish", "pv-nationality-second"),
        ("SKIP", SUMMARY),
    ]),
    ("dtn-named", "pv-want-to-submit-nrm", [
        ("no", "refuse-nrm"),
        ("SKIP", "pv-name-first-name"),
    ]),
    ("dtn-named", "pv-nationality-second", [
        ("SKIP", "pv-contact-details"),
        ("post", "pv-contact-details-street"),
    ]),
    ("adult", "does-pv-need-support", [("yes", "pv-phone-number")]),
    ("adult", "does-pv-need-support", [("no", "pv-name-first-name")]),
    ("adult", "does-pv-need-support", [
        ("yes", "pv-phone-number"),
        ("1", "pv-phone-number-yes"),
        ("07700 900456", "pv-name-first-name"),
    ]),
    ("adult", "does-pv-need-support", [
        ("yes", "pv-phone-number"),
        ("2", "pv-phone-number-alternative"),
        ("+48 512 345 678", "alternative-number-relation-to-pv"),
        ("Her cousin", "pv-name-first-name"),
    ]),
    ("adult", "does-pv-need-support", [
        ("yes", "pv-phone-number"),
        ("3", "no-contact-details"),
        ("Phone taken by the exploiters", "pv-name-first-name"),
    ]),
    ("adult", "does-pv-have-children", [
        ("yes", "does-pv-have-children-yes-amount"),
        ("two", "pv-nationality"),
    ]),
    ("adult", "pv-interpreter-requirements", [
        ("yes", "pv-interpreter-requirements-language"),
        ("Albanian", "pv-other-help-with-communication"),
    ]),
    ("adult", "pv-other-help-with-communication", [
        ("yes", "pv-other-help-with-communication-aid"),
        ("Easy-read letters", "pv-ho-reference"),
    ]),
    ("adult", "pv-ho-reference", [
        ("yes", "pv-ho-reference-type"),
        ("H1234567", "who-contact"),
    ]),
    ("adult", "pv-ho-reference", [("no", "who-contact")]),
    ("child", "pv-ho-reference", [("no", "fr-details-first-name")]),
    ("child", "authorities-cooperation", [("no", "pv-name-first-name")]),
    ("adult", "who-contact", [
        ("someone else", "someone-else"),
        ("1 2", "someone-else-first-name"),
        ("Maria", "someone-else-last-name"),
        ("SKIP", "someone-else-email-input"),
        ("maria@example.org", "someone-else-street"),
        ("1 High St", "someone-else-town"),
        ("Leeds", "someone-else-county"),
        ("SKIP", "someone-else-postcode"),
        ("LS1 1AA", "someone-else-permission-check"),
        ("yes", "fr-details-first-name"),
    ]),
    ("adult", "who-contact", [("1", "pv-contact-details")]),
    ("adult", "pv-contact-details", [
        ("email", "pv-contact-details-email-input"),
        ("anna@example.com", "pv-contact-details-email-check"),
        ("yes", "fr-details-first-name"),
    ]),
    ("adult", "pv-contact-details", [
        ("post", "pv-contact-details-street"),
        ("10 Park Row", "pv-contact-details-town"),
        ("Leeds", "pv-contact-details-county"),
        ("SKIP", "pv-contact-details-postcode"),
        ("LS1 5AB", "pv-contact-details-post-check"),
        ("yes", "fr-details-first-name"),
    ]),
    ("adult", "pv-contact-details", [
        ("1,2", "pv-contact-details-email-input"),
        ("anna@example.com", "pv-contact-details-email-check"),
        ("y", "pv-contact-details-street"),
    ]),
]


def _fork_id(case: tuple[str, str, list[tuple[str, Any]]]) -> str:
    route, qid, steps = case
    return f"{route}:{qid}=" + ">".join(typed for typed, _ in steps)


@pytest.mark.parametrize(("route", "question", "steps"), FORKS, ids=[_fork_id(case) for case in FORKS])
def test_fork(route: str, question: str, steps: list[tuple[str, str | None]]) -> None:
    conversation = conversation_at(question, route)
    for typed, expected in steps:
        before = conversation.position
        conversation.say(typed)
        if expected is SUMMARY:
            assert conversation.at_summary, conversation.text
            continue
        assert conversation.question_id == expected, f"after {typed!r}: {conversation.text}"
        prompt = conversation.last
        assert PROGRESS.match(prompt)
        assert PROMPT_WORDS[expected] in prompt
        assert conversation.position > before


def test_every_fork_question_has_prompt_words() -> None:
    """The table above names the words of every question a fork leads to (guards typos)."""
    expected = {step for _, _, steps in FORKS for _, step in steps if step is not SUMMARY}
    assert expected <= set(PROMPT_WORDS)
