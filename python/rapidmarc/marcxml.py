"""MARCXML, as in pymarc: records to XML (natively when possible) and XML to records (SAX).

Writing: ``record_to_xml(record)`` gives the bytes pymarc's ``record_to_xml`` gives (ElementTree's
``tostring``: ASCII, with other characters as ``&#N;``); ``XMLWriter`` (in ``rapidmarc.writer``)
writes a UTF-8 collection. A record that was read and not touched is written by the C++ core
straight from its bytes; any other record goes through ``record_to_xml_node`` and ElementTree,
as in pymarc. Both give the same bytes.

Reading: ``parse_xml_to_array``, ``map_xml``, ``parse_xml`` and ``XmlHandler`` read MARCXML into
``rapidmarc.Record`` objects, with pymarc's behaviour. ``parse_xml_to_array`` and ``map_xml`` read
a file path or a seekable binary file object natively (``XMLReader``, the C++ reader on expat)
while that gives what pymarc gives: at the first record the native reader cannot represent as
pymarc does (a record without fields, a leader that is not 24 characters, ...) or at an XML error,
the document is read again from its start with Python's SAX parser and ``XmlHandler``, skipping
the records already delivered, so records and exceptions are pymarc's. ``normalize_form``, a URL
or text file object, and ``parse_xml`` with any handler take the SAX path.
"""

from __future__ import annotations

import io
import os
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import IO, Any
from xml.sax import make_parser
from xml.sax.handler import ContentHandler, feature_namespaces

from . import _core
from ._core import marc8_to_unicode
from .field import Field, Indicators
from .leader import Leader
from .marc8 import MARC8ToUnicode  # noqa: F401  (pymarc.marcxml's namespace has it)
from .record import Record

MARC_XML_NS = "http://www.loc.gov/MARC21/slim"
MARC_XML_SCHEMA = "http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

XmlSource = str | IO[Any]


def _text(value: str | bytes | None, quiet: bool) -> str | None:
    """XML needs text: values of records read with to_unicode=False are MARC-8 bytes."""
    return marc8_to_unicode(value, quiet) if isinstance(value, bytes) else value


def record_to_xml_node(record: Record, quiet: bool = False, namespace: bool = False) -> ET.Element:
    """The record as an ElementTree ``<record>`` element (with the MARC 21 slim namespace and
    schema location if ``namespace``). ``quiet`` silences MARC-8 conversion warnings."""
    root = ET.Element("record")
    if namespace:
        root.set("xmlns", MARC_XML_NS)
        root.set("xmlns:xsi", XSI_NS)
        root.set("xsi:schemaLocation", MARC_XML_SCHEMA)
    ET.SubElement(root, "leader").text = str(record.leader)
    for field in record:
        if field.control_field:
            element = ET.SubElement(root, "controlfield")
            element.set("tag", field.tag)
            element.text = _text(field.data, quiet)
            continue
        element = ET.SubElement(root, "datafield")
        element.set("ind1", field.indicator1)
        element.set("ind2", field.indicator2)
        element.set("tag", field.tag)
        for code, value in field:
            sub = ET.SubElement(element, "subfield")
            sub.set("code", code)
            sub.text = _text(value, quiet)
    return root


def _record_xml(record: Record, utf8: bool, quiet: bool = False, namespace: bool = False) -> bytes:
    native = record._export_xml(utf8, namespace)
    if native is not None:
        return native
    node = record_to_xml_node(record, quiet, namespace)
    return ET.tostring(node, encoding="utf-8") if utf8 else ET.tostring(node)


def record_to_xml(record: Record, quiet: bool = False, namespace: bool = False) -> bytes:
    """The record as MARCXML bytes: a ``<record>`` element, ASCII with ``&#N;`` references."""
    return _record_xml(record, False, quiet, namespace)


class XmlHandler(ContentHandler):
    """SAX handler that builds records from MARCXML.

    Each finished record goes to ``process_record``, which appends it to ``records``; override it
    (or assign a function to it, as ``map_xml`` does) to stream records instead. With ``strict``
    only elements in the MARC 21 slim namespace are read. ``normalize_form`` ("NFC", "NFD",
    "NFKC", "NFKD") normalises the text of every element.
    """

    def __init__(self, strict: bool = False, normalize_form: str | None = None) -> None:
        super().__init__()
        self.records: list[Record] = []
        self._record: Record | None = None
        self._field: Field | None = None
        self._subfield_code: str | None = None
        self._text: list[str] = []
        self._strict = strict
        self.normalize_form = normalize_form

    def _ignored(self, name: tuple[str | None, str]) -> bool:
        return self._strict and name[0] != MARC_XML_NS

    def startElementNS(self, name: tuple[str | None, str], qname: str | None, attrs: Any) -> None:
        if self._ignored(name):
            return
        self._text = []
        element = name[1]
        if element == "record":
            self._record = Record()
        elif element == "controlfield":
            self._field = Field(attrs.getValue((None, "tag")))
        elif element == "datafield":
            indicators = Indicators(attrs.get((None, "ind1"), " "), attrs.get((None, "ind2"), " "))
            self._field = Field(attrs.getValue((None, "tag")), indicators)
        elif element == "subfield":
            self._subfield_code = attrs[(None, "code")]

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        if self._ignored(name):
            return
        text = "".join(self._text)
        if self.normalize_form is not None:
            text = unicodedata.normalize(self.normalize_form, text)  # type: ignore[arg-type]
        self._text = []
        element = name[1]
        record, field = self._record, self._field
        if element == "record" and record:
            self._record = None
            self.process_record(record)
        elif element == "leader" and record:
            record.leader = Leader(text)
        elif element == "controlfield" and record and field:
            field.data = text
            record.add_field(field)
            self._field = None
        elif element == "datafield" and record and field:
            record.add_field(field)
            self._field = None
        elif element == "subfield" and field and self._subfield_code:
            field.add_subfield(self._subfield_code, text)
            self._subfield_code = None

    def characters(self, content: str) -> None:
        self._text.append(content)

    def process_record(self, record: Record) -> None:
        """Called with each finished record; the default keeps it in ``records``."""
        self.records.append(record)


class _Skipping(XmlHandler):
    """XmlHandler that hands on records after the first ``skip`` (already delivered natively)."""

    def __init__(self, strict: bool, skip: int, sink: Callable[[Record], Any]) -> None:
        super().__init__(strict)
        self._skip = skip
        self._sink = sink

    def process_record(self, record: Record) -> None:
        if self._skip > 0:
            self._skip -= 1
        else:
            self._sink(record)


def _native_source(xml_file: XmlSource) -> tuple[object, int] | None:
    """(what XMLReader reads, where to rewind a file object to) when ``xml_file`` can be read
    natively and read again: a path to a regular file, or a seekable binary file object."""
    if not _core.marcxml_supported():
        return None
    if isinstance(xml_file, str):
        return (xml_file, 0) if os.path.isfile(xml_file) else None  # else a URL, as SAX reads it
    if isinstance(xml_file, io.TextIOBase) or not hasattr(xml_file, "read"):
        return None
    try:
        if not xml_file.seekable():
            return None
        return xml_file, xml_file.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _read_natively(xml_file: XmlSource, strict: bool, sink: Callable[[Record], Any]) -> None:
    """Hands every record of ``xml_file`` to ``sink``, natively where that gives pymarc's records
    (see the module documentation), else, from the first record where it would not, with SAX."""
    native = _native_source(xml_file)
    if native is None:
        parse_xml(xml_file, _Skipping(strict, 0, sink))
        return
    from .exceptions import XMLParseError
    from .reader import _PymarcStrictXMLReader, _PymarcXMLReader

    target, start = native
    delivered = 0
    reader_class = _PymarcStrictXMLReader if strict else _PymarcXMLReader
    reader = reader_class(target, strict=True, workers=0)  # type: ignore[arg-type]
    try:
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except XMLParseError:
                break
            except Exception as error:  # a record the native reader cannot hold as pymarc does
                if getattr(error, "record_index", None) is None:
                    raise  # not about the document (an I/O error): as SAX would raise it
                break
            if record is None:  # not with strict=True; read it with SAX all the same
                break
            sink(record)
            delivered += 1
    finally:
        reader._close()
    if not isinstance(xml_file, str):
        xml_file.seek(start)
    parse_xml(xml_file, _Skipping(strict, delivered, sink))


def parse_xml(xml_file: XmlSource, handler: ContentHandler) -> None:
    """Parse ``xml_file`` (a path or a file object) with a namespace-aware SAX parser."""
    parser = make_parser()
    parser.setContentHandler(handler)
    parser.setFeature(feature_namespaces, True)
    parser.parse(xml_file)


def map_xml(function: Callable[[Record], Any], *files: XmlSource) -> None:
    """Call ``function`` with every record of every MARCXML file, as each is read."""
    for xml_file in files:
        _read_natively(xml_file, False, function)


def parse_xml_to_array(xml_file: XmlSource, strict: bool = False, normalize_form: str | None = None) -> list[Record]:
    """All records of a MARCXML file (a path or a file object), as a list."""
    if normalize_form is not None:
        handler = XmlHandler(strict, normalize_form)
        parse_xml(xml_file, handler)
        return handler.records
    records: list[Record] = []
    _read_natively(xml_file, strict, records.append)
    return records


__all__ = [
    "MARC_XML_NS",
    "MARC_XML_SCHEMA",
    "XSI_NS",
    "XmlHandler",
    "map_xml",
    "parse_xml",
    "parse_xml_to_array",
    "record_to_xml",
    "record_to_xml_node",
]
