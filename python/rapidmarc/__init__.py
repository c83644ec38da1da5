"""rapidmarc: fast, dependable MARC 21 / ISO 2709 for Python, with pymarc's API.

Switch from pymarc by changing the import::

    from rapidmarc import MARCReader

    with MARCReader("records.mrc") as reader:   # a path is read natively, without the GIL
        for record in reader:
            if record:
                print(record.title)
"""

import atexit

from . import _core
from ._core import decode_ncr, marc8_to_unicode, unicode_to_marc8
from .bulk import count, extract, parse_records
from .constants import (
    DIRECTORY_ENTRY_LEN,
    END_OF_FIELD,
    END_OF_RECORD,
    LEADER_LEN,
    SUBFIELD_INDICATOR,
)
from .exceptions import (
    BadLeaderValue,
    BadSubfieldCodeWarning,
    BaseAddressInvalid,
    BaseAddressNotFound,
    EndOfRecordNotFound,
    FatalReaderError,
    FieldNotFound,
    MissingLinkedFields,
    NoActiveFile,
    NoFieldsFound,
    PymarcException,
    RecordDirectoryInvalid,
    RecordLeaderInvalid,
    RecordLengthInvalid,
    TruncatedRecord,
    WriteNeedsRecord,
    _make_error,
)
from .field import Field, Indicators, Subfield, _normalize_subfield_code
from .leader import Leader
from .reader import MARCReader, Reader, map_records
from .record import Record
from .writer import MARCWriter, TextWriter, Writer

_core._register(Subfield, Indicators, Leader, _make_error, _normalize_subfield_code)
atexit.register(_core._unregister)

__version__ = "0.1.0"

__all__ = [
    "count",
    "decode_ncr",
    "extract",
    "marc8_to_unicode",
    "parse_records",
    "unicode_to_marc8",
    "DIRECTORY_ENTRY_LEN",
    "END_OF_FIELD",
    "END_OF_RECORD",
    "LEADER_LEN",
    "SUBFIELD_INDICATOR",
    "BadLeaderValue",
    "BadSubfieldCodeWarning",
    "BaseAddressInvalid",
    "BaseAddressNotFound",
    "EndOfRecordNotFound",
    "FatalReaderError",
    "Field",
    "FieldNotFound",
    "Indicators",
    "Leader",
    "MARCReader",
    "MARCWriter",
    "MissingLinkedFields",
    "NoActiveFile",
    "NoFieldsFound",
    "PymarcException",
    "Reader",
    "Record",
    "RecordDirectoryInvalid",
    "RecordLeaderInvalid",
    "RecordLengthInvalid",
    "Subfield",
    "TextWriter",
    "TruncatedRecord",
    "WriteNeedsRecord",
    "Writer",
    "map_records",
]
