""""Check your answers" and the task list of the web chat, from the pure dialogue state."""

from __future__ import annotations

from flows import check_answers
from flows.i18n import ENGLISH
from flows.referral_questions import PARTS
from tests.flows.conversation import CHILD, Conversation

LONG = "Case notes of the helpline shift, second call back. " * 10


def test_check_your_answers_has_every_answer_once_in_full_numbered_as_edit_takes_them() -> None:
    conversation = Conversation()
    conversation.answer_all(CHILD)
    assert conversation.at_summary
    groups = check_answers.groups(conversation.state, ENGLISH)
    rows = [row for group in groups for row in group.rows]
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))
    # the same labels and order as the REVIEW summary, whose numbers EDIT takes
    assert [row.question for row in rows] == conversation.summary_labels()
    for row in rows:
        assert conversation.summary_number(row.question) == row.number
    assert len({group.section for group in groups}) == len(groups) > 3


def test_a_long_answer_is_shown_whole_where_the_sms_summary_cuts_it() -> None:
    conversation = Conversation()
    conversation.answer_all(CHILD, until="reference")
    conversation.say(LONG.strip())
    conversation.answer_all(CHILD)
    rows = [row for group in check_answers.groups(conversation.state, ENGLISH) for row in group.rows]
    reference = next(row for row in rows if row.question_id == "reference")
    assert reference.answer == " ".join(LONG.split())
    assert "..." in conversation.summary()  # what SMS shows is cut


def test_phones_emails_and_dates_are_marked_left_to_right() -> None:
    conversation = Conversation()
    conversation.answer_all(CHILD)
    rows = {row.question_id: row for group in check_answers.groups(conversation.state, ENGLISH) for row in group.rows}
    assert rows["pv-dob"].left_to_right and rows["user-email"].left_to_right
    assert not rows["reference"].left_to_right


def test_the_task_list_follows_the_referral_part_by_part() -> None:
    conversation = Conversation()
    parts = check_answers.parts(conversation.state, ENGLISH)
    assert [part.name for part in parts] == [name for name, _ in PARTS]
    assert [part.status for part in parts] == ["in-progress"] + ["not-started"] * (len(PARTS) - 1)
    conversation.answer_all(CHILD, until="fr-location")  # the last question of part 1 asked
    parts = check_answers.parts(conversation.state, ENGLISH)
    assert parts[0].status == "in-progress" and parts[0].answered == parts[0].questions - 1
    conversation.answer_all(CHILD)
    parts = check_answers.parts(conversation.state, ENGLISH)
    assert {part.status for part in parts} == {"completed"}
    assert all(part.answered == part.questions for part in parts)
