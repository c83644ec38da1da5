"""Exceptions with pymarc's names and hierarchy.

Every rapidmarc exception can say where the problem is: ``record_index`` (0-based position of the
record in the stream), ``byte_offset`` (offset of the record's first byte) and ``detail`` (what
exactly was wrong). They are ``None`` when unknown, and then ``str()`` gives pymarc's message.
"""

from __future__ import annotations

import json
from xml.sax import SAXParseException


class PymarcException(Exception):
    """Base class of rapidmarc's (and pymarc's) exceptions."""

    message = ""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.record_index: int | None = None
        self.byte_offset: int | None = None
        self.detail: str | None = None

    def __str__(self) -> str:
        base = self.message or super().__str__()
        if not self.detail:
            return base
        where = ""
        if self.record_index is not None:
            where = f" (record {self.record_index}, byte offset {self.byte_offset})"
        return f"{base}: {self.detail}{where}"


class FatalReaderError(PymarcException):
    """An error after which the reader cannot find the next record."""


class RecordLengthInvalid(FatalReaderError):
    message = "Invalid record length in first 5 bytes of record"


class TruncatedRecord(FatalReaderError):
    message = "Record length in leader is greater than the length of data"


class EndOfRecordNotFound(FatalReaderError):
    message = "Unable to locate end of record marker"


class RecordLeaderInvalid(PymarcException):
    message = "Unable to extract record leader"


class RecordDirectoryInvalid(PymarcException):
    message = "Invalid directory"


class NoFieldsFound(PymarcException):
    message = "Unable to locate fields in record data"


class BaseAddressInvalid(PymarcException):
    message = "Base address exceeds size of record"


class BaseAddressNotFound(PymarcException):
    message = "Unable to locate base address of record"


class WriteNeedsRecord(PymarcException):
    message = "Write requires a pymarc.Record object as an argument"


class NoActiveFile(PymarcException):
    message = "There is no active file to write to in call to write"


class FieldNotFound(PymarcException):
    message = "Record does not contain the specified field"


class BadLeaderValue(PymarcException):
    """A value does not fit the leader position it is assigned to."""


class MissingLinkedFields(PymarcException):
    """A field's $6 points to 880 fields that are not in the record."""

    def __init__(self, field: object) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        tag = getattr(self.field, "tag", "?")
        return f"{tag} field includes a subfield 6 but no linked fields could be found."


class BadSubfieldCodeWarning(Warning):
    """A subfield code byte is not ASCII; the code was normalised."""

    def __init__(self, subf: object) -> None:
        super().__init__()
        self.subf = subf

    def __str__(self) -> str:
        return f"The subfield contained a non-ASCII subfield code: {self.subf!r}"


class _Position:
    """A SAX locator for a position rapidmarc's native MARCXML reader reports."""

    def __init__(self, line: int, column: int) -> None:
        self._line = line
        self._column = column

    def getColumnNumber(self) -> int:  # noqa: N802 - the SAX Locator interface
        return self._column

    def getLineNumber(self) -> int:  # noqa: N802
        return self._line

    def getPublicId(self) -> None:  # noqa: N802
        return None

    def getSystemId(self) -> None:  # noqa: N802
        return None


class JSONParseError(json.JSONDecodeError):
    """MARC-in-JSON that the native reader cannot read: not well-formed JSON (Python's json
    module's messages: ``Expecting value``, ``Expecting ',' delimiter``, ``Unterminated string
    starting at``, ...), text that is not UTF-8, or nesting deeper than 512 levels.

    A ``json.JSONDecodeError`` (so a ``ValueError``), with its ``msg``, ``lineno`` and ``colno``
    (both 1-based) and ``pos`` (characters from the start of the input); ``doc`` is empty, since
    the document is streamed, not held. rapidmarc adds ``record_index``, the index of the record
    being read (the number of records before it).
    """

    def __init__(self, reason: str, line: int, column: int, position: int, record_index: int) -> None:
        ValueError.__init__(self, f"{reason}: line {line} column {column} (char {position})")
        self.msg = reason
        self.doc = ""
        self.pos = position
        self.lineno = line
        self.colno = column
        self.record_index = record_index

    def __reduce__(self) -> tuple[type[JSONParseError], tuple[str, int, int, int, int]]:
        return (JSONParseError, (self.msg, self.lineno, self.colno, self.pos, self.record_index))


class XMLParseError(SAXParseException):
    """MARCXML that the native reader cannot read: not well-formed (expat's message, as Python's
    SAX parser gives it: ``mismatched tag``, ``no element found`` for a document cut short, ...),
    or a structure it refuses (a record inside a record, a field without its tag attribute).

    A ``xml.sax.SAXParseException``, so ``except SAXParseException`` catches it as it catches
    pymarc's error, with ``getLineNumber()`` (1-based) and ``getColumnNumber()`` (0-based) and
    ``str()`` ``"<unknown>:LINE:COLUMN: reason"``; rapidmarc adds ``line``, ``column``, and
    ``record_index``, the index of the record being read (the number of records before it).
    """

    def __init__(self, reason: str, line: int, column: int, record_index: int) -> None:
        super().__init__(reason, None, _Position(line, column))  # type: ignore[arg-type]
        self.reason = reason
        self.line = line
        self.column = column
        self.record_index = record_index

    def __reduce__(self) -> tuple[type[XMLParseError], tuple[str, int, int, int]]:
        return (XMLParseError, (self.reason, self.line, self.column, self.record_index))


_CLASSES: dict[str, type[PymarcException]] = {
    "record_length_invalid": RecordLengthInvalid,
    "truncated_record": TruncatedRecord,
    "end_of_record_not_found": EndOfRecordNotFound,
    "leader_invalid": RecordLeaderInvalid,
    "base_address_not_found": BaseAddressNotFound,
    "base_address_invalid": BaseAddressInvalid,
    "directory_invalid": RecordDirectoryInvalid,
    "no_fields_found": NoFieldsFound,
}
_UNICODE = {
    "leader_not_ascii": "ascii",
    "directory_not_ascii": "ascii",
    "indicator_not_ascii": "ascii",
    "invalid_utf8": "utf-8",
}
_VALUE = {"base_address_not_numeric", "directory_entry_not_numeric"}


def _make_error(code: str, detail: str, index: int, offset: int, culprit: bytes) -> BaseException:
    """Build the exception pymarc would raise for a native error code, with its location.

    Decoding problems are UnicodeDecodeError and malformed numbers ValueError, as in pymarc; for
    those the location is attached as the same attributes.
    """
    exc: BaseException
    if code == "subfield_code_invalid":  # pymarc's normalize_subfield_code finds no code: IndexError
        exc = IndexError("string index out of range")
    elif code == "invalid_marc8":  # pymarc's marc8_to_unicode raises exactly this
        exc = UnicodeDecodeError("marc8_to_unicode", culprit, 0, len(culprit), "invalid multibyte character encoding")
    elif code in _UNICODE:
        encoding = _UNICODE[code]
        try:
            culprit.decode(encoding)
            exc = UnicodeDecodeError(encoding, culprit, 0, len(culprit), detail)
        except UnicodeDecodeError as real:
            exc = real
    elif code in _VALUE:
        exc = ValueError(detail)
    else:
        exc = _CLASSES.get(code, PymarcException)()
    # Plain Python exceptions (UnicodeDecodeError, ValueError) accept the same attributes.
    setattr(exc, "record_index", index)  # noqa: B010
    setattr(exc, "byte_offset", offset)  # noqa: B010
    setattr(exc, "detail", detail)  # noqa: B010
    return exc


__all__ = [
    "BadLeaderValue",
    "BadSubfieldCodeWarning",
    "BaseAddressInvalid",
    "BaseAddressNotFound",
    "EndOfRecordNotFound",
    "FatalReaderError",
    "FieldNotFound",
    "MissingLinkedFields",
    "NoActiveFile",
    "NoFieldsFound",
    "PymarcException",
    "RecordDirectoryInvalid",
    "RecordLeaderInvalid",
    "RecordLengthInvalid",
    "TruncatedRecord",
    "WriteNeedsRecord",
    "JSONParseError",
    "XMLParseError",
]
