"""The casework pages in Welsh and Arabic (issue 13): the service name, dates and the Referral
tab's labels in the page language; phone numbers and references isolated left to right."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.backend.test_casework_pages import app, clients, new_case, text  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("compiled_catalogues")

MONTHS = {
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
           "Tachwedd", "Rhagfyr"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
           "ديسمبر"),
}
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")


@pytest.mark.parametrize(("code", "service", "section", "label", "choice"), [
    ("cy", "Cynorthwyydd Atgyfeirio NRM", "Am yr atgyfeiriwr", "Sefydliad atgyfeirio", "Lloegr"),
    ("ar", "مساعد إحالات NRM", "عن المُحيل", "الجهة المُحيلة", None),
])
def test_a_case_page_in_welsh_or_arabic_names_the_service_dates_and_answers_in_that_language(
        app: Flask, clients: Any, code: str, service: str, section: str, label: str, choice: str | None) -> None:
    reference = new_case(app)
    html = text(clients("caseworker").get(f"/casework/cases/{reference}", headers={"Accept-Language": code}))
    assert "<title>" in html and f" - {service}</title>" in html  # the service name
    assert "NRM Referral Assistant" not in html
    assert any(month in html for month in MONTHS[code])  # submitted, due dates...
    assert not any(re.search(rf"\d {month} \d{{4}}", html) for month in ENGLISH_MONTHS)
    assert not re.search(r"\d:\d\d(am|pm)", html)  # times in 24-hour form, not "2:05pm"
    assert section in html and label in html  # the Referral tab: section titles and field labels
    assert "About the referrer" not in html and "Referring organisation" not in html
    if choice:
        assert choice in html  # a choice answer ("england") shown by its translated label


def test_references_and_answers_are_isolated_from_the_right_to_left_page(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    client = clients("caseworker")
    html = text(client.get(f"/casework/cases/{reference}", headers={"Accept-Language": "ar"}))
    assert f'<bdi dir="ltr">{reference}</bdi>' in html  # the heading
    assert html.count('class="app-reasons" dir="auto"') >= 5  # each answer takes its own direction
    queue = text(client.get("/casework/", headers={"Accept-Language": "ar"}))
    assert f'href="/casework/cases/{reference}"><bdi dir="ltr">{reference}</bdi></a>' in queue
    from bot import translate

    arabic = translate.load_po("ar")
    flash = arabic.get("You have claimed case {reference} until {time}.")
    assert "\u2066{reference}\u2069" in flash.string  # left-to-right isolate inside Arabic text
