"""Serializer fields the API needs beyond DRF's."""

from typing import Any

from rest_framework import serializers


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's, with a NUL character refused as a field error.

    PostgreSQL cannot compare text holding one: DRF's lookup would end in a DataError, a 500, where any
    other unknown slug is a 400 naming the field.
    """

    default_error_messages = {"null_characters": "Null characters are not allowed."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_characters")
        return super().to_internal_value(data)
