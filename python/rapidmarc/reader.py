"""MARCReader: pymarc's reader, reading natively.

Given a path, the file is opened, read and parsed in C++ with the GIL released. Given a binary
file object, it is read in chunks of up to 64 KiB with ``readinto1`` (or ``readinto``, ``read1``,
``read``; the GIL is held only for that call) and parsed with the GIL released; records are handed
out as soon as they have arrived. ``bytes`` are parsed in place.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from . import _core, marcmaker
from .constants import END_OF_RECORD  # noqa: F401  (pymarc.reader's namespace has it)
from .exceptions import (  # noqa: F401  (pymarc.reader's namespace has them)
    EndOfRecordNotFound,
    FatalReaderError,
    PymarcException,
    RecordLengthInvalid,
    TruncatedRecord,
)
from .field import Field, Indicators, Subfield
from .leader import Leader
from .options import _FILE, _JSON, _XML, _XML_ANY_NAMESPACE, _XML_SLIM_ONLY, ReadOptions, Source, _classify
from .record import Record


class Reader:
    """Base class of rapidmarc's iterating readers (as in pymarc)."""


class MARCReader(_core.Reader, Reader):
    """Iterate over the records of ISO 2709 data, exactly as pymarc's MARCReader does.

    ``marc_target`` is a path (str or os.PathLike), raw MARC ``bytes``/``bytearray``/
    ``memoryview``, or a binary file object. The pymarc arguments mean what they mean there.
    A bad record yields ``None`` and sets ``current_exception`` and ``current_chunk``; after a
    framing error (RecordLengthInvalid, TruncatedRecord, EndOfRecordNotFound) iteration ends.
    ``permissive`` is accepted and, as in pymarc, changes nothing.

    rapidmarc adds these keyword-only options and one attribute:

    * ``strict=True`` raises the exception instead of yielding ``None``; it carries
      ``record_index``, ``byte_offset`` and ``detail``.
    * ``recover=True`` resynchronises at the next plausible record after a framing error and
      goes on reading, instead of ending iteration.
    * ``encoding="auto"`` trusts the bytes over leader/09: a record flagged MARC-8 whose data is
      valid UTF-8 (non-ASCII, no escape sequences) is read as UTF-8, and a record flagged UTF-8
      whose data is not UTF-8 but converts cleanly as MARC-8 is read as MARC-8. Such a record's
      leader/09 is corrected, and its index is listed in ``corrected_records``. The default
      (``None``) follows leader/09, as pymarc does.
    * ``current_offset``: the byte offset in the input of the item last returned (record or
      ``None``), next to pymarc's ``current_chunk`` and ``current_exception``.
    * ``workers=N`` parses a path or ``bytes`` on N threads (``None``: one per core), split into
      byte ranges at record boundaries; records still arrive in file order, exactly as with the
      default ``workers=1`` (one thread parsing one batch ahead). ``workers=0`` reads and parses in
      the calling thread (without the GIL while native code runs): the choice for a thread pool of
      readers, which would otherwise start one parsing thread per reader. A file object is always
      read in the calling thread.

    >>> with MARCReader("records.mrc") as reader:  # doctest: +SKIP
    ...     titles = [record.title for record in reader if record]
    """

    _kind_bits = 0  # bits over the source kind (rapidmarc.options); XMLReader reads MARCXML

    def __init__(
        self,
        marc_target: Source,
        to_unicode: bool = True,
        force_utf8: bool = False,
        hide_utf8_warnings: bool = False,
        utf8_handling: str = "strict",
        file_encoding: str = "iso8859-1",
        permissive: bool = False,
        *,
        strict: bool = False,
        recover: bool = False,
        workers: int | None = 1,
        encoding: str | None = None,
        marc8_mapping: str = "lc",
    ) -> None:
        options = ReadOptions(
            to_unicode=to_unicode,
            force_utf8=force_utf8,
            utf8_handling=utf8_handling,
            file_encoding=file_encoding,
            encoding=encoding,
            strict=strict,
            recover=recover,
            workers=workers,
            marc8_mapping=marc8_mapping,
        )
        try:
            kind, source = _classify(marc_target)
        except TypeError:
            raise TypeError(
                f"MARCReader needs a path, bytes or a binary file object, not {type(marc_target).__name__}"
            ) from None
        self.file_handle: Any = marc_target if kind == _FILE else None
        super().__init__(source, kind | self._kind_bits, options)
        self.options = options
        self.to_unicode = to_unicode
        self.force_utf8 = force_utf8
        self.hide_utf8_warnings = hide_utf8_warnings
        self.utf8_handling = utf8_handling
        self.file_encoding = file_encoding
        self.permissive = permissive
        self.strict = strict
        self.recover = recover
        self.workers = workers
        self.encoding = encoding

    def close(self) -> None:
        """Stop reading: the native file and threads are released at once, a file object given to
        the reader is closed, and iterating afterwards raises ValueError (as pymarc's does)."""
        self._close()
        if self.file_handle is not None:
            self.file_handle.close()

    def __enter__(self) -> MARCReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> MARCReader:
        return self

    if TYPE_CHECKING:  # at run time __next__ is the native one: no Python frame per record

        def __next__(self) -> Record | None: ...


class XMLReader(MARCReader):
    """Iterate over the records of a MARCXML document, natively, streaming.

    ``marc_target`` is a path (which may be gzip-compressed), ``bytes`` or a binary file object
    holding MARCXML: a ``<collection>`` or a bare ``<record>``, in the MARC 21 slim namespace (with
    or without a prefix) or in no namespace, possibly inside another document (an OAI-PMH response:
    elements of other namespaces are skipped). The XML is parsed in C++ without the GIL, in one
    sequential pass on one native thread (``workers=0``: in the calling thread), or for a path to
    an uncompressed file or ``bytes`` with ``workers=N`` > 1 (``None``: one per core) on N threads,
    cut at record boundaries, with exactly the same records, errors and order (docs/formats.md,
    "Parallel MARCXML"); memory stays bounded by a few ranges and the largest record.

    Each record is what ``parse_xml_to_array`` builds from it: the leader exactly as the XML wrote
    it, fields in document order, text as the XML holds it (Unicode, whatever leader/09 says). The
    reading keywords are ``MARCReader``'s. A record ISO 2709 cannot hold (a leader that is not 24
    ASCII characters, a tag that is not 3 ASCII characters, an indicator or subfield code that is
    not one ASCII character, a field over 9,999 bytes in a record under 100,000 bytes, a control
    field tag on a datafield or a data field tag on a controlfield), and a record without fields,
    yield ``None`` with the exception in ``current_exception`` (``RecordLeaderInvalid``, its
    ``current_chunk`` naming the problem, e.g. ``b"00022bad subfield code\x1d"``; ``NoFieldsFound``),
    as a bad record of ISO 2709 does. XML that is not well-formed, and XML that ends before its
    document does, raise ``rapidmarc.exceptions.XMLParseError`` (a ``xml.sax.SAXParseException``
    with line and column) after the records before it. ``current_offset`` counts the ISO 2709
    bytes of the records read, not bytes of the XML.

    >>> with XMLReader("records.xml") as reader:  # doctest: +SKIP
    ...     titles = [record.title for record in reader if record]
    """

    _kind_bits = _XML

    def __enter__(self) -> XMLReader:
        return self

    def __iter__(self) -> XMLReader:
        return self


class _PymarcXMLReader(XMLReader):
    """MARC elements in any namespace, by local name: pymarc's XmlHandler(strict=False)."""

    _kind_bits = _XML | _XML_ANY_NAMESPACE


class _PymarcStrictXMLReader(XMLReader):
    """MARC elements in the MARC 21 slim namespace only: pymarc's XmlHandler(strict=True)."""

    _kind_bits = _XML | _XML_SLIM_ONLY


class _NativeJSONReader(MARCReader):
    """MARC-in-JSON read natively (marcjson.hpp): the records as ISO 2709, bad items None."""

    _kind_bits = _JSON


class _EncodedText(io.RawIOBase):
    """A text file object read as UTF-8 bytes, for the native reader."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = self._text.read(max(len(view) // 4, 1))
            if not chunk:
                return 0
            self._pending = chunk.encode("utf-8", "surrogatepass")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _native_json_source(marc_target: str | bytes | IO[Any], encoding: str) -> Any:
    """What the native reader reads for JSONReader's ``marc_target``: a path, bytes in UTF-8, or
    a binary file object."""
    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8")
    if hasattr(marc_target, "read"):
        return marc_target if not isinstance(marc_target, io.TextIOBase) else _EncodedText(cast(IO[str], marc_target))
    if isinstance(marc_target, bytes | bytearray):
        return bytes(marc_target) if utf8 else bytes(marc_target).decode(encoding).encode("utf-8", "surrogatepass")
    if isinstance(marc_target, os.PathLike) or (isinstance(marc_target, str) and os.path.exists(marc_target)):
        return os.fsdecode(marc_target) if utf8 else _EncodedText(open(marc_target, encoding=encoding))  # noqa: SIM115
    return marc_target.encode("utf-8", "surrogatepass")


class JSONReader(Reader):
    """Iterate over the records of a MARC-in-JSON document, as pymarc's JSONReader does.

    ``marc_target`` is a file object, a path to a JSON file, or the JSON text itself (``str``, or
    ``bytes`` decoded with ``encoding``: a rapidmarc addition). The document is one record
    object or an array of them, and is loaded whole: ``stream=True`` is accepted and changes
    nothing (pymarc prints that streaming is not implemented; rapidmarc says nothing). A path is
    opened with ``encoding`` (pymarc uses the locale's encoding).

    ``native=True`` (a rapidmarc addition) streams the document natively instead of loading it
    (``records`` is then None): memory stays bounded by the largest record, and besides one
    record or an array of them it reads JSON Lines and concatenated objects (yaz-marcdump's
    output). Each record is what pymarc builds: records rapidmarc builds natively have the JSON's
    leader, fields and text exactly; any other value is built from its JSON text the pymarc way,
    with pymarc's record or exception (``IndexError`` for an empty field object, ``KeyError`` for a
    missing leader, ...). The difference is when malformed JSON is found: pymarc raises
    ``json.JSONDecodeError`` before the first record, the native reader raises
    ``rapidmarc.exceptions.JSONParseError`` (a ``json.JSONDecodeError``, with ``record_index``)
    after the records before it. An empty document is no records (pymarc raises).
    """

    def __init__(
        self,
        marc_target: str | bytes | IO[Any],
        encoding: str = "utf-8",
        stream: bool = False,
        *,
        native: bool = False,
    ) -> None:
        self.encoding = encoding
        self.stream = stream
        self.native = native
        self._native: _NativeJSONReader | None = None
        self.file_handle: Any = None
        self.records: Any = None
        self.iter: Iterator[Any] = iter(())
        if native:
            self.file_handle = marc_target if hasattr(marc_target, "read") else None
            self._native = _NativeJSONReader(_native_json_source(marc_target, encoding))
            return
        if hasattr(marc_target, "read"):
            self.file_handle = marc_target
        elif isinstance(marc_target, bytes | bytearray):
            self.file_handle = io.StringIO(bytes(marc_target).decode(encoding))
        elif isinstance(marc_target, str) and os.path.exists(marc_target):
            self.file_handle = open(marc_target, encoding=encoding)  # noqa: SIM115 - pymarc keeps it open
        else:
            self.file_handle = io.StringIO(marc_target)
        self.records = json.load(self.file_handle, strict=False)
        self.__iter__()

    def __iter__(self) -> JSONReader:
        if self._native is not None:
            return self
        records = self.records
        self.iter = iter([records] if isinstance(records, dict) or not hasattr(records, "__iter__") else records)
        return self

    def __next__(self) -> Record:
        if self._native is None:
            return self._build(next(self.iter))
        record = next(self._native)
        if record is not None:
            return record
        text = self._native._current_json
        if text is None:  # not a record the reader left to pymarc's rules (cannot happen): say so
            raise self._native.current_exception or ValueError("a bad MARC-in-JSON record")
        return self._build(json.loads(text, strict=False))

    def close(self) -> None:
        """Stop a native reader at once (its thread and file); nothing to do otherwise."""
        if self._native is not None:
            self._native._close()  # a file object given is the caller's, as in pymarc

    @staticmethod
    def _build(obj: Any) -> Record:
        """pymarc's JSONReader's record for one decoded value, with its exceptions."""
        record = Record()
        record.leader = Leader(obj["leader"])
        for item in obj["fields"]:
            tag, content = list(item.items())[0]  # an empty object raises IndexError, as in pymarc
            # pymarc's test, in pymarc's order: a value that is not a container raises TypeError.
            if "subfields" in content and hasattr(content, "update"):
                subfields = [Subfield(code, value) for sub in content["subfields"] for code, value in sub.items()]
                indicators = Indicators(content["ind1"], content["ind2"])
                record.add_field(Field(tag=tag, indicators=indicators, subfields=subfields))
            else:
                record.add_field(Field(tag=tag, data=content))
        return record


class MARCMakerReader(Reader):
    r"""Iterate over records in MARCMaker-style text (what ``str(record)`` and TextWriter write),
    as pymarc's MARCMakerReader does.

    ``target`` is a file object (read whole and closed, as pymarc does), a path (opened with
    ``encoding``) or the text itself. Records are separated by a blank line; each line is
    ``=TAG  data``, with ``=LDR`` for the leader, ``$`` before each subfield code and the two
    indicator characters taken as written (a ``\`` stays a backslash, as in pymarc). A line that
    does not parse raises ``PymarcException('Unable to parse line "..."')``.

    ``mnemonics=True`` (a rapidmarc addition) reads lossless MARCMaker text, as
    ``TextWriter(fh, mnemonics=True)`` and MarcEdit write it (rapidmarc.marcmaker): ``\`` is a
    blank in the leader, control fields and indicators, and ``{dollar}``, ``{bsol}``, ``{lcub}``,
    ``{rcub}``, ``{esc}`` and ``{XX}`` (hexadecimal) stand for their characters. CRLF line ends,
    a byte order mark and extra blank lines are accepted. The input is read as it is iterated
    (in pieces, not whole); a file object is closed at the end, as pymarc closes it.
    """

    def __init__(self, target: str | bytes | IO[Any], encoding: str = "utf-8", *, mnemonics: bool = False) -> None:
        self.mnemonics = mnemonics
        self.records: list[str] = []
        self._lossless: Iterator[Record] | None = None
        if mnemonics:
            self._lossless = self._read_lossless(target, encoding)
            self.iter: Iterator[str] = iter(self.records)
            return
        if hasattr(target, "read"):
            handle: Any = target
        elif isinstance(target, str) and os.path.exists(target):
            handle = open(target, encoding=encoding)  # noqa: SIM115 - closed below
        elif isinstance(target, bytes | bytearray):
            handle = io.StringIO(bytes(target).decode(encoding))
        else:
            handle = io.StringIO(target)
        content = handle.read()
        handle.close()
        if isinstance(content, bytes):
            content = content.decode(encoding)
        self.records = content.split("\n\n")
        self.iter = iter(self.records)

    @staticmethod
    def _read_lossless(target: str | bytes | IO[Any], encoding: str) -> Iterator[Record]:
        if isinstance(target, bytes | bytearray):
            yield from marcmaker.read_records([bytes(target)], encoding)
            return
        if isinstance(target, str) and not os.path.exists(target):
            yield from marcmaker.read_records([target], encoding)
            return
        handle: Any = open(target, "rb") if isinstance(target, str) else target  # noqa: SIM115 - closed below
        try:
            yield from marcmaker.read_records(marcmaker._chunks(handle), encoding)
        finally:
            handle.close()

    @staticmethod
    def _parse_line(line: str) -> Leader | Field:
        if line[0] != "=":
            raise ValueError('Line should start with a "=".')
        if line[4:6] != "  ":
            raise ValueError("Tag should be separated from the rest of the field by two spaces.")
        tag, data = line[1:4], line[6:]
        if tag == "LDR":
            return Leader(data)
        if tag < "010":
            return Field(tag, data=data)
        # data[2] is the "$" before the first code; splitting after it leaves no empty first piece.
        subfields = [Subfield(piece[:1], piece[1:]) for piece in data[3:].split("$")]
        return Field(tag, indicators=Indicators(data[0], data[1]), subfields=subfields)

    def __iter__(self) -> MARCMakerReader:
        return self

    def __next__(self) -> Record:
        if self._lossless is not None:
            return next(self._lossless)
        record = Record()
        for line in next(self.iter).splitlines():
            try:
                item = self._parse_line(line)
            except Exception as exc:
                raise PymarcException(f'Unable to parse line "{line}"') from exc
            if isinstance(item, Leader):
                record.leader = item
            else:
                record.add_field(item)
        return record


def map_records(f: Callable[[Record | None], Any], *files: Any) -> None:
    """Apply `f` to every record of every file (paths, bytes or file objects)."""
    for file in files:
        for record in MARCReader(file):
            f(record)


__all__ = ["JSONReader", "MARCMakerReader", "MARCReader", "Reader", "map_records"]
