"""Fields and subfields, as in pymarc.

``Field`` is the native ``rapidmarc._core.Field``: it starts as a view of the record's bytes and
turns into Python objects (``Subfield`` tuples, ``Indicators``) only when those are asked for.
What lives where:

* native (src/python/field.cpp for the semantics, field_type.cpp for the C-API type): the
  constructor, ``tag``, ``control_field``, ``data``, ``subfields``, ``indicators``,
  ``indicator1``, ``indicator2``, ``is_control_field``, ``value``, ``format_field``, ``get``,
  ``get_subfields``, ``str()``, ``[]``, ``in`` and iteration;
* Python (this file, attached to the native class): ``[]=``, ``add_subfield``,
  ``delete_subfield``, ``subfields_as_dict``, ``is_subject_field``, ``linkage_occurrence_num``,
  ``as_marc``/``as_marc21``, ``convert_legacy_subfields``, ``repr()`` and pickling.

A non-ASCII subfield code is normalised natively by pymarc's rule, with pymarc's
``BadSubfieldCodeWarning``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple, cast

from . import _core
from ._core import marc8_to_unicode
from .constants import END_OF_FIELD, SUBFIELD_INDICATOR


class Subfield(NamedTuple):
    code: str
    value: str


class Indicators(NamedTuple):
    """The two indicators of a data field."""

    first: str
    second: str


Field = _core.Field
RawField = _core.RawField

logger = logging.getLogger("pymarc")


# For type checkers the methods below belong to the native class; at run time they are copied onto it.
if TYPE_CHECKING:
    _FieldBase = _core.Field
else:
    _FieldBase = object


class _FieldMethods(_FieldBase):
    """Methods of Field written in Python (attached to the native class below)."""

    def __setitem__(self, code: str, value: str) -> None:
        """Set the value of the only subfield `code`; KeyError if there is none or several."""
        if self.control_field:
            raise KeyError("field is a control field")
        subfields = self.subfields
        matches = [i for i, sf in enumerate(subfields) if sf.code == code]
        if not matches:
            raise KeyError(f"no code '{code}'")
        if len(matches) > 1:
            raise KeyError(f"more than one code '{code}'")
        subfields[matches[0]] = Subfield(code=code, value=value)

    def add_subfield(self, code: str, value: str, pos: int | None = None) -> None:
        """Add a subfield at the end, or before index `pos` (out of range: at the end)."""
        if self.control_field:
            return
        subfields = self.subfields
        if pos is None or pos > len(subfields):
            subfields.append(Subfield(code=code, value=value))
        else:
            subfields.insert(pos, Subfield(code=code, value=value))

    def delete_subfield(self, code: str) -> str | None:
        """Remove the first subfield `code` and return its value (None if absent)."""
        if self.control_field:
            return None
        subfields = self.subfields
        for i, sf in enumerate(subfields):
            if sf.code == code:
                return subfields.pop(i).value
        return None

    def subfields_as_dict(self) -> dict[str, list]:
        """Subfield values grouped by code, in order."""
        if self.control_field:
            return {}
        grouped: defaultdict[str, list] = defaultdict(list)
        for sf in self.subfields:
            grouped[sf.code].append(sf.value)
        return dict(grouped)

    def is_subject_field(self) -> bool:
        """True for 6XX fields (used by format_field)."""
        return self.tag.startswith("6")

    def linkage_occurrence_num(self) -> str | None:
        """The occurrence number in $6 (e.g. '01' of '880-01/$1'), or None."""
        ocn = self.get("6", "")
        return ocn.split("-")[1].split("/")[0] if ocn else None

    def as_marc(self, encoding: str = "utf-8") -> bytes:
        """The field's ISO 2709 data with its terminator, text encoded in `encoding`."""
        if self.control_field:
            data = self.data
            if isinstance(data, bytes):
                return data + b"\x1e"
            return f"{data}\x1e".encode(encoding)
        out = [_text(self.indicator1, encoding), _text(self.indicator2, encoding)]
        for sf in self.subfields:
            out += [b"\x1f", _text(sf.code, encoding), _text(sf.value, encoding)]
        out.append(b"\x1e")
        return b"".join(out)

    as_marc21 = as_marc

    @classmethod
    def convert_legacy_subfields(cls, subfields: list[str]) -> list[Subfield]:
        """Turn an old-style flat list [code, value, code, value, ...] into Subfields."""
        it: Iterator[str] = iter(subfields)
        return [Subfield(code, value) for code, value in zip(it, it, strict=True)]

    def __repr__(self) -> str:
        return f"<Field {str(self)!r}>"

    def __reduce__(self) -> tuple:
        # Fields pickle as their constructor arguments (a RawField as a RawField).
        cls = RawField if isinstance(self, RawField) else Field
        if self.control_field:
            return (cls, (self.tag, None, None, self.data))
        return (cls, (self.tag, tuple(self.indicators or (" ", " ")), list(self.subfields)))


if TYPE_CHECKING:
    _RawFieldBase = _core.RawField
else:
    _RawFieldBase = object


class _RawFieldMethods(_RawFieldBase):
    """pymarc's RawField: the fields of records read with ``to_unicode=False`` (values are bytes)."""

    def as_marc(self, encoding: str | None = None) -> bytes:
        """The field's ISO 2709 data with its terminator: the bytes as they are. An ``encoding`` is
        ignored with a warning on the "pymarc" logger, as pymarc does."""
        if encoding is not None:
            logger.warning("Attempt to force a RawField into encoding %s", encoding)
        return Field.as_marc(self, "utf-8")

    as_marc21 = as_marc

    def __repr__(self) -> str:
        return f"<RawField {str(self)!r}>"


def _text(value: str | bytes, encoding: str) -> bytes:
    return value if isinstance(value, bytes) else value.encode(encoding)


def _attach(native: type, methods: type) -> None:
    for name, value in vars(methods).items():
        if name in ("__module__", "__dict__", "__weakref__", "__doc__", "__qualname__"):
            continue
        setattr(native, name, value)


_attach(Field, _FieldMethods)
_attach(RawField, _RawFieldMethods)
Field.__module__ = "rapidmarc"
RawField.__module__ = "rapidmarc"


def map_marc8_field(f: Field) -> Field:
    """pymarc's map_marc8_field: the field's MARC-8 bytes (a control field's data, or each subfield
    value) replaced, in place, by their Unicode text; the field is returned."""
    if f.control_field:
        f.data = marc8_to_unicode(cast(bytes, f.data))
    else:
        f.subfields = [Subfield(sf.code, marc8_to_unicode(cast(bytes, sf.value))) for sf in f.subfields]
    return f


__all__ = ["Field", "Indicators", "RawField", "Subfield", "map_marc8_field"]

_REEXPORTED = (END_OF_FIELD, SUBFIELD_INDICATOR)  # in pymarc.field's namespace too
