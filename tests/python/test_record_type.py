"""The native Record type (src/python/record_type.cpp) under hostile use: records never
initialised, initialised twice or half-way, fields and leaders that are not what a reader makes,
field lists changed while they are searched, subclasses, long chains, pickling and copying. Nothing
may crash; where pymarc has an answer, rapidmarc gives the same one."""

from __future__ import annotations

import copy
import gc
import pickle
import sys
import threading

import pytest
import rapidmarc
from marc_testlib import build_record, df

pytestmark = pytest.mark.rapidmarc_only

RAW = build_record([("001", b"id1"), ("245", df("10", ("a", "Atlas"), ("b", "of the sky")))])


def outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # the class is what must agree
        return (type(exc).__name__,)


def test_a_record_whose_init_never_ran_raises_instead_of_crashing(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):
        record = module.Record.__new__(module.Record)
        assert outcome(lambda r=record: r.leader) == ("AttributeError",), module.__name__

    class SkipsInit(rapidmarc.Record):
        def __init__(self) -> None:
            pass

    record = SkipsInit()
    for call in (lambda: record.leader, lambda: str(record), lambda: record.as_marc(), lambda: pickle.dumps(record)):
        assert outcome(call) == ("AttributeError",)
    assert record.get_fields() == [] and record.title is None


def test_a_failed_init_leaves_the_record_as_it_was():
    record = rapidmarc.Record(RAW)
    with pytest.raises(rapidmarc.RecordLeaderInvalid):
        record.__init__(leader="short")
    assert record.title == "Atlas of the sky"
    assert str(record.leader) == RAW[:24].decode()
    assert record.as_marc() == rapidmarc.Record(RAW).as_marc()


def test_reinitialising_a_record_while_another_thread_reads_it():
    record = rapidmarc.Record(RAW)
    stop = threading.Event()
    errors: list[BaseException] = []

    def reinit() -> None:
        try:
            while not stop.is_set():
                record.__init__(data=RAW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=reinit)
    thread.start()
    try:
        for _ in range(20000):
            assert str(record.leader)[:5] == RAW[:5].decode()
            assert record.title in ("Atlas of the sky", None)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert not errors


@pytest.mark.parametrize("value", [None, 5])
def test_fields_that_are_not_iterable_raise_typeerror_as_pymarc(pymarc_ref, value):
    for module in (rapidmarc, pymarc_ref):
        record = module.Record()
        record.fields = value
        for call in (lambda r=record: r.title, lambda r=record: r.get("245"), lambda r=record: "245" in r):
            assert outcome(call) == ("TypeError",), (module.__name__, value)


def test_fields_in_a_tuple_are_read_as_pymarc_reads_them(pymarc_ref):
    results = []
    for module in (rapidmarc, pymarc_ref):
        record = module.Record()
        record.fields = (
            module.Field("001", data="x"),
            module.Field("245", indicators=["1", "0"], subfields=[module.Subfield("a", "T")]),
        )
        results.append((record.title, record.get("001").data, "245" in record, [f.tag for f in record.get_fields()]))
    assert results[0] == results[1] == ("T", "x", True, ["001", "245"])


def test_a_field_list_emptied_while_it_is_searched():
    record = rapidmarc.Record()

    class Shrinking:
        @property
        def tag(self) -> str:
            record.fields.clear()  # the list changes under the search
            return "999"

    for search in (lambda: record.get("245"), lambda: record.get_fields("245"), lambda: "245" in record):
        record.fields = [Shrinking(), Shrinking(), Shrinking()]
        assert search() in (None, [], False)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 the collector does not run inside an allocation")
def test_fields_asked_for_by_a_finalizer_while_they_are_being_created():
    # Creating the field list allocates a list, which may run the collector, and so a __del__
    # that asks the same record for its fields: both must see one whole list.
    seen: list[list[str]] = []
    current: list[rapidmarc.Record | None] = [None]

    class Finalizer:
        def __del__(self) -> None:
            record = current[0]
            if record is not None and record._is_lazy():
                seen.append([f.tag for f in record.fields])

    threshold = 200
    old = gc.get_threshold()
    gc.set_threshold(threshold, 1_000_000, 1_000_000)
    try:
        for offset in range(40):
            gc.collect()
            record = rapidmarc.Record(RAW)
            cycle = Finalizer()
            cycle.me = cycle
            del cycle
            filler = []
            while gc.get_count()[0] < threshold - offset:
                filler.append([])
            current[0] = record
            fields = record.fields
            current[0] = None
            assert [f.tag for f in fields] == ["001", "245"]
            assert record.fields is fields
            if seen:
                break
    finally:
        gc.set_threshold(*old)
    assert seen == [["001", "245"]]


def test_a_long_chain_of_records_is_freed_without_exhausting_the_stack():
    head = record = rapidmarc.Record()
    for _ in range(1_000_000):
        following = rapidmarc.Record()
        record.leader = following  # a leader may be any object, as in pymarc
        record = following
    del head, record, following
    gc.collect()


def test_subclasses_pickle_and_copy_as_themselves_with_their_attributes(pymarc_ref):
    class Tagged(rapidmarc.Record):
        pass

    class Slotted(rapidmarc.Record):
        __slots__ = ("origin",)

    tagged = Tagged(RAW)
    tagged.source = "file.mrc"
    slotted = Slotted(RAW)
    slotted.origin = "z39.50"
    edited = Tagged(RAW)
    edited.add_field(rapidmarc.Field("500", indicators=[" ", " "], subfields=[rapidmarc.Subfield("a", "Note")]))
    globals().update(Tagged=Tagged, Slotted=Slotted)  # pickle finds classes by name
    Tagged.__qualname__, Slotted.__qualname__ = "Tagged", "Slotted"
    try:
        for original in (tagged, slotted, edited):
            for clone in (pickle.loads(pickle.dumps(original)), copy.copy(original), copy.deepcopy(original)):
                assert type(clone) is type(original)
                assert clone.as_marc() == original.as_marc()
        assert pickle.loads(pickle.dumps(tagged)).source == "file.mrc"
        assert copy.deepcopy(slotted).origin == "z39.50"
    finally:
        del globals()["Tagged"], globals()["Slotted"]


@pytest.mark.parametrize("leader", [None, 7, "short"])
def test_a_record_with_an_odd_leader_pickles_as_pymarc_keeps_it(pymarc_ref, leader):
    for module in (rapidmarc, pymarc_ref):
        record = module.Record()
        record.leader = leader
        assert pickle.loads(pickle.dumps(record)).leader == leader, module.__name__
        assert copy.deepcopy(record).leader == leader, module.__name__


def test_as_marc_refuses_an_encoding_that_is_not_a_str():
    with pytest.raises(TypeError):
        rapidmarc.Record(RAW).as_marc(1)  # type: ignore[arg-type]


def test_as_marc_with_a_leader_that_cannot_be_sliced_raises_as_pymarc(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):
        record = module.Record()
        record.leader = None
        assert outcome(record.as_marc) == ("TypeError",), module.__name__


def _only_titles(base: type) -> type:
    class OnlyTitles(base):  # type: ignore[valid-type,misc]
        @property
        def fields(self):
            return [f for f in base.fields.__get__(self) if f.tag == "245"]

        @fields.setter
        def fields(self, value):
            base.fields.__set__(self, value)

    return OnlyTitles


def test_a_subclass_that_overrides_fields_is_searched_through_its_property(pymarc_ref):
    results = []
    for module in (rapidmarc, pymarc_ref):
        record = _only_titles(module.Record)()
        record.fields = [
            module.Field("001", data="x"),
            module.Field("245", indicators=["1", "0"], subfields=[module.Subfield("a", "T")]),
        ]
        results.append((record.get("001"), record.title, [f.tag for f in record.get_fields()], "001" in record))
    assert results[0] == results[1] == (None, "T", ["245"], False)


def test_pickling_a_subclass_keeps_private_slots_and_uses_its_own_getstate(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):

        class Private(module.Record):  # type: ignore[valid-type,misc]
            __slots__ = ("__hidden",)

            def set_hidden(self, value: str) -> None:
                self.__hidden = value

            def hidden(self) -> str:
                return self.__hidden

        class OwnState(module.Record):  # type: ignore[valid-type,misc]
            def __getstate__(self):
                return {"tagname": "t"}

            def __setstate__(self, state):
                assert isinstance(state, dict)
                self.restored = state["tagname"]

        private = Private(data=RAW)
        private.set_hidden("x")
        own = OwnState(data=RAW)
        for clone in (copy.copy(private), copy.deepcopy(private)):
            assert clone.hidden() == "x", module.__name__
        assert copy.deepcopy(own).restored == "t", module.__name__


def test_a_shallow_copy_shares_the_field_list_as_pymarc_does(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):
        record = module.Record(data=RAW)
        record.add_field(module.Field("500", indicators=[" ", " "], subfields=[module.Subfield("a", "Note")]))
        assert copy.copy(record).fields is record.fields, module.__name__
        assert copy.deepcopy(record).fields is not record.fields, module.__name__


def test_exports_of_a_subclass_go_through_its_fields_property():
    record = _only_titles(rapidmarc.Record)(data=RAW)
    assert [f["245"] is not None for f in __import__("json").loads(record.as_json())["fields"]] == [True]
    assert b"<controlfield" not in rapidmarc.record_to_xml(record)


def test_a_field_subclass_that_overrides_tag_is_found_by_it(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):

        class Renamed(module.Field):  # type: ignore[valid-type,misc]
            @property
            def tag(self):
                return "999"

            @tag.setter
            def tag(self, value):
                pass

        record = module.Record()
        record.add_field(Renamed("245", indicators=["1", "0"], subfields=[module.Subfield("a", "T")]))
        assert ("999" in record, "245" in record) == (True, False), module.__name__
