"""Records, as in pymarc.

``Record`` is the native ``rapidmarc._core.Record`` (src/python/record.cpp). A record read from a
file keeps its bytes; its ``fields`` list (of lazy ``Field`` views) is built the first time it is
used. What lives where:

* native (record.cpp, as_marc.cpp): the constructor, ``fields``, ``leader``, ``to_unicode``,
  ``force_utf8``, ``get``, ``[]``, ``in``, iteration, ``get_fields``, ``add_field``, ``title``,
  ``issn_title``, ``as_marc``/``as_marc21``, and the native JSON/MARCXML export
  (``_export_json``, ``_export_xml``) that as_json, record_to_xml and the writers use;
* Python (this file, attached to the native class): ``str()``, ``repr()``,
  ``add_grouped_field``, ``add_ordered_field``, ``remove_field``, ``remove_fields``,
  ``get_linked_fields``, ``as_dict``, ``as_json``, pickling, and the convenience properties
  ``isbn``, ``issn``, ``issnl``, ``sudoc``, ``author``, ``uniformtitle``, ``series``,
  ``subjects``, ``addedentries``, ``location``, ``notes``, ``physicaldescription``,
  ``publisher`` and ``pubyear``.

``title`` is native because nearly every script reads it; the rest is not on hot paths.
"""

from __future__ import annotations

import copyreg
import json
import logging
import re
from typing import TYPE_CHECKING

from . import _core
from ._core import marc8_to_unicode
from .constants import DIRECTORY_ENTRY_LEN, END_OF_FIELD, END_OF_RECORD, LEADER_LEN, SUBFIELD_INDICATOR
from .exceptions import (
    BadSubfieldCodeWarning,
    BaseAddressInvalid,
    BaseAddressNotFound,
    FieldNotFound,
    MissingLinkedFields,
    NoFieldsFound,
    RecordDirectoryInvalid,
    RecordLeaderInvalid,
    TruncatedRecord,
)
from .field import Field, Indicators, RawField, Subfield, _attach, map_marc8_field
from .leader import Leader

Record = _core.Record

logger = logging.getLogger("pymarc")
isbn_regex = re.compile(r"([0-9\-xX]+)")  # pymarc's name; Record.isbn uses it

_SUBJECT_TAGS = (
    "600", "610", "611", "630", "648", "650", "651", "653", "654", "655",
    "656", "657", "658", "662", "690", "691", "696", "697", "698", "699",
)  # fmt: skip
_ADDED_ENTRY_TAGS = (
    "700", "710", "711", "720", "730", "740", "752", "753", "754", "790",
    "791", "792", "793", "796", "797", "798", "799",
)  # fmt: skip
_NOTE_TAGS = (
    "500", "501", "502", "504", "505", "506", "507", "508", "510", "511",
    "513", "514", "515", "516", "518", "520", "521", "522", "524", "525",
    "526", "530", "533", "534", "535", "536", "538", "540", "541", "544",
    "545", "546", "547", "550", "552", "555", "556", "561", "562", "563",
    "565", "567", "580", "581", "583", "584", "585", "586", "590", "591",
    "592", "593", "594", "595", "596", "597", "598", "599",
)  # fmt: skip


def _publication_subfield(record: Record, code: str) -> str | None:
    for field in record.get_fields("260", "264"):
        if field.tag == "260" or (field.tag == "264" and field.indicator2 == "1"):
            return field.get(code)
    return None


# For type checkers the methods below belong to the native class; at run time they are copied onto it.
if TYPE_CHECKING:
    _RecordBase = _core.Record
else:
    _RecordBase = object


class _RecordMethods(_RecordBase):
    """Methods and properties of Record written in Python (attached to the native class)."""

    def __str__(self) -> str:
        """The record as MARCMaker-style text: the leader line, then one line per field."""
        lines = [f"=LDR  {self.leader}"]
        lines.extend(str(field) for field in self.fields)
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<Record {str(self.leader)!r}>"

    def add_grouped_field(self, *fields: Field) -> None:
        """Insert fields after the last field of the same hundred (loose MARC order)."""
        for field in fields:
            self._insert_sorted(field, lambda tag: int(tag[0]))

    def add_ordered_field(self, *fields: Field) -> None:
        """Insert fields in strict numeric tag order."""
        for field in fields:
            self._insert_sorted(field, int)

    def _insert_sorted(self, field: Field, key) -> None:
        fields = self.fields
        if not fields or not field.tag.isdigit():
            fields.append(field)
            return
        mine = key(field.tag)
        for i, other in enumerate(fields):
            if not other.tag.isdigit() or key(other.tag) > mine:
                fields.insert(i, field)
                return
        fields.append(field)

    def remove_field(self, *fields: Field) -> None:
        """Remove the given field objects; FieldNotFound if one is not in the record."""
        current = self.fields
        for field in fields:
            for i, other in enumerate(current):
                if other is field:
                    del current[i]
                    break
            else:
                raise FieldNotFound

    def remove_fields(self, *tags: str) -> None:
        """Remove every field whose tag is one of `tags`."""
        if tags:
            wanted = set(tags)
            self.fields[:] = [f for f in self.fields if f.tag not in wanted]

    def get_linked_fields(self, field: Field) -> list[Field]:
        """The 880 fields linked to `field` through $6; MissingLinkedFields if none exist."""
        num = field.linkage_occurrence_num()
        linked = [f for f in self.get_fields("880") if f.linkage_occurrence_num() == num]
        if num is not None and not linked:
            raise MissingLinkedFields(field)
        return linked

    def as_dict(self) -> dict[str, object]:
        """MARC-in-JSON structure: {"leader": ..., "fields": [{tag: ...}, ...]}."""
        out: list[dict[str, object]] = []
        for field in self.fields:
            if field.control_field:
                out.append({field.tag: field.data})
            else:
                out.append(
                    {
                        field.tag: {
                            "ind1": field.indicator1,
                            "ind2": field.indicator2,
                            "subfields": [{sf.code: sf.value} for sf in field.subfields],
                        }
                    }
                )
        return {"leader": str(self.leader), "fields": out}

    def as_json(self, **kwargs: object) -> str:
        """MARC-in-JSON text; keyword arguments go to json.dumps.

        Without keyword arguments an untouched record is written natively from its bytes (the
        same text json.dumps writes)."""
        if not kwargs:
            text = self._export_json(False)
            if text is not None:
                return text
        return json.dumps(self.as_dict(), **kwargs)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple:
        # An untouched record pickles as its bytes; an edited one as its leader and fields (the
        # list itself: a shallow copy shares it, as pymarc's does). A subclass stays itself, with
        # its own state: what its __getstate__ gives, else its __dict__ and __slots__.
        cls = type(self)
        raw = self._raw_bytes()
        if raw is not None and self._is_lazy():
            return (_from_bytes, (cls, raw, self.to_unicode, self.force_utf8), _extra_state(self))
        return (_from_parts, (cls, self.leader, self.fields, self.to_unicode, self.force_utf8), _extra_state(self))

    @property
    def isbn(self) -> str | None:
        """The first ISBN (020 $a) reduced to digits and X, or None."""
        field = self.get("020")
        value = field.get("a") if field else None
        if not value:
            return None
        match = isbn_regex.search(value)
        return match.group(1).replace("-", "") if match else None

    @property
    def issn(self) -> str | None:
        """022 $a, or None."""
        field = self.get("022")
        return field.get("a") if (field and "a" in field) else None

    @property
    def issnl(self) -> str | None:
        """The linking ISSN, 022 $l, or None."""
        field = self.get("022")
        return field["l"] if (field and "l" in field) else None

    @property
    def sudoc(self) -> str | None:
        """The SuDoc classification number (086), formatted."""
        field = self.get("086")
        return field.format_field() if field else None

    @property
    def author(self) -> str | None:
        """The main entry (100, 110 or 111), formatted."""
        field = self.get("100") or self.get("110") or self.get("111")
        return field.format_field() if field else None

    @property
    def uniformtitle(self) -> str | None:
        """The uniform title (130 or 240), formatted."""
        field = self.get("130") or self.get("240")
        return field.format_field() if field else None

    @property
    def series(self) -> list[Field]:
        """Series statements and series added entries (440, 490, 800, 810, 811, 830)."""
        return self.get_fields("440", "490", "800", "810", "811", "830")

    @property
    def subjects(self) -> list[Field]:
        """Subject access fields (6XX, including the local 69X)."""
        return self.get_fields(*_SUBJECT_TAGS)

    @property
    def addedentries(self) -> list[Field]:
        """Added entries (7XX, including the local 79X)."""
        return self.get_fields(*_ADDED_ENTRY_TAGS)

    @property
    def location(self) -> list[Field]:
        """Location fields (852)."""
        return self.get_fields("852")

    @property
    def notes(self) -> list[Field]:
        """Note fields (5XX)."""
        return self.get_fields(*_NOTE_TAGS)

    @property
    def physicaldescription(self) -> list[Field]:
        """Physical description fields (300)."""
        return self.get_fields("300")

    @property
    def publisher(self) -> str | None:
        """260 $b, or $b of a 264 with second indicator 1."""
        return _publication_subfield(self, "b")

    def decode_marc(
        self,
        marc: bytes,
        to_unicode: bool = True,
        force_utf8: bool = False,
        hide_utf8_warnings: bool = False,
        utf8_handling: str = "strict",
        encoding: str = "iso8859-1",
    ) -> None:
        """pymarc's decode_marc: read the ISO 2709 record ``marc`` into this record (its leader
        replaces this one's, its fields are added after this record's), with the same exceptions
        as ``Record(marc, ...)``. Decoded natively; ``to_unicode=False`` gives ``RawField`` fields."""
        if not marc:
            raise RecordLeaderInvalid()
        decoded = Record(
            bytes(marc),
            to_unicode=to_unicode,
            force_utf8=force_utf8 or self.force_utf8,
            hide_utf8_warnings=hide_utf8_warnings,
            utf8_handling=utf8_handling,
            file_encoding=encoding,
        )
        self.leader = decoded.leader
        self.add_field(*decoded.fields)

    @property
    def pubyear(self) -> str | None:
        """260 $c, or $c of a 264 with second indicator 1."""
        return _publication_subfield(self, "c")


def _new_record(cls: type[Record]) -> Record:
    # The subclass's own __init__ may take other arguments: the Record part is initialised here.
    return cls.__new__(cls)


def _from_bytes(*args: object) -> Record:
    # (cls, raw, to_unicode, force_utf8); pickles of earlier versions lack cls.
    cls, raw, to_unicode, force_utf8 = args if isinstance(args[0], type) else (Record, *args)
    record = _new_record(cls)  # type: ignore[arg-type]
    Record.__init__(record, raw, to_unicode=to_unicode, force_utf8=force_utf8)  # type: ignore[arg-type]
    return record


def _from_parts(*args: object) -> Record:
    # (cls, leader, fields, to_unicode, force_utf8); pickles of earlier versions lack cls and hold
    # the leader's text.
    cls, leader, fields, to_unicode, force_utf8 = args if isinstance(args[0], type) else (Record, *args)
    record = _new_record(cls)  # type: ignore[arg-type]
    Record.__init__(record, to_unicode=to_unicode, force_utf8=force_utf8)  # type: ignore[arg-type]
    if not isinstance(args[0], type):
        leader = Leader(leader)  # type: ignore[arg-type]
    record.leader = leader  # type: ignore[assignment]  # whatever it was (a Leader, a str, None), as pymarc keeps it
    record.fields = fields  # type: ignore[assignment]
    return record


def _extra_state(record: Record) -> object:
    """A subclass's own state, for pickle and copy to restore: what its ``__getstate__`` gives, or
    (``__dict__``, slot values); None when it has none (or is a plain Record)."""
    cls = type(record)
    if cls is Record:
        return None
    getstate = getattr(cls, "__getstate__", None)
    if getstate is not None and getstate is not getattr(object, "__getstate__", None):
        return record.__getstate__()  # type: ignore[attr-defined]
    slots = {}
    for name in copyreg._slotnames(cls):  # type: ignore[attr-defined]  # mangled names included
        if name not in ("__dict__", "__weakref__") and hasattr(record, name):
            slots[name] = getattr(record, name)
    attributes = getattr(record, "__dict__", None) or None
    if attributes is None and not slots and not hasattr(cls, "__setstate__"):
        return None
    return (attributes, slots)


_attach(Record, _RecordMethods)
Record.__module__ = "rapidmarc"


def map_marc8_record(record: Record) -> Record:
    """pymarc's map_marc8_record: every field of a record read with ``to_unicode=False`` from MARC-8
    bytes to Unicode text (``map_marc8_field``), and leader/09 set to 'a'; the record is returned."""
    record.fields = [map_marc8_field(field) for field in record.fields]
    leader = list(str(record.leader))
    leader[9] = "a"
    record.leader = Leader("".join(leader))
    return record


def normalize_subfield_code(subfield: bytes) -> tuple[str, int]:
    """pymarc's rule for a subfield whose code byte is not ASCII: the code (the first character's
    ASCII letter without diacritics) and how many bytes it takes; IndexError when there is none."""
    return _core.normalize_subfield_code(bytes(subfield))


__all__ = ["Record", "map_marc8_record", "normalize_subfield_code"]

# pymarc.record's namespace also holds these (scripts import them from there).
_REEXPORTED = (
    BadSubfieldCodeWarning, BaseAddressInvalid, BaseAddressNotFound, NoFieldsFound, RecordDirectoryInvalid,
    TruncatedRecord, DIRECTORY_ENTRY_LEN, END_OF_FIELD, END_OF_RECORD, LEADER_LEN, SUBFIELD_INDICATOR,
    Indicators, RawField, Subfield, marc8_to_unicode,
)  # fmt: skip
