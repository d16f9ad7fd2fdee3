"""Every question of the referral dialogue, as data, in route order.

One question per field of the Home Office's digital NRM form (``docs/form.md`` §2), keyed
by the form's field id. The route chart, the prompts, the review summary, the payload and its JSON
Schema are all generated from ``QUESTIONS``, so ids, kinds, choice values, ``optional`` and ``when``
must match the form exactly.

Where each part of the form (``docs/form.md``) is covered
- §1.1 steps and §1.2 forks: the order of ``QUESTIONS`` and each question's ``when``. A page with
  several fields becomes several questions; a "Req if yes" dependant is a required question whose
  ``when`` is its parent's triggering answer, an "Opt" one is ``optional=True``.
- §1.3 children: ``CHILD`` (under 18 = yes *or* not-sure) skips the consent question, support,
  phone, who-contact, contact details and the whole Duty to Notify branch, and adds the local
  authority questions. The payload marks their referral `automatic_referral: true` instead of a consent answer.
- §1.6 dead steps (``what-happened``, the disconnected pages, ``why-they-stayed``) are left out.
- §2.1-§2.4 fields: the sections below, in the same order. Access (§6) is replaced by registration:
  ``user-organisation``, ``user-email`` and the responder's name and phone are ``prefillable``.
- File upload is not possible over SMS: ``what-evidence-you-will-submit`` is asked (optional) on
  every referral instead of ``upload-evidence``.

Ordering choices (one tuple gives one order for every path)
- The three paths: A = adult who consents (``CONSENTS``), C = child (``CHILD``), D = adult who does
  not consent, i.e. Duty to Notify (``DTN``). A and C together are ``REFERRAL``.
- ``refuse-nrm`` (D) and the support questions (A) both follow consent; they never share a path,
  so their relative order does not matter.
- The fields shared by the referral and the DtN pages (``pv-name-*``, ``pv-gender``,
  ``pv-nationality*``, ``pv-contact-details*``) are declared once, at their place in the referral
  route, which therefore follows the form exactly: name -> date of birth -> gender -> children ->
  nationality -> interpreter -> communication -> Home Office reference -> who gets the decision ->
  contact -> responder details -> evidence.
- Consequence for D: without co-operation the route is exactly the form's (refuse-nrm -> gender ->
  nationality -> summary). With co-operation (``DTN_NAMED``) the name is asked *before* gender and
  nationality instead of after them; contact details still come last. That is the only deviation
  from the form's page order, and it changes no answer: the name questions are asked only when the
  person agreed to help the authorities, exactly as on the form.
- Set-up asks ``reference`` first and ``fr-location`` before the age question, as the form does;
  ``user-organisation`` and ``user-email`` sit between them (both usually come from registration
  and are needed on every path, DtN included). The responder's own name, role and phone are asked
  on referrals only (the form's /fr-details), near the end.

Text conventions: prompts are plain SMS English about "the person" (never "PV"), one question each,
with no numbering, choices or SKIP hint (``flows.render`` adds the progress, the numbered choices,
the format hints and "Reply SKIP to leave it out." for optional questions). ASCII quotes only.
"""

from __future__ import annotations

from flows.question import N_, Answer, Choice, Condition, Kind, Question

# -- sections of the review summary, in route order -------------------------------------------

S_ABOUT_YOU = N_("About you")
S_AGE = N_("Age")
S_BACKGROUND = N_("Background")
S_WHAT_HAPPENED = N_("What happened")
S_WHERE_WHO = N_("Where and who")
S_CONSENT = N_("Consent")
S_SUPPORT = N_("Support")
S_PERSON = N_("About the person")
S_CONTACT = N_("Contact")
S_YOUR_DETAILS = N_("Your details")
S_EVIDENCE = N_("Evidence")

SECTIONS: tuple[str, ...] = (
    S_ABOUT_YOU,
    S_AGE,
    S_BACKGROUND,
    S_WHAT_HAPPENED,
    S_WHERE_WHO,
    S_CONSENT,
    S_SUPPORT,
    S_PERSON,
    S_CONTACT,
    S_YOUR_DETAILS,
    S_EVIDENCE,
)

P_DETAILS = N_("Details and contact")

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (S_ABOUT_YOU, (S_ABOUT_YOU,)),
    (S_AGE, (S_AGE,)),
    (S_BACKGROUND, (S_BACKGROUND,)),
    (S_WHAT_HAPPENED, (S_WHAT_HAPPENED,)),
    (S_WHERE_WHO, (S_WHERE_WHO,)),
    (S_CONSENT, (S_CONSENT, S_SUPPORT)),
    (P_DETAILS, (S_PERSON, S_CONTACT, S_YOUR_DETAILS, S_EVIDENCE)),
)
"""The form's seven parts (NRM-FORM.md §1.1: set-up, age, background, account of exploitation,
where and who, consent, then the referral or DtN details), each with the summary sections it
groups. Progress is counted by part ("What happened 4/28"), so it only moves forward while the
questions are answered in order: a branch can add a question to a part, never a part."""

PART_OF: dict[str, int] = {
    section: number for number, (_, sections) in enumerate(PARTS, start=1) for section in sections
}
"""Summary section -> the number of its part (1 to 7)."""


def part_of(question: Question) -> tuple[int, str]:
    """The number (1 to 7) and the name (a msgid) of the part of the form a question is in."""
    number = PART_OF[question.section]
    return number, PARTS[number - 1][0]

# -- route conditions (NRM-FORM.md §1.2, §1.3) ------------------------------------------------

CHILD: Condition = Answer("pv-under-age").is_("yes", "not-sure")
"""Under 18, or not sure: treated as a child, automatic referral without consent (path C)."""
ADULT: Condition = Answer("pv-under-age").is_("no")
CONSENTS: Condition = ADULT & Answer("pv-want-to-submit-nrm").is_("yes")
"""Adult who agreed to an NRM referral (path A)."""
REFUSES: Condition = ADULT & Answer("pv-want-to-submit-nrm").is_("no")
REFERRAL: Condition = CHILD | CONSENTS
"""An NRM referral is made (paths A and C)."""
DTN: Condition = REFUSES
"""Duty to Notify: an adult who did not consent; anonymous unless co-operating (path D)."""
DTN_NAMED: Condition = DTN & Answer("authorities-cooperation").is_("yes")
"""A DtN in which the person agreed to help the authorities: name and contact are asked."""

UK_PLACES: Condition = Answer("where-exploitation-happened").is_("uk", "uk-and-overseas")
OVERSEAS_PLACES: Condition = Answer("where-exploitation-happened").is_("overseas", "uk-and-overseas")

SUPPORT_PHONE: Condition = CONSENTS & Answer("does-pv-need-support").is_("yes")
DECISION_TO_PV: Condition = CONSENTS & Answer("who-contact").is_("potential-victim")
DECISION_TO_SOMEONE_ELSE: Condition = CONSENTS & Answer("who-contact").is_("someone-else")
PV_CONTACT: Condition = DECISION_TO_PV | DTN_NAMED
"""The person's own contact details: referral with the decision sent to them, or a named DtN."""

# -- helpers -----------------------------------------------------------------------------------

_NOT_SURE_WORDS = ("not sure", "unsure", "dont know", "don't know", "do not know", "ns")


def _yes_no_not_sure(not_sure_label: str = N_("Not sure")) -> tuple[Choice, ...]:
    """Yes / No / Not sure, with the values the form uses (yes, no, not-sure)."""
    return (
        Choice("yes", N_("Yes"), ("y",)),
        Choice("no", N_("No"), ("n",)),
        Choice("not-sure", not_sure_label, _NOT_SURE_WORDS),
    )


def _more_places(
    id_prefix: str,
    when: Condition,
    first: Question,
    *,
    prompt: str,
    help_text: str,
    summary: str,
    section: str,
) -> tuple[Question, ...]:
    """Place 1 (required on its branch) then places 2-10, each optional and asked only when the
    one before it was given, so SKIP ends the list (the form's ten selects on one page)."""
    more = tuple(
        Question(
            id=f"{id_prefix}-{n}",
            kind=first.kind,
            prompt=prompt,
            help=help_text,
            section=section,
            summary=summary,
            optional=True,
            when=when & Answer(f"{id_prefix}-{n - 1}").given(),
            lookup=first.lookup,
            exclude=first.exclude,
            free_text=first.free_text,
        )
        for n in range(2, 11)
    )
    return (first, *more)


# -- §2.1 set-up ---------------------------------------------------------------------------------

_SET_UP = (
    Question(
        id="reference",
        kind=Kind.TEXT,
        proper_name=True,
        prompt=N_(
            "Give this referral a short reference of your own, so you can find it later, "
            "e.g. your team's case number or a code like SA-0412."
        ),
        help=N_(
            "The reference is only for you and your team: it is not sent with the referral or "
            "report. We repeat it in messages to you, so use a code that does not identify the "
            "person, never their name or initials."
        ),
        section=S_ABOUT_YOU,
        summary=N_("Your reference"),
    ),
    Question(
        id="user-organisation",
        kind=Kind.LOOKUP,
        lookup="first-responder-organisations",
        prompt=N_("Which organisation do you work for?"),
        help=N_(
            "Only staff of a designated first responder organisation can make a referral. "
            "Type its name; we match it to the Home Office list."
        ),
        section=S_ABOUT_YOU,
        summary=N_("Organisation"),
        prefillable=True,
    ),
    Question(
        id="user-email",
        kind=Kind.EMAIL,
        prompt=N_("What is your work email address?"),
        help=N_(
            "The decision makers use it to contact you about this report, so use your work address."
        ),
        section=S_ABOUT_YOU,
        summary=N_("Your email"),
        prefillable=True,
    ),
    Question(
        id="fr-location",
        kind=Kind.CHOICE,
        choices=(
            Choice("england", N_("England")),
            Choice("wales", N_("Wales"), ("cymru",)),
            Choice("scotland", N_("Scotland")),
            Choice("northern-ireland", N_("Northern Ireland"), ("ni",)),
        ),
        prompt=N_("In which part of the UK are you making this report?"),
        help=N_(
            "The four UK nations handle referrals slightly differently, for example in support and "
            "working days. Choose where you are making the report."
        ),
        section=S_ABOUT_YOU,
        summary=N_("Where you are"),
    ),
)

# -- §2.1 age ------------------------------------------------------------------------------------

_AGE = (
    Question(
        id="pv-under-age",
        kind=Kind.CHOICE,
        choices=_yes_no_not_sure(),
        prompt=N_("Is the person under 18?"),
        help=N_(
            "If you are not sure, they are treated as a child until their age is assessed. "
            "Children do not need to consent: the referral is made anyway, and you must tell "
            "their local authority."
        ),
        section=S_AGE,
        summary=N_("Under 18"),
    ),
    Question(
        id="local-authority-contacted-about-child-local-authority-name",
        kind=Kind.LOOKUP,
        lookup="uk-local-authorities",
        when=CHILD,
        prompt=N_("Which local authority have you contacted about the child?"),
        help=N_(
            "A child must also be referred to the local authority's children's services. "
            "Type the council's name; we match it to the list."
        ),
        section=S_AGE,
        summary=N_("Local authority"),
    ),
    Question(
        id="local-authority-contacted-about-child-local-authority-phone",
        kind=Kind.PHONE,
        when=CHILD,
        prompt=N_("What is the local authority's phone number?"),
        help=N_("The number the decision makers can call about the child, ideally children's services."),
        section=S_AGE,
        summary=N_("Local authority phone"),
    ),
    Question(
        id="local-authority-contacted-about-child-local-authority-email",
        kind=Kind.EMAIL,
        when=CHILD,
        prompt=N_("What is the local authority's email address?"),
        help=N_("The address the decision makers can write to about the child."),
        section=S_AGE,
        summary=N_("Local authority email"),
    ),
    Question(
        id="local-authority-contacted-about-child-local-authority-first-name",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=CHILD,
        prompt=N_("What is the first name of your contact at the local authority?"),
        help=N_("The social worker or officer you spoke to, if you know their name."),
        section=S_AGE,
        summary=N_("LA contact first name"),
    ),
    Question(
        id="local-authority-contacted-about-child-local-authority-last-name",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=CHILD,
        prompt=N_("What is the last name of your contact at the local authority?"),
        help=N_("The social worker or officer you spoke to, if you know their name."),
        section=S_AGE,
        summary=N_("LA contact last name"),
    ),
    Question(
        id="pv-under-age-at-time-of-exploitation",
        kind=Kind.CHOICE,
        choices=_yes_no_not_sure(),
        when=ADULT,
        prompt=N_("Was the person under 18 at any time during the exploitation?"),
        help=N_(
            "Exploitation that began when they were a child is assessed with that in mind, even "
            "if they are an adult now."
        ),
        section=S_AGE,
        summary=N_("Under 18 when exploited"),
    ),
)

# -- §2.1 background -----------------------------------------------------------------------------

_BACKGROUND = (
    Question(
        id="birthplace",
        kind=Kind.TEXT,
        prompt=N_("Where was the person born? Give the town or village and the country."),
        help=N_(
            "Background helps the decision makers understand the person's situation and how they "
            "became vulnerable. If they did not say, reply Not known."
        ),
        section=S_BACKGROUND,
        summary=N_("Place of birth"),
    ),
    Question(
        id="family",
        kind=Kind.TEXT,
        prompt=N_("What do you know about the person's family, such as parents, brothers and sisters?"),
        help=N_(
            "Family circumstances can explain how someone came to be exploited. "
            "If they did not say, reply Not known."
        ),
        section=S_BACKGROUND,
        summary=N_("Family"),
    ),
    Question(
        id="education",
        kind=Kind.TEXT,
        prompt=N_("What education did the person have, and what did they do after leaving school?"),
        help=N_(
            "Schooling and what came after help show their situation before the exploitation. "
            "If they did not say, reply Not known."
        ),
        section=S_BACKGROUND,
        summary=N_("Education"),
    ),
    Question(
        id="employment-history",
        kind=Kind.TEXT,
        prompt=N_("What jobs has the person had, and what were the working conditions?"),
        help=N_(
            "Past work, pay and conditions can show patterns of exploitation. "
            "If they did not say, reply Not known."
        ),
        section=S_BACKGROUND,
        summary=N_("Work history"),
    ),
)

# -- §2.2 account of exploitation (all paths) ----------------------------------------------------

_MULTIPLE = Answer("potential-victim-exploitative-situation-multiple")
_FIRST_CHANCE = Answer("is-this-the-first-chance-to-report")

_ACCOUNT = (
    Question(
        id="potential-victim-exploitative-situation-multiple",
        kind=Kind.CHOICE,
        choices=(
            Choice("yes", N_("Yes"), ("y",)),
            Choice("no", N_("No"), ("n",)),
            Choice("i-dont-know", N_("I don't know"), _NOT_SURE_WORDS),
        ),
        prompt=N_("Has the person been exploited in more than one situation?"),
        help=N_(
            "For example by different people, in different places or at different times, even if "
            "the type of exploitation was different. Every situation counts."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("More than one situation"),
    ),
    Question(
        id="when-did-the-exploitation-take-place",
        kind=Kind.TEXT,
        when=_MULTIPLE.is_("no", "i-dont-know"),
        prompt=N_(
            "When did the exploitation happen? Rough dates are fine, e.g. summer 2022, "
            "or when they were 15."
        ),
        help=N_(
            "If they do not know exact dates, give a time frame, how old they were, or whether it "
            "was recent."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("When it happened"),
    ),
    Question(
        id="when-did-the-exploitation-take-place-multiple",
        kind=Kind.TEXT,
        when=_MULTIPLE.is_("yes"),
        prompt=N_(
            "When did each situation happen, and what kind of exploitation was each? "
            "Rough dates are fine."
        ),
        help=N_(
            "List each period with its dates or a time frame and the type, e.g. "
            "2019-2020 farm work, 2021 cannabis growing."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("When each happened"),
    ),
    Question(
        id="how-did-the-exploitation-start",
        kind=Kind.TEXT,
        prompt=N_("How did the exploitation start? e.g. what they were promised, the job or pay they expected."),
        help=N_(
            "How people are recruited or deceived is central to the decision. Include who made "
            "promises and what was offered."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("How it started"),
    ),
    Question(
        id="were-they-taken-somewhere-by-their-exploiter",
        kind=Kind.YES_NO,
        prompt=N_("Did the exploiters take or move the person anywhere?"),
        help=N_(
            "This includes journeys within the UK as well as from abroad. Movement can be a sign "
            "of trafficking."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Taken somewhere"),
    ),
    Question(
        id="were-they-taken-somewhere-by-their-exploiter-journey-details",
        kind=Kind.TEXT,
        when=Answer("were-they-taken-somewhere-by-their-exploiter").is_("yes"),
        prompt=N_("Describe the journey: how it began, the transport used, and any routes, places or times."),
        help=N_("Details such as routes, landmarks and who travelled with them help the authorities."),
        section=S_WHAT_HAPPENED,
        summary=N_("Journey details"),
    ),
    Question(
        id="what-were-they-required-to-do",
        kind=Kind.TEXT,
        prompt=N_("What was an average day like? What did they have to do, for how many hours, with what breaks?"),
        help=N_("The work or acts they were made to do, and how long for, show how they were exploited."),
        section=S_WHAT_HAPPENED,
        summary=N_("An average day"),
    ),
    Question(
        id="living-conditions",
        kind=Kind.TEXT,
        prompt=N_("What were their living conditions? e.g. where they slept, food, access to a bathroom."),
        help=N_("Poor or controlled living conditions are a common sign of modern slavery."),
        section=S_WHAT_HAPPENED,
        summary=N_("Living conditions"),
    ),
    Question(
        id="how-they-were-treated",
        kind=Kind.TEXT,
        prompt=N_("How did the exploiters treat the person? e.g. threats, violence, debts, taking their documents."),
        help=N_(
            "Force, threats, debt bondage and control of documents are key signs the decision "
            "makers look for."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("How they were treated"),
    ),
    Question(
        id="still-in-exploitative-situation",
        kind=Kind.YES_NO,
        prompt=N_("Is the person still in the exploitative situation?"),
        help=N_(
            "If they are in immediate danger, call 999. The answer helps judge how urgent the "
            "case is."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Still exploited"),
    ),
    Question(
        id="what-is-keeping-them-in-situation",
        kind=Kind.TEXT,
        when=Answer("still-in-exploitative-situation").is_("yes"),
        prompt=N_("What is stopping them from leaving? e.g. threats, debts, fear, their documents being held."),
        help=N_("What keeps someone in a situation shows the control the exploiters have over them."),
        section=S_WHAT_HAPPENED,
        summary=N_("Why they cannot leave"),
    ),
    Question(
        id="how-why-did-they-leave-the-situation",
        kind=Kind.TEXT,
        when=Answer("still-in-exploitative-situation").is_("no"),
        prompt=N_("How and why did they leave? Was it their decision, and did anyone help them?"),
        help=N_("How they got out helps show what happened and whether they are still at risk."),
        section=S_WHAT_HAPPENED,
        summary=N_("How they left"),
    ),
    Question(
        id="when-last-contact",
        kind=Kind.CHOICE,
        choices=(
            Choice("within-the-last-week", N_("Within the last week")),
            Choice("within-the-last-month", N_("Within the last month")),
            Choice("within-the-last-3-month", N_("Within the last 3 months")),
            Choice("within-the-last-6-month", N_("Within the last 6 months")),
            Choice("within-the-last-6-12-month", N_("6 to 12 months ago")),
            Choice("over-a-year-ago", N_("Over a year ago")),
            Choice("not-sure", N_("Not sure"), _NOT_SURE_WORDS),
        ),
        prompt=N_("When were the person and the exploiters last in contact?"),
        help=N_(
            "Contact means in person, calls, messages, emails, letters or through someone else. "
            "Recent contact can mean the person is still at risk."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Last contact"),
    ),
    Question(
        id="details-last-contact",
        kind=Kind.TEXT,
        optional=True,
        no_urls=True,
        prompt=N_("Tell us about that last contact: how it happened and what was said."),
        help=N_(
            "Please do not include web links. You can send screenshots or files as evidence "
            "separately."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Last contact details"),
    ),
    Question(
        id="is-this-the-first-chance-to-report",
        kind=Kind.CHOICE,
        choices=_yes_no_not_sure(),
        prompt=N_("Has the person reported this exploitation before, to anyone?"),
        help=N_(
            "For example to the police, a charity or a doctor. Many victims do not report at "
            "first; the decision makers want to understand when and why they did."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Reported before"),
    ),
    Question(
        id="yes-the-first-chance-to-report",
        kind=Kind.TEXT,
        optional=True,
        when=_FIRST_CHANCE.is_("yes"),
        prompt=N_("Tell us about the earlier report: who they told, when, and what happened."),
        help=N_("Earlier reports and reference numbers help the decision makers find related records."),
        section=S_WHAT_HAPPENED,
        summary=N_("Earlier report"),
    ),
    Question(
        id="not-sure-the-first-chance-to-report",
        kind=Kind.TEXT,
        optional=True,
        when=_FIRST_CHANCE.is_("not-sure"),
        prompt=N_("Tell us what you know about any earlier report."),
        help=N_("Anything that might point to an earlier report helps the decision makers find related records."),
        section=S_WHAT_HAPPENED,
        summary=N_("Possible earlier report"),
    ),
    Question(
        id="why-report-now",
        kind=Kind.TEXT,
        when=_FIRST_CHANCE.is_("no"),
        prompt=N_("Why is the person reporting it now?"),
        help=N_(
            "What led them to come forward now, e.g. they escaped, were arrested, or felt safe to "
            "talk. Delays in reporting are common among victims."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Why report now"),
    ),
    Question(
        id="modern-slavery-indicators",
        kind=Kind.YES_NO,
        prompt=N_(
            "Have you seen signs of modern slavery, such as injuries, fear, no documents, or not "
            "knowing their address?"
        ),
        help=N_(
            "Indicators are signs listed in the statutory guidance. Say what you noticed yourself, "
            "not only what they told you."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Signs of slavery"),
    ),
    Question(
        id="modern-slavery-indicators-details",
        kind=Kind.TEXT,
        when=Answer("modern-slavery-indicators").is_("yes"),
        prompt=N_("What signs did you see? Describe each one."),
        help=N_("Describe what you saw or heard, e.g. injuries, a controlling companion, being scripted."),
        section=S_WHAT_HAPPENED,
        summary=N_("Signs seen"),
    ),
    Question(
        id="where-how-interview-carried-out",
        kind=Kind.TEXT,
        prompt=N_(
            "Where and how did you speak with the person? e.g. the place, any interpreter, breaks, "
            "number of sessions."
        ),
        help=N_(
            "How the account was given affects how it is read. Include breaks and why, the number "
            "of sessions, and any safeguarding concerns."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("About the interview"),
    ),
    Question(
        id="professional-insight",
        kind=Kind.TEXT,
        prompt=N_("What is your professional view of the person's account and situation?"),
        help=N_(
            "Your view matters to the decision. Say why you think this may be modern slavery and "
            "anything, such as trauma or fear, that affected how they told it."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Your professional view"),
    ),
    Question(
        id="evidence-of-dishonesty",
        kind=Kind.YES_NO,
        prompt=N_("Do you have any concerns about the person's credibility?"),
        help=N_(
            "Decision makers need all the relevant information. Mention anything that does not add "
            "up; it does not stop the referral."
        ),
        section=S_WHAT_HAPPENED,
        summary=N_("Credibility concerns"),
    ),
    Question(
        id="evidence-of-dishonesty-details",
        kind=Kind.TEXT,
        when=Answer("evidence-of-dishonesty").is_("yes"),
        prompt=N_("What are your concerns about their credibility?"),
        help=N_("Describe any signs or evidence of dishonesty, and what they are based on."),
        section=S_WHAT_HAPPENED,
        summary=N_("Credibility details"),
    ),
    Question(
        id="are-others-involved",
        kind=Kind.YES_NO,
        prompt=N_("Are other professionals involved, such as police, social workers or charities?"),
        help=N_("Other professionals may hold information that supports the decision."),
        section=S_WHAT_HAPPENED,
        summary=N_("Others involved"),
    ),
    Question(
        id="are-others-involved-details",
        kind=Kind.TEXT,
        when=Answer("are-others-involved").is_("yes"),
        prompt=N_("Who else is involved? Include referrals made, actions taken, reference numbers or contacts."),
        help=N_("Names of organisations, contact details and reference numbers let the decision makers ask them."),
        section=S_WHAT_HAPPENED,
        summary=N_("Who else is involved"),
    ),
)

# -- §2.3 locations, exploiters, types (all paths) -----------------------------------------------

_UK_TOWNS = _more_places(
    "where-exploitation-happened-uk-city",
    UK_PLACES,
    Question(
        id="where-exploitation-happened-uk-city-1",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="uk-towns",
        when=UK_PLACES,
        prompt=N_("In which UK town or city were they exploited? Reply Unknown if they are not sure."),
        help=N_(
            "Give the nearest town or city; you can add more places next. "
            "It tells the authorities which police force and council are involved."
        ),
        section=S_WHERE_WHO,
        summary=N_("UK town or city"),
    ),
    prompt=N_("Another UK town or city where they were exploited?"),
    help_text=N_("You can give up to 10 towns or cities. Reply SKIP when there are no more."),
    summary=N_("Another UK town"),
    section=S_WHERE_WHO,
)

_COUNTRIES = _more_places(
    "where-exploitation-happened-overseas-country",
    OVERSEAS_PLACES,
    Question(
        id="where-exploitation-happened-overseas-country-1",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="countries",
        exclude=("United Kingdom",),
        when=OVERSEAS_PLACES,
        prompt=N_("In which country outside the UK were they exploited? Reply Unknown if they are not sure."),
        help=N_("Give the country; you can add more countries next. UK places are asked separately."),
        section=S_WHERE_WHO,
        summary=N_("Country"),
    ),
    prompt=N_("Another country where they were exploited?"),
    help_text=N_("You can give up to 10 countries. Reply SKIP when there are no more."),
    summary=N_("Another country"),
    section=S_WHERE_WHO,
)

_EXPLOITERS_KNOWN = Answer("exploiters-location").is_("yes")
_OTHER_PVS = Answer("any-other-pvs")

_WHERE_AND_WHO = (
    Question(
        id="where-exploitation-happened",
        kind=Kind.CHOICE,
        choices=(
            Choice("uk", N_("In the UK")),
            Choice("overseas", N_("Overseas"), ("abroad",)),
            Choice("uk-and-overseas", N_("Both UK and overseas"), ("both",)),
        ),
        prompt=N_("Where was the person exploited?"),
        help=N_("Choose both if any part of the exploitation happened in the UK and any part abroad."),
        section=S_WHERE_WHO,
        summary=N_("Where exploited"),
    ),
    *_UK_TOWNS,
    Question(
        id="where-exploitation-happened-other-uk-other-location",
        kind=Kind.TEXT,
        optional=True,
        when=UK_PLACES,
        prompt=N_("Any addresses or other details about where in the UK it happened?"),
        help=N_("Addresses, streets, workplaces or landmarks help the police find the place."),
        section=S_WHERE_WHO,
        summary=N_("UK addresses"),
    ),
    *_COUNTRIES,
    Question(
        id="where-exploitation-happened-other-overseas-other-location",
        kind=Kind.TEXT,
        optional=True,
        when=OVERSEAS_PLACES,
        prompt=N_("Any addresses or other details about where overseas it happened?"),
        help=N_("Cities, addresses, workplaces or landmarks abroad help identify the place."),
        section=S_WHERE_WHO,
        summary=N_("Overseas addresses"),
    ),
    Question(
        id="current-pv-location-uk-city",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="uk-towns",
        prompt=N_("Which UK town or city is the person in now? Reply Unknown if you do not know."),
        help=N_("Where they are now tells the authorities who can support and protect them."),
        section=S_WHERE_WHO,
        summary=N_("Town now"),
    ),
    Question(
        id="current-pv-location-uk-region",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="uk-regions",
        prompt=N_("Which county or region is that in? Reply Unknown if you do not know."),
        help=N_("For example Greater London, Kent or County Antrim. It helps route the case locally."),
        section=S_WHERE_WHO,
        summary=N_("Region now"),
    ),
    Question(
        id="who-exploited-pv",
        kind=Kind.TEXT,
        prompt=N_(
            "Who exploited the person? e.g. names or nicknames, languages spoken, gang, tattoos or "
            "other features."
        ),
        help=N_("Anything that could identify the exploiters helps the police investigate and protect others."),
        section=S_WHERE_WHO,
        summary=N_("Who exploited them"),
    ),
    Question(
        id="exploiters-location",
        kind=Kind.YES_NO,
        prompt=N_("Do you have any information about where the exploiters are now?"),
        help=N_("Say yes even if the information may be out of date."),
        section=S_WHERE_WHO,
        summary=N_("Exploiters' location known"),
    ),
    Question(
        id="are-exploiters-in-the-uk",
        kind=Kind.YES_NO,
        when=_EXPLOITERS_KNOWN,
        prompt=N_("Are the exploiters in the UK? If unsure, answer for their last known location."),
        help=N_("This tells the authorities whether UK police can act directly."),
        section=S_WHERE_WHO,
        summary=N_("Exploiters in the UK"),
    ),
    Question(
        id="exploiters-current-location-details",
        kind=Kind.TEXT,
        when=_EXPLOITERS_KNOWN,
        prompt=N_("What do you know about where the exploiters are? Any place, or who else knows."),
        help=N_(
            "A general or exact location, even if out of date, or an organisation that has this "
            "information."
        ),
        section=S_WHERE_WHO,
        summary=N_("Exploiters' location"),
    ),
    Question(
        id="types-of-exploitation",
        kind=Kind.MULTI,
        choices=(
            Choice("forced-to-work", N_("Forced to work for little or no pay")),
            Choice("wages-taken", N_("Wages taken from them")),
            Choice("forced-to-commit-fraud", N_("Forced to commit fraud")),
            Choice("prostitution", N_("Forced into prostitution")),
            Choice("child-exploitation", N_("Child sexual exploitation")),
            Choice("taken-somewhere", N_("Held and sexually assaulted")),
            Choice("forced-to-commit-crime", N_("Forced to commit crime")),
            Choice("organs-removed", N_("Organs removed")),
            Choice("unpaid-household-work", N_("Unpaid or low-paid housework")),
            Choice("other", N_("Other")),
        ),
        prompt=N_("What kinds of exploitation happened?"),
        help=N_(
            "Pick all that apply. Wages taken includes control of their bank account; fraud "
            "includes benefit fraud; crime includes drugs, county lines and begging."
        ),
        section=S_WHERE_WHO,
        summary=N_("Types of exploitation"),
    ),
    Question(
        id="other-exploitation-details",
        kind=Kind.TEXT,
        when=Answer("types-of-exploitation").includes("other"),
        prompt=N_("What other kind of exploitation was it?"),
        help=N_("Describe the exploitation that is not in the list."),
        section=S_WHERE_WHO,
        summary=N_("Other exploitation"),
    ),
    Question(
        id="any-other-pvs",
        kind=Kind.CHOICE,
        choices=_yes_no_not_sure(),
        prompt=N_("Could other people have been exploited too?"),
        help=N_("Other potential victims may need help, and the police may need to find them."),
        section=S_WHERE_WHO,
        summary=N_("Other victims"),
    ),
    Question(
        id="other-potential-victims-yes-details",
        kind=Kind.TEXT,
        optional=True,
        when=_OTHER_PVS.is_("yes"),
        prompt=N_("Tell us about the other victims, e.g. how many, their ages, and where they are."),
        help=N_("Do not give their names. Anything that helps find and protect them is useful."),
        section=S_WHERE_WHO,
        summary=N_("Other victims details"),
    ),
    Question(
        id="other-potential-victims-not-sure-details",
        kind=Kind.TEXT,
        optional=True,
        when=_OTHER_PVS.is_("not-sure"),
        prompt=N_("Why do you think there may be other victims?"),
        help=N_("Do not give their names. Anything that helps find and protect them is useful."),
        section=S_WHERE_WHO,
        summary=N_("Possible other victims"),
    ),
    Question(
        id="future-exploitation-concerns",
        kind=Kind.YES_NO,
        prompt=N_("Are you worried the person could be exploited again?"),
        help=N_("This helps decide how urgent the case is and what protection they need."),
        section=S_WHERE_WHO,
        summary=N_("Risk of more exploitation"),
    ),
    Question(
        id="future-exploitation-reasons",
        kind=Kind.TEXT,
        when=Answer("future-exploitation-concerns").is_("yes"),
        prompt=N_("Why are you worried they could be exploited again?"),
        help=N_("For example, debts, threats to family, or the exploiters still being in contact."),
        section=S_WHERE_WHO,
        summary=N_("Why at risk"),
    ),
    Question(
        id="reported-to-police",
        kind=Kind.YES_NO,
        prompt=N_("Has this been reported to the police, with a crime reference number?"),
        help=N_("A crime or incident reference lets the decision makers get information from the police."),
        section=S_WHERE_WHO,
        summary=N_("Reported to police"),
    ),
    Question(
        id="reported-to-police-police-forces",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="uk-police-forces",
        when=Answer("reported-to-police").is_("yes"),
        prompt=N_("Which police force was it reported to?"),
        help=N_("Type the force's name, e.g. Met, West Midlands or British Transport Police."),
        section=S_WHERE_WHO,
        summary=N_("Police force"),
    ),
    Question(
        id="reported-to-police-crime-reference",
        kind=Kind.TEXT,
        when=Answer("reported-to-police").is_("yes"),
        prompt=N_("What is the crime reference or CAD number?"),
        help=N_("A CAD number is the police's reference for an incident log. Either number is fine."),
        section=S_WHERE_WHO,
        summary=N_("Crime reference"),
    ),
    Question(
        id="authorities-cooperation",
        kind=Kind.YES_NO,
        prompt=N_("Is the person willing to help the police or other authorities with their investigations?"),
        help=N_(
            "If an adult does not agree to a referral, a yes here means their name and contact "
            "details go in the Duty to Notify report so the police can contact them."
        ),
        section=S_WHERE_WHO,
        summary=N_("Will help authorities"),
    ),
    Question(
        id="authorities-cooperation-details",
        kind=Kind.TEXT,
        optional=True,
        no_urls=True,
        when=Answer("authorities-cooperation").is_("yes"),
        prompt=N_("Tell us more about how they are willing to help."),
        help=N_("For example, giving a statement or being contacted by an officer. Please do not include web links."),
        section=S_WHERE_WHO,
        summary=N_("How they will help"),
    ),
)

# -- §2.4 consent; Duty to Notify reason; support (adults only) ----------------------------------

_CONSENT = (
    Question(
        id="pv-want-to-submit-nrm",
        kind=Kind.YES_NO,
        when=ADULT,
        prompt=N_(
            "You have told the person what an NRM referral means and given them the Privacy "
            "Information Notice. Do they agree to an NRM referral?"
        ),
        help=N_(
            "The National Referral Mechanism (NRM) decides if someone is a victim and gives access "
            "to support. Adults must agree. If they say no, you make a Duty to Notify report "
            "instead, without their name unless they agreed to help the police."
        ),
        section=S_CONSENT,
        summary=N_("Agrees to referral"),
    ),
    Question(
        id="refuse-nrm",
        kind=Kind.TEXT,
        optional=True,
        when=DTN,
        prompt=N_("Why does the person not want to be referred?"),
        help=N_(
            "This is now a Duty to Notify report: it tells the Home Office about a potential "
            "victim, without their name or contact details unless they agreed to help the police. "
            "Their reasons help improve the service."
        ),
        section=S_CONSENT,
        summary=N_("Why they said no"),
    ),
    Question(
        id="does-pv-need-support",
        kind=Kind.YES_NO,
        when=CONSENTS,
        prompt=N_("Does the person want support, such as safe housing, money or counselling?"),
        help=N_(
            "Adults referred to the NRM can get support while their case is decided. If yes, we "
            "ask how the support provider can phone them."
        ),
        section=S_SUPPORT,
        summary=N_("Wants support"),
    ),
    Question(
        id="pv-phone-number",
        kind=Kind.CHOICE,
        choices=(
            Choice("yes", N_("Their own number")),
            Choice("pv-alternative-number", N_("Another number, e.g. a friend")),
            Choice("no", N_("No number available")),
        ),
        when=SUPPORT_PHONE,
        prompt=N_("How can the support provider phone the person?"),
        help=N_(
            "The support provider calls to arrange help. If the person has no safe phone, give "
            "someone else's number or say why not."
        ),
        section=S_SUPPORT,
        summary=N_("Phone for support"),
    ),
    Question(
        id="pv-phone-number-yes",
        kind=Kind.PHONE,
        when=SUPPORT_PHONE & Answer("pv-phone-number").is_("yes"),
        prompt=N_("What is the person's phone number?"),
        help=N_("Check it is safe to call them on it. Add the country code, e.g. +48, if it is not a UK number."),
        section=S_SUPPORT,
        summary=N_("Their phone"),
    ),
    Question(
        id="pv-phone-number-alternative",
        kind=Kind.PHONE,
        when=SUPPORT_PHONE & Answer("pv-phone-number").is_("pv-alternative-number"),
        prompt=N_("What is the other phone number?"),
        help=N_("A number of someone the person trusts. Add the country code if it is not a UK number."),
        section=S_SUPPORT,
        summary=N_("Other phone"),
    ),
    Question(
        id="alternative-number-relation-to-pv",
        kind=Kind.TEXT,
        max_length=250,
        when=SUPPORT_PHONE & Answer("pv-phone-number").is_("pv-alternative-number"),
        prompt=N_("Whose number is it, and how do they know the person?"),
        help=N_("For example a friend, relative or support worker. The support provider will ask for the person."),
        section=S_SUPPORT,
        summary=N_("Whose number"),
    ),
    Question(
        id="no-contact-details",
        kind=Kind.TEXT,
        when=SUPPORT_PHONE & Answer("pv-phone-number").is_("no"),
        prompt=N_("Why can the person not give a phone number?"),
        help=N_("This tells the support provider how else they might reach the person."),
        section=S_SUPPORT,
        summary=N_("Why no phone"),
    ),
)

# -- §2.4 about the person (A and C; gender and nationality also D; name also named D) -----------

_NAMED = REFERRAL | DTN_NAMED
_DESCRIBED = REFERRAL | DTN

_PERSON = (
    Question(
        id="pv-name-first-name",
        kind=Kind.TEXT,
        proper_name=True,
        when=_NAMED,
        prompt=N_("What is the person's first name?"),
        help=N_(
            "Use the name they gave you. In a Duty to Notify report it is asked only because they "
            "agreed to help the authorities."
        ),
        section=S_PERSON,
        summary=N_("First name"),
    ),
    Question(
        id="pv-name-last-name",
        kind=Kind.TEXT,
        proper_name=True,
        when=_NAMED,
        prompt=N_("What is the person's last name (surname)?"),
        help=N_("Use the name they gave you. Reply Not known if they did not give one."),
        section=S_PERSON,
        summary=N_("Last name"),
    ),
    Question(
        id="pv-name-nickname",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=_NAMED,
        prompt=N_("Did they use any other name or nickname, e.g. during the exploitation?"),
        help=N_("Other names help match records held by the police or other organisations."),
        section=S_PERSON,
        summary=N_("Other names"),
    ),
    Question(
        id="pv-dob",
        kind=Kind.DATE,
        optional=True,
        partial_date=True,
        when=REFERRAL,
        prompt=N_("What is the person's date of birth?"),
        help=N_("A year, or month and year, is fine if that is all they know. It helps identify them."),
        section=S_PERSON,
        summary=N_("Date of birth"),
    ),
    Question(
        id="pv-gender",
        kind=Kind.CHOICE,
        choices=(
            Choice("female", N_("Female"), ("f", "woman", "girl")),
            Choice("male", N_("Male"), ("m", "man", "boy")),
            Choice("unknown", N_("They do not identify as male or female")),
        ),
        when=_DESCRIBED,
        prompt=N_("What is the person's gender?"),
        help=N_("Use how the person describes themselves. It is used for support and statistics."),
        section=S_PERSON,
        summary=N_("Gender"),
    ),
    Question(
        id="does-pv-have-children",
        kind=Kind.YES_NO,
        when=REFERRAL,
        prompt=N_("Does the person have children?"),
        help=N_("Children may also need safeguarding or support."),
        section=S_PERSON,
        summary=N_("Has children"),
    ),
    Question(
        id="does-pv-have-children-yes-amount",
        kind=Kind.NUMBER,
        when=REFERRAL & Answer("does-pv-have-children").is_("yes"),
        prompt=N_("How many children do they have?"),
        help=N_("Reply with a number, e.g. 2."),
        section=S_PERSON,
        summary=N_("Number of children"),
    ),
    Question(
        id="pv-nationality",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="nationalities",
        when=_DESCRIBED,
        prompt=N_("What is the person's nationality? Reply Unknown if you do not know."),
        help=N_("For example Albanian, Vietnamese or British. It is used for support and statistics."),
        section=S_PERSON,
        summary=N_("Nationality"),
    ),
    Question(
        id="pv-nationality-second",
        kind=Kind.LOOKUP,
        free_text=True,
        lookup="nationalities",
        optional=True,
        when=_DESCRIBED,
        prompt=N_("Do they have a second nationality? If so, which?"),
        help=N_("Only if the person has two nationalities."),
        section=S_PERSON,
        summary=N_("Second nationality"),
    ),
    Question(
        id="pv-interpreter-requirements",
        kind=Kind.YES_NO,
        when=REFERRAL,
        prompt=N_("Does the person need an interpreter?"),
        help=N_("So the decision makers and support workers can speak with them in their language."),
        section=S_PERSON,
        summary=N_("Needs interpreter"),
    ),
    Question(
        id="pv-interpreter-requirements-language",
        kind=Kind.TEXT,
        when=REFERRAL & Answer("pv-interpreter-requirements").is_("yes"),
        prompt=N_("Which language do they need, and which dialect if it matters?"),
        help=N_("For example Tigrinya, or Kurdish (Sorani)."),
        section=S_PERSON,
        summary=N_("Language"),
    ),
    Question(
        id="pv-other-help-with-communication",
        kind=Kind.YES_NO,
        when=REFERRAL,
        prompt=N_("Does the person need any other help to communicate, e.g. because of a disability?"),
        help=N_("For example sign language, easy-read letters, or someone with them."),
        section=S_PERSON,
        summary=N_("Needs communication help"),
    ),
    Question(
        id="pv-other-help-with-communication-aid",
        kind=Kind.TEXT,
        when=REFERRAL & Answer("pv-other-help-with-communication").is_("yes"),
        prompt=N_("What help do they need to communicate?"),
        help=N_("Describe what they need so contact with them can be arranged."),
        section=S_PERSON,
        summary=N_("Communication help"),
    ),
    Question(
        id="pv-ho-reference",
        kind=Kind.YES_NO,
        when=REFERRAL,
        prompt=N_("Does the person have a Home Office reference number, e.g. from an immigration or asylum case?"),
        help=N_("It lets the decision makers link the referral to existing Home Office records."),
        section=S_PERSON,
        summary=N_("Has Home Office ref"),
    ),
    Question(
        id="pv-ho-reference-type",
        kind=Kind.TEXT,
        when=REFERRAL & Answer("pv-ho-reference").is_("yes"),
        prompt=N_("What is their Home Office reference number?"),
        help=N_("Type it as shown on their letters or documents."),
        section=S_PERSON,
        summary=N_("Home Office ref"),
    ),
)

# -- §2.4 who gets the decision, and contact details (A; contact also named D) --------------------

_SOMEONE_ELSE_BY = Answer("someone-else")
_PV_CONTACT_BY = Answer("pv-contact-details")
_PV_EMAIL = PV_CONTACT & _PV_CONTACT_BY.includes("email")
_PV_POST = PV_CONTACT & _PV_CONTACT_BY.includes("post")
_ELSE_EMAIL = DECISION_TO_SOMEONE_ELSE & _SOMEONE_ELSE_BY.includes("email")
_ELSE_POST = DECISION_TO_SOMEONE_ELSE & _SOMEONE_ELSE_BY.includes("post")

_EMAIL_OR_POST = (Choice("email", N_("Email")), Choice("post", N_("Post"), ("letter", "letters")))

_CONTACT = (
    Question(
        id="who-contact",
        kind=Kind.CHOICE,
        choices=(
            Choice("potential-victim", N_("The person")),
            Choice("someone-else", N_("Someone else")),
        ),
        when=CONSENTS,
        prompt=N_("Who should the NRM decision be sent to?"),
        help=N_(
            "If it is not safe to write to the person, the decision can go to someone they trust, "
            "such as a support worker or solicitor, with their permission."
        ),
        section=S_CONTACT,
        summary=N_("Decision sent to"),
    ),
    Question(
        id="someone-else",
        kind=Kind.MULTI,
        choices=_EMAIL_OR_POST,
        when=DECISION_TO_SOMEONE_ELSE,
        prompt=N_("How should the decision be sent to that contact: email, post or both?"),
        help=N_("We then ask for the email address, the postal address, or both."),
        section=S_CONTACT,
        summary=N_("Contact by"),
    ),
    Question(
        id="someone-else-first-name",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=DECISION_TO_SOMEONE_ELSE,
        prompt=N_("What is the first name of the contact who will get the decision?"),
        help=N_("The person or support worker the decision should be addressed to."),
        section=S_CONTACT,
        summary=N_("Contact first name"),
    ),
    Question(
        id="someone-else-last-name",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=DECISION_TO_SOMEONE_ELSE,
        prompt=N_("What is the contact's last name?"),
        help=N_("The person or support worker the decision should be addressed to."),
        section=S_CONTACT,
        summary=N_("Contact last name"),
    ),
    Question(
        id="someone-else-email-input",
        kind=Kind.EMAIL,
        when=_ELSE_EMAIL,
        prompt=N_("What is the contact's email address?"),
        help=N_("The decision will be emailed to this address."),
        section=S_CONTACT,
        summary=N_("Contact email"),
    ),
    Question(
        id="someone-else-street",
        kind=Kind.TEXT,
        when=_ELSE_POST,
        prompt=N_("What is the contact's street address, with the house or flat number?"),
        help=N_("The first line of the address letters go to."),
        section=S_CONTACT,
        summary=N_("Contact street"),
    ),
    Question(
        id="someone-else-town",
        kind=Kind.TEXT,
        proper_name=True,
        when=_ELSE_POST,
        prompt=N_("Which town or city is the contact's address in?"),
        help=N_("The town or city of the address letters go to."),
        section=S_CONTACT,
        summary=N_("Contact town"),
    ),
    Question(
        id="someone-else-county",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=_ELSE_POST,
        prompt=N_("Which county is the contact's address in?"),
        help=N_("Only if it is part of the address."),
        section=S_CONTACT,
        summary=N_("Contact county"),
    ),
    Question(
        id="someone-else-postcode",
        kind=Kind.POSTCODE,
        when=_ELSE_POST,
        prompt=N_("What is the postcode of the contact's address?"),
        help=N_("A UK postcode, e.g. SW1A 2AA."),
        section=S_CONTACT,
        summary=N_("Contact postcode"),
    ),
    Question(
        id="someone-else-permission-check",
        kind=Kind.YES_NO,
        must_be_yes=True,
        refusal=N_(
            "The decision can only go to someone else with the person's permission. Reply BACK "
            "to change who gets it, or ask the person first."
        ),
        when=DECISION_TO_SOMEONE_ELSE,
        prompt=N_("Has the person given permission for the decision to be sent to this contact?"),
        help=N_("The decision contains personal details, so the person must agree to who receives it."),
        section=S_CONTACT,
        summary=N_("Permission given"),
    ),
    Question(
        id="pv-contact-details",
        kind=Kind.MULTI,
        choices=_EMAIL_OR_POST,
        when=PV_CONTACT,
        prompt=N_("How can the person be contacted safely: email, post or both?"),
        help=N_(
            "Choose only ways that are safe: exploiters may read their email or post. "
            "We then ask for the address."
        ),
        section=S_CONTACT,
        summary=N_("Contact by"),
    ),
    Question(
        id="pv-contact-details-email-input",
        kind=Kind.EMAIL,
        when=_PV_EMAIL,
        prompt=N_("What is the person's email address?"),
        help=N_("Only an address that nobody else, such as the exploiters, can read."),
        section=S_CONTACT,
        summary=N_("Email"),
    ),
    Question(
        id="pv-contact-details-email-check",
        kind=Kind.YES_NO,
        must_be_yes=True,
        refusal=N_(
            "We can only email the person if it is safe. Reply BACK to give a different address "
            "or choose post instead."
        ),
        when=_PV_EMAIL,
        prompt=N_("Is it safe to email the person at this address?"),
        help=N_("Safe means nobody who could harm them, such as the exploiters, can read it."),
        section=S_CONTACT,
        summary=N_("Safe to email"),
    ),
    Question(
        id="pv-contact-details-street",
        kind=Kind.TEXT,
        when=_PV_POST,
        prompt=N_("What is the person's street address, with the house or flat number?"),
        help=N_("The first line of the address letters go to."),
        section=S_CONTACT,
        summary=N_("Street"),
    ),
    Question(
        id="pv-contact-details-town",
        kind=Kind.TEXT,
        proper_name=True,
        when=_PV_POST,
        prompt=N_("Which town or city is the person's address in?"),
        help=N_("The town or city of the address letters go to."),
        section=S_CONTACT,
        summary=N_("Town"),
    ),
    Question(
        id="pv-contact-details-county",
        kind=Kind.TEXT,
        proper_name=True,
        optional=True,
        when=_PV_POST,
        prompt=N_("Which county is the person's address in?"),
        help=N_("Only if it is part of the address."),
        section=S_CONTACT,
        summary=N_("County"),
    ),
    Question(
        id="pv-contact-details-postcode",
        kind=Kind.POSTCODE,
        when=_PV_POST,
        prompt=N_("What is the postcode of the person's address?"),
        help=N_("A UK postcode, e.g. SW1A 2AA."),
        section=S_CONTACT,
        summary=N_("Postcode"),
    ),
    Question(
        id="pv-contact-details-post-check",
        kind=Kind.YES_NO,
        must_be_yes=True,
        refusal=N_(
            "We can only write to the person if it is safe. Reply BACK to give a different "
            "address or choose email instead."
        ),
        when=_PV_POST,
        prompt=N_("Is it safe to send letters to the person at this address?"),
        help=N_("Safe means nobody who could harm them, such as the exploiters, will open their post."),
        section=S_CONTACT,
        summary=N_("Safe to write"),
    ),
)

# -- §2.4 the responder's details and evidence (A and C only: DtN never asks them) ---------------

_YOUR_DETAILS = (
    Question(
        id="fr-details-first-name",
        kind=Kind.TEXT,
        proper_name=True,
        when=REFERRAL,
        prompt=N_("What is your first name?"),
        help=N_("The decision makers may contact you about this referral."),
        section=S_YOUR_DETAILS,
        summary=N_("Your first name"),
        prefillable=True,
    ),
    Question(
        id="fr-details-last-name",
        kind=Kind.TEXT,
        proper_name=True,
        when=REFERRAL,
        prompt=N_("What is your last name?"),
        help=N_("The decision makers may contact you about this referral."),
        section=S_YOUR_DETAILS,
        summary=N_("Your last name"),
        prefillable=True,
    ),
    Question(
        id="fr-details-role",
        kind=Kind.TEXT,
        when=REFERRAL,
        prompt=N_("What is your job title or role?"),
        help=N_("For example police constable, social worker or support worker."),
        section=S_YOUR_DETAILS,
        summary=N_("Your role"),
    ),
    Question(
        id="fr-details-phone",
        kind=Kind.PHONE,
        when=REFERRAL,
        prompt=N_("What is your work phone number?"),
        help=N_("The decision makers may call you if they need more information."),
        section=S_YOUR_DETAILS,
        summary=N_("Your phone"),
        prefillable=True,
    ),
    Question(
        id="fr-alternative-contact",
        kind=Kind.EMAIL,
        when=REFERRAL,
        prompt=N_("What other email can we use if you are away? e.g. a team inbox."),
        help=N_("The decision makers use it if they cannot reach you, so the case is not held up."),
        section=S_YOUR_DETAILS,
        summary=N_("Other contact email"),
    ),
)

_EVIDENCE = (
    Question(
        id="what-evidence-you-will-submit",
        kind=Kind.TEXT,
        optional=True,
        when=REFERRAL,
        prompt=N_("What evidence will you send separately? e.g. photos, documents."),
        help=N_(
            "Files cannot be sent by text message. List what you will send, e.g. photos, "
            "payslips or statements, and send it with the referral reference."
        ),
        section=S_EVIDENCE,
        summary=N_("Evidence to send"),
    ),
)

QUESTIONS: tuple[Question, ...] = (
    *_SET_UP,
    *_AGE,
    *_BACKGROUND,
    *_ACCOUNT,
    *_WHERE_AND_WHO,
    *_CONSENT,
    *_PERSON,
    *_CONTACT,
    *_YOUR_DETAILS,
    *_EVIDENCE,
)
"""Every question, in route order (see the module docstring for the ordering choices)."""
