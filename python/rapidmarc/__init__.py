"""rapidmarc: fast, dependable MARC 21 / ISO 2709 for Python, with pymarc's API.

Switch from pymarc by changing the import::

    from rapidmarc import MARCReader

    with MARCReader("records.mrc") as reader:   # a path is read natively, without the GIL
        for record in reader:
            if record:
                print(record.title)
"""

import atexit
import os

from . import _core
from ._core import decode_ncr, marc8_to_unicode, unicode_to_marc8
from .bulk import (
    ConvertResult,
    ExtractedColumns,
    RangeResult,
    ReadSummary,
    byte_ranges,
    convert,
    count,
    extract,
    extract_arrow,
    parse_records,
    read_range,
    scan,
)
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
from .field import Field, Indicators, RawField, Subfield, map_marc8_field
from .leader import Leader
from .marc8 import MARC8ToUnicode
from .marcjson import JSONHandler, parse_json_to_array
from .marcmaker import record_to_marcmaker
from .marcxml import (
    MARC_XML_NS,
    MARC_XML_SCHEMA,
    XSI_NS,
    XmlHandler,
    map_xml,
    parse_xml,
    parse_xml_to_array,
    record_to_xml,
    record_to_xml_node,
)
from .options import ReadOptions
from .reader import JSONReader, MARCMakerReader, MARCReader, Reader, XMLReader, map_records
from .record import Record, isbn_regex, logger, map_marc8_record, normalize_subfield_code
from .tables import TableResult, extract_long, to_csv, to_parquet
from .writer import JSONWriter, MARCWriter, TextWriter, Writer, XMLWriter

_core._register(
    Subfield, Indicators, Leader, _make_error, BadSubfieldCodeWarning, os.path.join(os.path.dirname(__file__), "")
)
atexit.register(_core._unregister)

__version__ = "0.1.0"

__all__ = [
    "byte_ranges",
    "convert",
    "count",
    "decode_ncr",
    "extract",
    "extract_arrow",
    "extract_long",
    "map_records",
    "map_xml",
    "marc8_to_unicode",
    "parse_json_to_array",
    "parse_records",
    "read_range",
    "scan",
    "to_csv",
    "to_parquet",
    "parse_xml",
    "parse_xml_to_array",
    "record_to_marcmaker",
    "record_to_xml",
    "record_to_xml_node",
    "unicode_to_marc8",
    "DIRECTORY_ENTRY_LEN",
    "END_OF_FIELD",
    "END_OF_RECORD",
    "LEADER_LEN",
    "MARC_XML_NS",
    "MARC_XML_SCHEMA",
    "SUBFIELD_INDICATOR",
    "XSI_NS",
    "BadLeaderValue",
    "BadSubfieldCodeWarning",
    "BaseAddressInvalid",
    "BaseAddressNotFound",
    "ConvertResult",
    "ExtractedColumns",
    "ReadSummary",
    "TableResult",
    "EndOfRecordNotFound",
    "FatalReaderError",
    "Field",
    "MARC8ToUnicode",
    "RawField",
    "isbn_regex",
    "logger",
    "map_marc8_field",
    "map_marc8_record",
    "normalize_subfield_code",
    "FieldNotFound",
    "Indicators",
    "JSONHandler",
    "JSONReader",
    "JSONWriter",
    "Leader",
    "MARCMakerReader",
    "MARCReader",
    "XMLReader",
    "MARCWriter",
    "MissingLinkedFields",
    "NoActiveFile",
    "NoFieldsFound",
    "PymarcException",
    "RangeResult",
    "ReadOptions",
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
    "XMLWriter",
    "XmlHandler",
]
