"""The staff pages follow the browser's Accept-Language (backend.i18n): Welsh, Arabic (rtl) and the
other catalogue languages; English when nothing matches. The pages' strings go through gettext with
{named} placeholders (templates ``_()``/``ngettext``, Python ``gettext``/``lazy_gettext``)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import i18n
from backend.web_auth import SIGN_IN_FAILED
from flows.languages import CODES

pytestmark = pytest.mark.usefixtures("compiled_catalogues")

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN = "/casework/sign-in"


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


def test_the_page_languages_are_the_dialogue_languages() -> None:
    assert i18n.PAGE_LANGUAGES == CODES  # backend does not import flows.languages


def test_sign_in_with_accept_language_cy_is_in_welsh(client: FlaskClient) -> None:
    html = client.get(SIGN_IN, headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Mewngofnodi</h1>' in html
    assert 'lang="cy"' in html_tag(html) and 'dir="ltr"' in html_tag(html)
    assert "Cyfeiriad e-bost" in html and "Cyfrinair" in html  # the labels
    assert "<title>Mewngofnodi - Cynorthwyydd Atgyfeirio NRM</title>" in html  # the service name too (issue 13)
    assert "Sign in" not in html


def test_sign_in_with_accept_language_ar_is_right_to_left(client: FlaskClient) -> None:
    html = client.get(SIGN_IN, headers={"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="ar"' in html_tag(html) and 'dir="rtl"' in html_tag(html)
    assert "تسجيل الدخول" in html


def test_english_is_the_default(client: FlaskClient) -> None:
    for headers in ({}, {"Accept-Language": "de-DE,fr;q=0.8"}, {"Accept-Language": "en-GB"}):
        html = client.get(SIGN_IN, headers=headers).get_data(as_text=True)
        assert 'lang="en"' in html_tag(html) and 'dir="ltr"' in html_tag(html)
        assert '<h1 class="govuk-heading-l">Sign in</h1>' in html


def test_the_best_match_of_several_languages_is_used(client: FlaskClient) -> None:
    html = client.get(SIGN_IN, headers={"Accept-Language": "de;q=0.9,pl;q=0.8,cy;q=0.5"}).get_data(as_text=True)
    assert 'lang="pl"' in html_tag(html) and "Zaloguj się" in html


def test_a_failed_sign_in_is_explained_in_the_page_language(client: FlaskClient) -> None:
    headers = {"Accept-Language": "cy"}
    token = CSRF_FIELD.search(client.get(SIGN_IN, headers=headers).get_data(as_text=True)).group(1)
    response = client.post(SIGN_IN, headers=headers,
                           data={"csrf_token": token, "email": "nobody@example.org", "password": "wrong"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Gwall: Mewngofnodi" in html and "Mae problem" in html
    assert "Rhowch gyfeiriad e-bost a chyfrinair cywir." in html
    assert SIGN_IN_FAILED not in html
    empty = client.post(SIGN_IN, headers=headers, data={"csrf_token": token, "email": "", "password": ""})
    assert "Rhowch eich cyfeiriad e-bost" in empty.get_data(as_text=True)


def test_the_csrf_error_page_follows_the_language(app: Flask) -> None:
    client = app.test_client()
    response = client.post(SIGN_IN, headers={"Accept-Language": "ro"}, data={"email": "x"})
    assert response.status_code == 400
    assert "Ne pare rău, există o problemă" in response.get_data(as_text=True)


def test_gettext_fills_named_placeholders_and_escapes_them_in_templates(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        assert i18n.page_language().code == "pl"
        assert i18n.gettext("Case {reference}", reference="NRM-1") == "Sprawa NRM-1"
        assert i18n.ngettext("{n} case waiting for a decision", "{n} cases waiting for a decision", 5) == \
            "5 spraw oczekuje na decyzję"
        lazy = i18n.lazy_gettext("Reasons must be {max} characters or fewer", max="2,000")
        assert str(lazy) == "Uzasadnienie może mieć najwyżej 2,000 znaków"
        rendered = app.jinja_env.from_string('{{ _("You are signed in as {email}.", email=who) }}').render(
            who="<b>@example.org")
        assert rendered == "Jesteś zalogowany jako &lt;b&gt;@example.org."
    with app.test_request_context("/"):
        assert str(lazy) == "Reasons must be 2,000 characters or fewer"  # read again, in English now


def test_every_status_label_is_marked_for_translation() -> None:
    from backend.casework_pages import STATUS_LABELS
    from backend.lifecycle import CASE_STATUSES, status_label

    assert {status_label(status) for status in CASE_STATUSES} <= set(STATUS_LABELS)
