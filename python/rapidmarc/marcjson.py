"""MARC-in-JSON, as in pymarc: ``JSONHandler`` and ``parse_json_to_array``.

Writing is ``Record.as_json()`` and ``JSONWriter`` (native for untouched records); reading one
file is ``JSONReader`` (in ``rapidmarc.reader``).
"""

from __future__ import annotations

from typing import IO, Any

from .field import Field, Indicators
from .leader import Leader
from .reader import JSONReader
from .record import Record


class JSONHandler:
    """Builds records from decoded MARC-in-JSON objects; ``process_record`` receives each one and
    by default keeps it in ``records``."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._record: Record | None = None
        self._field: Field | None = None

    def element(self, element_dict: dict[str, Any], name: str | None = None) -> None:
        """Convert one decoded object: a record (``name`` None), or its "leader", "fields" or
        "subfields" member. Field and subfield objects are consumed (``popitem``) as in pymarc."""
        if name is None:
            self._record = Record()
            self.element(element_dict, "leader")
        elif name == "leader" and self._record:
            self._record.leader = Leader(element_dict["leader"])
            self.element(element_dict, "fields")
        elif name == "fields" and self._record:
            for item in element_dict["fields"]:
                tag, content = item.popitem()
                self._field = Field(tag)
                if self._field.control_field:
                    self._field.data = content
                else:
                    self.element(content, "subfields")
                    self._field.indicators = Indicators(content["ind1"], content["ind2"])
                self._record.add_field(self._field)
            self.process_record(self._record)
        elif name == "subfields" and self._field:
            for item in element_dict["subfields"]:
                code, text = item.popitem()
                self._field.add_subfield(code, text)

    def elements(self, dict_list: list[dict[str, Any]] | dict[str, Any]) -> list[Record]:
        """Convert one record object or a list of them; returns ``records``."""
        for obj in dict_list if isinstance(dict_list, list) else [dict_list]:
            self.element(obj)
        return self.records

    def process_record(self, record: Record) -> None:
        """Called with each finished record; the default keeps it in ``records``."""
        self.records.append(record)


def parse_json_to_array(json_file: str | bytes | IO[Any]) -> list[Record]:
    """All records of a MARC-in-JSON document (a path, the JSON text, or a file object)."""
    return JSONHandler().elements(JSONReader(json_file).records)


__all__ = ["JSONHandler", "parse_json_to_array"]
