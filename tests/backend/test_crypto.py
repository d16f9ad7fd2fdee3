"""Personal data is encrypted at rest, and survives key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from backend import db
from backend.app import create_app
from backend.cli import upgrade_database
from backend.crypto import DecryptionError, FieldCipher
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
    assert NAME not in state and state.startswith("gAAAA")  # a Fernet token
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


def test_rotated_key_setting_still_reads_stored_rows(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    old, new = FieldCipher.generate_key(), FieldCipher.generate_key()
    first = create_app(backend_test_config(tmp_path, FIELD_ENCRYPTION_KEY=old))
    upgrade_database(first)
    with db.get_db(first).transaction() as session:
        reference = submit(session, tiny_payload(), None, "t", schema=TINY_SCHEMA).reference
    db.get_db(first).engine.dispose()

    second = create_app(backend_test_config(tmp_path, FIELD_ENCRYPTION_KEY=f"{new}, {old}"))
    with db.get_db(second).transaction() as session:
        case = session.query(Case).filter_by(reference=reference).one()
        assert case.payload["answers"]["pv-name-last-name"] == NAME
    with second.app_context():
        result = second.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "re-encrypted 1 stored value(s)" in result.output
    with db.get_db(second).transaction() as session:
        raw = session.execute(text("SELECT payload FROM cases")).scalar_one()
    assert FieldCipher([new]).decrypt_json(raw)["answers"]["pv-name-last-name"] == NAME
    db.get_db(second).engine.dispose()
