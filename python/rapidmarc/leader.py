"""The record leader: 24 positions, each readable and writable by index, slice or name."""

from __future__ import annotations

from .constants import LEADER_LEN
from .exceptions import BadLeaderValue, RecordLeaderInvalid


def _position(name: str, start: int, length: int) -> property:
    label = name.replace("_", " ")

    def get(self: Leader) -> str:
        return self.leader[start : start + length]

    def set(self: Leader, value: str) -> None:
        if len(value) != length:
            raise BadLeaderValue(f"{label} is {length} char field, got {value}")
        self._replace_values(start, value)

    return property(get, set, doc=f"Leader/{start:02d} ({label}).")


class Leader:
    """A mutable 24-character leader, as in pymarc.

    ``leader[5]``, ``leader[0:5]`` and ``leader.record_status`` read and write the same
    characters. The record length and base address are recomputed by ``Record.as_marc()``.
    """

    __slots__ = ("leader",)

    def __init__(self, leader: str) -> None:
        if len(leader) != LEADER_LEN:
            raise RecordLeaderInvalid
        self.leader = leader

    def __getitem__(self, item: str | int | slice) -> str:
        if isinstance(item, slice | int):
            return self.leader[item]
        return getattr(self, item)

    def __setitem__(self, item: str | int | slice, value: str) -> None:
        if isinstance(item, slice):
            self._replace_values(item.start or 0, value)
        elif isinstance(item, int):
            self._replace_values(item, value)
        else:
            setattr(self, item, value)

    def __str__(self) -> str:
        return self.leader

    def __repr__(self) -> str:
        return f"Leader({self.leader!r})"

    def _replace_values(self, position: int, value: str) -> None:
        if position < 0:
            raise IndexError("Position must be positive")
        after = position + len(value)
        if after > LEADER_LEN:
            raise BadLeaderValue(f"{value} is too long to be inserted at {position}")
        self.leader = self.leader[:position] + value + self.leader[after:]

    record_length = _position("record_length", 0, 5)
    record_status = _position("record_status", 5, 1)
    type_of_record = _position("type_of_record", 6, 1)
    bibliographic_level = _position("bibliographic_level", 7, 1)
    type_of_control = _position("type_of_control", 8, 1)
    coding_scheme = _position("coding_scheme", 9, 1)
    indicator_count = _position("indicator_count", 10, 1)
    subfield_code_count = _position("subfield_code_count", 11, 1)
    base_address = _position("base_address", 12, 5)
    encoding_level = _position("encoding_level", 17, 1)
    cataloging_form = _position("cataloging_form", 18, 1)
    multipart_ressource = _position("multipart_ressource", 19, 1)
    length_of_field_length = _position("length_of_field_length", 20, 1)
    starting_character_position_length = _position("starting_character_position_length", 21, 1)
    implementation_defined_length = _position("implementation_defined_length", 22, 1)


__all__ = ["Leader"]
