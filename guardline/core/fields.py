"""Model fields for personal data encrypted at rest (guardline/core/crypto.py).

`EncryptedCharField` holds plaintext on the Python side (forms, templates, services see the ID number or phone) and
ciphertext in the database: encrypted when written, decrypted when read. `max_length` is the plaintext's limit
(forms and validation); the column is wide enough for the ciphertext. The database cannot compare ciphertexts, so
the field refuses every lookup except `isnull`: filter on its `BlindIndexField` sibling with
`crypto.blind_index(value)` instead, which fails loudly rather than silently finding nothing.

`BlindIndexField(source="id_number")` is the keyed hash of another field of the same row, computed from it whenever
the row is written through the ORM or `guardline.core.bulk` (like `auto_now`, a field-level derivation, not a
save() override); raw SQL writers compute it themselves with `crypto.blind_index`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from . import crypto

CIPHERTEXT_MAX_LENGTH = 255  # "v1:sm:keyid:" + base64(12 + n + 16) for values of up to ~100 characters


class EncryptedCharField(models.CharField):
    description = "Text encrypted at rest (AES-256-GCM or SM4-GCM)"

    def db_type_parameters(self, connection):
        params = dict(super().db_type_parameters(connection))
        params["max_length"] = CIPHERTEXT_MAX_LENGTH
        return params

    def cast_db_type(self, connection):
        return connection.data_types["CharField"] % {"max_length": CIPHERTEXT_MAX_LENGTH}

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_encrypted(value):
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: filter on its blind index "
            f"(e.g. {self.name}_hash=blind_index(value)), not with __{lookup_name}"
        )

    def get_transform(self, lookup_name):
        return None


class BlindIndexField(models.CharField):
    """The blind index (keyed hash, hex) of the field named `source` of the same row; "" when it is empty."""

    description = "Keyed hash of another field, for equality lookups on encrypted data"

    def __init__(self, *args, source: str = "", transform: str = "", **kwargs):
        self.source = source
        self.transform = transform  # "prefix15": the hash of the first 15 characters
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.transform:
            kwargs["transform"] = self.transform
        for key, value in (("max_length", 64), ("blank", True), ("default", ""), ("editable", False)):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs

    def compute(self, instance) -> str:
        value = getattr(instance, self.source) or ""
        if self.transform == "prefix15":
            value = crypto.prefix15(value)
        return crypto.blind_index(value)

    def pre_save(self, model_instance, add):
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value
