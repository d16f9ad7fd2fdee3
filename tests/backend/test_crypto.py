"""Personal data is encrypted at rest, and survives key rotation."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.fernet import Fernet

import pytest
from sqlalchemy import text

from backend import db
from backend.app import create_app
from backend.cli import upgrade_database
from backend.crypto import V2_PREFIX, DecryptionError, FieldCipher
from backend.intake import submit
from backend.models import Case, Conversation
from tests.conftest import TINY_SCHEMA, backend_test_config, tiny_payload

NAME = "Quellmalz-Farrington"


def test_payload_and_state_are_not_stored_in_clear(app, db_session):
    payload = tiny_payload()
    case = submit(db_session, payload, None, "t", schema=TINY_SCHEMA)
    db_session.add(Conversation(channel="sms", address="+447700900123",
                                state={"answers": {"pv-name-last-name": {"value": NAME}}}))
    db_session.commit()

    row = db_session.execute(text("SELECT * FROM cases WHERE reference = :r"), {"r": case.reference}).one()
    assert all(NAME not in str(value) for value in row)
    assert all("1990-02-03" not in str(value) for value in row)
    state = db_session.execute(text("SELECT state FROM conversations")).scalar_one()
    assert NAME not in state and state.startswith(V2_PREFIX)  # an AES-GCM token
    db_session.close()
    db.get_db(app).engine.dispose()  # checkpoint the WAL so the main file holds everything
    files = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.glob("test.sqlite3*")
    assert all(NAME.encode() not in f.read_bytes() for f in files)


def test_cipher_roundtrip_and_rotation():
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    token = FieldCipher([old]).encrypt_json({"name": NAME, "n": [1, 2]})
    rotated_cipher = FieldCipher([new, old])
    assert rotated_cipher.decrypt_json(token) == {"name": NAME, "n": [1, 2]}
    rotated = rotated_cipher.rotate(token)
    assert FieldCipher([new]).decrypt_json(rotated) == {"name": NAME, "n": [1, 2]}
    with pytest.raises(DecryptionError):
        FieldCipher([old]).decrypt(rotated)
    assert FieldCipher([new]).decrypt(FieldCipher([new]).encrypt("é")) == "é"


def _app_with_old_key(tmp_path, monkeypatch):
    """An old and a new key, and the product on a migrated database under the old key alone."""
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    first = create_app(backend_test_config(tmp_path, FIELD_ENCRYPTION_KEY=old))
    upgrade_database(first)
    return old, new, first


def _rotate(app) -> None:
    """``nrm keys rotate``: one stored value re-encrypted."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "re-encrypted 1 stored value(s)" in result.output


def test_rotated_key_setting_still_reads_stored_rows(tmp_path, monkeypatch):
    old, new, first = _app_with_old_key(tmp_path, monkeypatch)
    with db.get_db(first).transaction() as session:
        reference = submit(session, tiny_payload(), None, "t", schema=TINY_SCHEMA).reference
    db.get_db(first).engine.dispose()

    second = create_app(backend_test_config(tmp_path, FIELD_ENCRYPTION_KEY=f"{new}, {old}"))
    with db.get_db(second).transaction() as session:
        case = session.query(Case).filter_by(reference=reference).one()
        assert case.payload["answers"]["pv-name-last-name"] == NAME
    _rotate(second)
    with db.get_db(second).transaction() as session:
        raw = session.execute(text("SELECT payload FROM cases")).scalar_one()
    assert FieldCipher([new]).decrypt_json(raw)["answers"]["pv-name-last-name"] == NAME
    db.get_db(second).engine.dispose()


def _legacy_token(key: str, obj: object) -> str:
    """A value as it was stored before the v2 format: one Fernet token of the JSON."""
    return Fernet(key).encrypt(json.dumps(obj).encode("utf-8")).decode("ascii")


def test_values_stored_as_fernet_tokens_before_v2_are_still_read_with_every_configured_key():
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    legacy = _legacy_token(old, {"name": NAME})
    assert legacy.startswith("gAAAA")
    assert FieldCipher([old]).decrypt_json(legacy) == {"name": NAME}
    assert FieldCipher([new, old]).decrypt_json(legacy) == {"name": NAME}
    with pytest.raises(DecryptionError):
        FieldCipher([new]).decrypt_json(legacy)


def test_new_values_are_written_as_v2_under_the_first_key_and_read_after_a_rotation():
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    token = FieldCipher([old]).encrypt_json({"name": NAME})
    assert token.startswith(V2_PREFIX) and NAME not in token
    assert FieldCipher([new, old]).decrypt_json(token) == {"name": NAME}  # old key second: still read
    with pytest.raises(DecryptionError):
        FieldCipher([new]).decrypt_json(token)  # the old key dropped: refused, not garbage


def test_rotation_re_encrypts_fernet_and_v2_values_as_v2_under_the_current_key():
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    rotating = FieldCipher([new, old])
    for token in (_legacy_token(old, {"name": NAME}), FieldCipher([old]).encrypt_json({"name": NAME})):
        rotated = rotating.rotate(token)
        assert rotated.startswith(V2_PREFIX)
        assert FieldCipher([new]).decrypt_json(rotated) == {"name": NAME}
        with pytest.raises(DecryptionError):
            FieldCipher([old]).decrypt_json(rotated)


def test_the_same_value_encrypted_twice_gives_different_tokens_with_fresh_nonces():
    cipher = FieldCipher([FieldCipher.generate_key()])
    tokens = [cipher.encrypt(NAME) for _ in range(50)]
    nonces = {base64.urlsafe_b64decode(token[len(V2_PREFIX):])[4:16] for token in tokens}
    assert len(set(tokens)) == 50 and len(nonces) == 50
    assert all(cipher.decrypt(token) == NAME for token in tokens)


@pytest.mark.parametrize("where", ["key id", "nonce", "ciphertext", "tag"])
def test_a_tampered_v2_value_is_refused(where):
    cipher = FieldCipher([FieldCipher.generate_key()])
    raw = bytearray(base64.urlsafe_b64decode(cipher.encrypt_json({"name": NAME})[len(V2_PREFIX):]))
    raw[{"key id": 0, "nonce": 5, "ciphertext": 17, "tag": -1}[where]] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt_json(V2_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode("ascii"))


@pytest.mark.parametrize("token", ["", "v2.", "v2.AAAA", "v2.not base64!", "gAAAAAnonsense", "v2.é", "\x00"])
def test_a_malformed_stored_value_is_refused_as_undecryptable(token):
    with pytest.raises(DecryptionError):
        FieldCipher([FieldCipher.generate_key()]).decrypt(token)


def test_keys_rotate_turns_stored_fernet_values_into_v2_under_the_new_key(tmp_path, monkeypatch):
    old, new, first = _app_with_old_key(tmp_path, monkeypatch)
    with db.get_db(first).transaction() as session:
        session.add(Conversation(id="c-1", channel="sms", address="+447700900123", state={}))
    with db.get_db(first).transaction() as session:  # as a release before v2 wrote it
        session.execute(text("UPDATE conversations SET state = :token"),
                        {"token": _legacy_token(old, {"answers": {"name": NAME}})})
    db.get_db(first).engine.dispose()

    second = create_app(backend_test_config(tmp_path, FIELD_ENCRYPTION_KEY=f"{new},{old}"))
    with db.get_db(second).transaction() as session:
        assert session.get(Conversation, "c-1").state == {"answers": {"name": NAME}}
    _rotate(second)
    with db.get_db(second).transaction() as session:
        raw = session.execute(text("SELECT state FROM conversations")).scalar_one()
    assert raw.startswith(V2_PREFIX)
    assert FieldCipher([new]).decrypt_json(raw) == {"answers": {"name": NAME}}
    db.get_db(second).engine.dispose()


DOCUMENTS = [
    {"name": NAME, "answers": {"nul": "a\x00b", "controls": "\x1b\x7f\x85\t\r\n", "arabic": "مرحبا",
                               "emoji": "😀", "separators": "\u2028\u2029", "quote": '"\\/'}},
    ["text", 1, -0.0, 2.5, 1e16, True, False, None, [], {}],
    {"big": 2 ** 70, "small": -(2 ** 63) - 1, 7: "an integer key"},
    [{"deep": [{"er": ["still"]}]}],
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_json_document_is_stored_as_the_text_the_standard_library_writes(document):
    cipher = FieldCipher([FieldCipher.generate_key()])
    token = cipher.encrypt_json(document)
    assert cipher.decrypt(token) == json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    assert cipher.decrypt_json(token) == json.loads(json.dumps(document))


@pytest.mark.parametrize("text", [
    '{"a":"x\\u0000y","b":"\u0645\u0631\u062d\u0628\u0627"}', "9223372036854775808", "-9223372036854775809",
    '{"id":18446744073709551616}', '"digits 12345678901234567890"', "1e400", "[NaN,Infinity,-Infinity]",
    '"\\ud800"', '{"a":1,"a":2}', "[1.0,-0.0,1E5]", ' {"spaced" : [ 1 , 2 ] } '])
def test_every_stored_json_document_is_read_as_the_standard_library_reads_it(text):
    cipher = FieldCipher([FieldCipher.generate_key()])
    read = cipher.decrypt_json(cipher.encrypt(text))
    expected = json.loads(text)
    assert repr(read) == repr(expected)  # same types too: a big integer stays an integer, NaN stays NaN


def test_a_lone_surrogate_in_a_json_document_is_refused_before_anything_is_stored():
    with pytest.raises(UnicodeEncodeError):
        FieldCipher([FieldCipher.generate_key()]).encrypt_json({"answer": "lone \ud800 surrogate"})


def test_a_value_json_cannot_hold_is_refused_when_stored():
    import datetime

    with pytest.raises(TypeError):
        FieldCipher([FieldCipher.generate_key()]).encrypt_json({"when": datetime.date(2026, 11, 30)})


def test_a_float_nan_or_infinity_is_stored_as_json_null():
    cipher = FieldCipher([FieldCipher.generate_key()])
    token = cipher.encrypt_json({"nan": float("nan"), "inf": float("inf")})
    assert cipher.decrypt(token) == '{"nan":null,"inf":null}'


def test_a_stored_json_document_that_is_not_utf8_is_refused_as_undecryptable():
    cipher = FieldCipher([FieldCipher.generate_key()])
    with pytest.raises(DecryptionError):
        cipher.decrypt_json(cipher._seal(b'"\xff"'))  # noqa: SLF001 (a token holding bytes no text encodes to)
