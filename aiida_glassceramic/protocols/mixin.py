"""``ProtocolMixin``: the protocols of a work chain, read from its YAML file and checked by its settings model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from ..workflows.input_checks import InputValidationError
from . import load_protocol, read_protocol_file
from .validation import validate


class ProtocolMixin:
    """Protocols of a work chain: ``_protocol_file`` (in ``aiida_glassceramic/protocols``) and ``_protocol_model``,
    the model of one protocol's settings.

    A protocol is merged over the file's ``default_inputs`` (if any) or over the protocol it is ``based_on``;
    ``overrides`` are merged over the protocol, and the result is validated: a wrong type or value, or an unknown
    key (with the closest valid key), is an :class:`InputValidationError` naming the field.
    """

    _protocol_file: ClassVar[str]
    _protocol_model: ClassVar[type[BaseModel]]

    @classmethod
    def protocol_model(cls) -> type[BaseModel]:
        """The model of one protocol's settings."""
        return cls._protocol_model

    @classmethod
    def _protocol_content(cls) -> dict:
        return read_protocol_file(cls._protocol_file)

    @classmethod
    def get_default_protocol(cls) -> str:
        return cls._protocol_content()['default_protocol']

    @classmethod
    def get_available_protocols(cls) -> dict[str, dict]:
        """Protocol names and their ``{'description': ...}``."""
        protocols = cls._protocol_content()['protocols']
        return {name: {'description': body['description']} for name, body in protocols.items()}

    @classmethod
    def get_protocol_inputs(cls, protocol: str | None = None, overrides: Mapping | None = None) -> dict:
        """The settings of ``protocol`` (default: :meth:`get_default_protocol`) with ``overrides`` merged in, valid."""
        settings = load_protocol(cls._protocol_file, protocol, overrides, error=InputValidationError)
        validate(cls.protocol_model(), settings)
        return settings
