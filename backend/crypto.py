"""Field encryption: personal data is stored as Fernet tokens, never as plain text (DESIGN §5).

``FIELD_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys. The first encrypts; all
decrypt (``MultiFernet``), so a key is rotated by putting a new key first, running a re-encryption
(``rotate_all``, CLI ``nrm keys rotate``) and only then dropping the old key.

Columns of type :class:`EncryptedJSON` encrypt on write and decrypt on read with the cipher bound
to the engine (``bind_cipher``), falling back to the process-wide cipher set by ``use_cipher``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, Text, literal, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from backend.config import split_keys

_DIALECT_ATTRIBUTE = "nrm_field_cipher"
_current: FieldCipher | None = None


class DecryptionError(RuntimeError):
    """A stored token that none of the configured keys opens (wrong or dropped key, or tampering)."""


class FieldCipher:
    """Encrypt and decrypt strings and JSON documents with a list of Fernet keys (first = current)."""

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        fernets = [Fernet(key) for key in keys]
        if not fernets:
            raise ValueError("FieldCipher needs at least one key")
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: str) -> FieldCipher:
        """Build from the comma-separated ``FIELD_ENCRYPTION_KEY`` setting."""
        return cls(split_keys(value))

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key, as text."""
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise DecryptionError("stored field cannot be decrypted with the configured keys") from exc

    def encrypt_json(self, obj: Any) -> str:
        return self.encrypt(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the current (first) key; it must open with one of the keys."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise DecryptionError("stored field cannot be decrypted with the configured keys") from exc


def use_cipher(cipher: FieldCipher | None) -> None:
    """Set the process-wide cipher (used when the engine has none bound)."""
    global _current
    _current = cipher


def bind_cipher(engine: Engine, cipher: FieldCipher) -> None:
    """Attach ``cipher`` to ``engine`` so its EncryptedJSON columns use it, even with several apps."""
    setattr(engine.dialect, _DIALECT_ATTRIBUTE, cipher)


def cipher_for(dialect: Any = None) -> FieldCipher:
    """The cipher for ``dialect``'s engine, else the process-wide one."""
    cipher = getattr(dialect, _DIALECT_ATTRIBUTE, None) or _current
    if cipher is None:
        raise RuntimeError("no field cipher configured: call backend.app.init_backend(app) first")
    return cipher


def migration_cipher(dialect: Any) -> FieldCipher:
    """For a migration that reads payloads: the app's cipher (``nrm db upgrade``), else one from
    ``FIELD_ENCRYPTION_KEY`` (plain ``alembic upgrade``)."""
    import os

    try:
        return cipher_for(dialect)
    except RuntimeError:
        keys = os.environ.get("FIELD_ENCRYPTION_KEY")
        if not keys:
            raise RuntimeError("stored cases must be decrypted: run `nrm db upgrade`, or set "
                               "FIELD_ENCRYPTION_KEY for alembic") from None
        return FieldCipher.from_setting(keys)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored as one Fernet token in a TEXT column.

    Assign a new object to change it: in-place mutation of a loaded dict is not tracked.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return cipher_for(dialect).encrypt_json(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        return cipher_for(dialect).decrypt_json(value)


def rotate_all(session: Session, cipher: FieldCipher | None = None) -> int:
    """Re-encrypt every stored EncryptedJSON value under the current key; returns how many.

    Works on the raw tokens (no decode to Python objects), in the caller's transaction.
    """
    from backend.db import Base  # the metadata of every table (models registered by the caller)
    import backend.models  # noqa: F401

    cipher = cipher or cipher_for(session.get_bind().dialect)
    count = 0
    for table in Base.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, EncryptedJSON)]
        keys = list(table.primary_key.columns)
        for column in columns:
            rows = session.execute(select(*keys, type_coerce(column, Text)).where(column.is_not(None))).all()
            for row in rows:
                where = [key == value for key, value in zip(keys, row[:-1])]
                session.execute(update(table).where(*where)
                                .values({column.name: literal(cipher.rotate(row[-1]), Text)}))
                count += 1
    return count
