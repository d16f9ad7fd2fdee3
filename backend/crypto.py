"""Field encryption: personal data is stored encrypted, never as plain text (docs/design.md §8).

``FIELD_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys. The first encrypts; all
decrypt, so a key is rotated by putting a new key first, running a re-encryption (``rotate_all``,
CLI ``nrm keys rotate``) and only then dropping the old key.

Two stored formats, both read:

- **v2** (written now): ``v2.`` + url-safe base64 of ``key id (4) | nonce (12) | AES-256-GCM
  ciphertext and tag``. Each configured key (the 32 bytes of the Fernet key) gives, by
  HKDF-SHA256, an AES-256 key (info :data:`_AES_INFO`) and a 4-byte key id (info
  :data:`_ID_INFO`), so a token names the key that opens it. The prefix and key id are
  authenticated as associated data; the nonce is random for every value. One C call a value:
  Fernet (AES-CBC, HMAC-SHA256, Python-level padding and a cipher built per call) cost about
  three times as much, and a web chat turn encrypts half a dozen values.
- **Fernet** (``gAAAA...``, written before v2): still decrypted with the same keys
  (``MultiFernet``); ``rotate`` re-encrypts such a value as v2 under the current key.

JSON documents are written and read by ``orjson`` where it gives what the standard library gives
(:func:`json_bytes`, :meth:`FieldCipher.decrypt_json`): a turn writes and reads its draft's state.

Columns of type :class:`EncryptedJSON` encrypt on write and decrypt on read with the cipher bound
to the engine (``bind_cipher``), falling back to the process-wide cipher set by ``use_cipher``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any, Iterable

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
import orjson
from sqlalchemy import Engine, Text, literal, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from backend.config import split_keys

_DIALECT_ATTRIBUTE = "nrm_field_cipher"
_current: FieldCipher | None = None

V2_PREFIX = "v2."
"""How a v2 token begins (``.`` is not in Fernet's url-safe base64 alphabet: no Fernet token does)."""
_AES_INFO = b"nrm field cipher v2: AES-256-GCM key"
_ID_INFO = b"nrm field cipher v2: key id"
_ID_BYTES = 4
_NONCE_BYTES = 12
_AAD = V2_PREFIX.encode("ascii")


class DecryptionError(RuntimeError):
    """A stored token that none of the configured keys opens (wrong or dropped key, or tampering)."""


def _derive(key: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 of one configured key's 32 secret bytes (no salt: each key is already random)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)


class FieldCipher:
    """Encrypt and decrypt strings and JSON documents with a list of keys (first = current)."""

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        keys = list(keys)
        if not keys:
            raise ValueError("FieldCipher needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._aead: dict[bytes, AESGCM] = {}
        """Key id -> AES-GCM of that key, built once (in configured order: the current key first)."""
        for key in keys:
            secret = base64.urlsafe_b64decode(key)
            self._aead.setdefault(_derive(secret, _ID_INFO, _ID_BYTES), AESGCM(_derive(secret, _AES_INFO, 32)))
        self._current_id, self._current = next(iter(self._aead.items()))

    @classmethod
    def from_setting(cls, value: str) -> FieldCipher:
        """Build from the comma-separated ``FIELD_ENCRYPTION_KEY`` setting."""
        return cls(split_keys(value))

    @staticmethod
    def generate_key() -> str:
        """A new random key (a Fernet key: 32 random bytes, url-safe base64), as text."""
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, text: str) -> str:
        """``text`` as a v2 token under the current key, with a fresh random nonce."""
        return self._seal(text.encode("utf-8"))

    def _seal(self, data: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, data, _AAD + self._current_id)
        return V2_PREFIX + base64.urlsafe_b64encode(self._current_id + nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> str:
        return _text(self._open(token))

    def _open(self, token: str) -> bytes:
        try:
            if token.startswith(V2_PREFIX):
                raw = base64.urlsafe_b64decode(token[len(V2_PREFIX):])
                key_id = raw[:_ID_BYTES]
                aead = self._aead.get(key_id)
                if aead is None:
                    raise InvalidTag
                start = _ID_BYTES + _NONCE_BYTES
                return aead.decrypt(raw[_ID_BYTES:start], raw[start:], _AAD + key_id)
            return self._fernet.decrypt(token.encode("ascii"))
        except (InvalidTag, InvalidToken, ValueError) as exc:  # ValueError: bad base64 or length
            raise DecryptionError("stored field cannot be decrypted with the configured keys") from exc

    def encrypt_json(self, obj: Any) -> str:
        return self._seal(json_bytes(obj))

    def decrypt_json(self, token: str) -> Any:
        data = self._open(token)
        if _LONG_DIGITS.search(data) is None:
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                pass
        return json.loads(_text(data))

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` (v2 or Fernet) as v2 under the current (first) key; it must open
        with one of the keys."""
        return self.encrypt(self.decrypt(token))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except ValueError as exc:
        raise DecryptionError("stored field cannot be decrypted with the configured keys") from exc


_LONG_DIGITS = re.compile(rb"\d{19}")
"""A number orjson may read as a float (an integer beyond 64 bits: e.g. -9223372036854775809),
or a long run of digits in a text: read by the standard library. So is what orjson refuses and the
standard library reads (``NaN``, ``1e400``, an escaped lone surrogate): every stored document is
read as ``json.loads`` reads it."""


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
"""Dates, dataclasses and subclasses of str, int, dict, list go to the standard library, which
writes (or refuses) them as it always has."""


def json_bytes(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON, the text ``json.dumps(obj, ensure_ascii=False,
    separators=(",", ":"))`` gives, written by ``orjson`` (a fifteenth of the CPU on a turn's
    draft, measured). What orjson refuses goes to the standard library, which writes or refuses
    it as it always has: a lone surrogate (then refused when encoded as UTF-8, as before), keys
    that are not strings, integers beyond 64 bits, and (:data:`_ORJSON_OPTIONS`) dates,
    dataclasses and subclasses. One difference: a float NaN or infinity, which JSON has no word
    for, is written ``null`` (the standard library wrote ``NaN``, which only Python reads)."""
    try:
        return orjson.dumps(obj, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
    """A JSON document stored as one encrypted token (:class:`FieldCipher`) in a TEXT column.

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
