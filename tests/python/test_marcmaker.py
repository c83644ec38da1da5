"""Lossless MARCMaker text: TextWriter(fh, mnemonics=True), MARCMakerReader(src, mnemonics=True),
rapidmarc.marcmaker, and the ``.mrk`` conversions of the command line."""

from __future__ import annotations

import io
import random
import subprocess
import sys

import pytest

pytestmark = pytest.mark.rapidmarc_only

LEADER = "00000nam a2200000 a 4500"


@pytest.fixture(scope="module")
def rm():
    import rapidmarc

    return rapidmarc


def write_text(rm, records) -> str:
    out = io.StringIO()
    writer = rm.TextWriter(out, mnemonics=True)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    return out.getvalue()


def read_text(rm, text):
    return list(rm.MARCMakerReader(text, mnemonics=True))


def shape(record):
    """Everything the text must carry: leader, and each field's tag, indicators and data."""
    fields = []
    for field in record.fields:
        if field.is_control_field():
            fields.append((field.tag, field.data))
        else:
            fields.append((field.tag, tuple(field.indicators), [tuple(s) for s in field.subfields]))
    return str(record.leader), fields


def make_record(rm, *fields, leader=LEADER):
    record = rm.Record()
    record.leader = rm.Leader(leader)
    for field in fields:
        record.add_field(field)
    return record


def data_field(rm, tag, ind, *pairs):
    return rm.Field(tag, indicators=rm.Indicators(*ind), subfields=[rm.Subfield(c, v) for c, v in pairs])


# ---------------------------------------------------------------------------
# The real files: every record, byte for byte
# ---------------------------------------------------------------------------


def good_records(rm, path):
    return [r for r in rm.MARCReader(str(path)) if r is not None]


def test_every_real_record_round_trips_byte_for_byte(rm, real_path):
    records = good_records(rm, real_path)
    assert records
    text = write_text(rm, records)
    back = read_text(rm, text)
    assert len(back) == len(records)
    for index, (original, copy) in enumerate(zip(records, back, strict=True)):
        assert copy.as_marc() == original.as_marc(), f"record {index}"


def test_pymarcs_text_loses_what_the_lossless_text_keeps(rm, data_dir):
    """The default (pymarc's) text does not survive the round trip on real data; that is what
    mnemonics=True is for, and what the test above would catch."""
    records = good_records(rm, data_dir / "real" / "loc_386.mrc")
    out = io.StringIO()
    writer = rm.TextWriter(out)
    for record in records:
        writer.write(record)
    back = list(rm.MARCMakerReader(out.getvalue()))
    assert back[0]["008"].data != records[0]["008"].data  # blanks came back as backslashes
    assert "\\" in back[0]["008"].data


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rapidmarc", *map(str, args)], capture_output=True, timeout=300)


def test_the_command_line_round_trips_every_real_file(rm, real_path, tmp_path):
    expected = b"".join(r.as_marc() for r in good_records(rm, real_path))
    text, back = tmp_path / "x.mrk", tmp_path / "back.mrc"
    run = run_cli("convert", real_path, text, "--no-progress")
    assert run.returncode == 0, run.stderr
    assert text.read_text(encoding="utf-8") == write_text(rm, good_records(rm, real_path))
    run = run_cli("convert", text, back, "--no-progress")
    assert run.returncode == 0, run.stderr
    assert back.read_bytes() == expected


def test_the_command_line_names_text_explicitly(rm, data_dir, tmp_path):
    source = data_dir / "real" / "traject_30.mrc"
    expected = b"".join(r.as_marc() for r in good_records(rm, source))
    text, back = tmp_path / "x.txt", tmp_path / "back.out"
    assert run_cli("convert", source, text, "--to", "text").returncode == 0
    assert "{dollar}" in text.read_text(encoding="utf-8") or "$" in text.read_text(encoding="utf-8")
    assert run_cli("convert", text, back, "--from", "text", "--to", "marc").returncode == 0
    assert back.read_bytes() == expected


# ---------------------------------------------------------------------------
# What is written
# ---------------------------------------------------------------------------


def test_the_written_text(rm):
    record = make_record(
        rm,
        rm.Field("001", data="ocm 123 "),
        rm.Field("008", data="830803m18461948paud      a     0   eng d"),
        data_field(rm, "020", (" ", " "), ("a", "0123"), ("c", "$25.00 (US$30)")),
        data_field(rm, "245", ("1", "0"), ("a", "C:\\dir {x} {dollar}"), ("b", "two\nlines\r\ttab\x1bend")),
        data_field(rm, "500", ("\\", "{"), ("$", "code is a dollar"), ("\\", ""), ("{", "}")),
        leader="01070cem  2200277Ia 45e0",
    )
    assert rm.record_to_marcmaker(record) == (
        "=LDR  01070cem\\\\2200277Ia\\45e0\n"
        "=001  ocm\\123\\\n"
        "=008  830803m18461948paud\\\\\\\\\\\\a\\\\\\\\\\0\\\\\\eng\\d\n"
        "=020  \\\\$a0123$c{dollar}25.00 (US{dollar}30)\n"
        "=245  10$aC:{bsol}dir {lcub}x{rcub} {lcub}dollar{rcub}$btwo{0A}lines{0D}{09}tab{esc}end\n"
        "=500  {bsol}{lcub}${dollar}code is a dollar${bsol}${lcub}{rcub}\n"
    )


def test_records_are_separated_by_a_blank_line(rm):
    one = make_record(rm, rm.Field("001", data="1"))
    two = make_record(rm, rm.Field("001", data="2"))
    assert write_text(rm, [one, two]) == f"=LDR  {LEADER.replace(' ', chr(92))}\n=001  1\n\n" + (
        f"=LDR  {LEADER.replace(' ', chr(92))}\n=001  2\n"
    )


@pytest.mark.parametrize(
    ("char", "written"),
    [("$", "{dollar}"), ("\\", "{bsol}"), ("{", "{lcub}"), ("}", "{rcub}"), ("\x1b", "{esc}"), ("\n", "{0A}"),
     ("\r", "{0D}"), ("\t", "{09}"), ("\x00", "{00}"), ("\x7f", "{7F}"), ("\x85", "{85}"), ("\x9c", "{9C}")],
)  # fmt: skip
def test_each_special_character_has_its_mnemonic(rm, char, written):
    from rapidmarc import marcmaker

    assert marcmaker.escape(f"a{char}b") == f"a{written}b"
    assert marcmaker.unescape(f"a{written}b") == f"a{char}b"


def test_characters_that_stand_as_themselves_are_not_escaped(rm):
    from rapidmarc import marcmaker

    text = "東京 café Ünïcode ש\u05b7 अ\u094d &#x41; &amp; = # ~ \u200d \u2028 é"
    assert marcmaker.escape(text) == text


def test_a_field_that_text_cannot_hold_is_refused(rm):
    for field in (
        rm.Field("245", indicators=rm.Indicators("10", " "), subfields=[rm.Subfield("a", "x")]),
        rm.Field("245", indicators=rm.Indicators("1", ""), subfields=[rm.Subfield("a", "x")]),
        rm.Field("245", indicators=rm.Indicators("1", "0"), subfields=[rm.Subfield("ab", "x")]),
        rm.Field("245", indicators=rm.Indicators("1", "0"), subfields=[rm.Subfield("", "x")]),
        rm.Field("LDR", indicators=rm.Indicators("1", "0"), subfields=[rm.Subfield("a", "x")]),
        rm.Field("2 5", indicators=rm.Indicators("1", "0"), subfields=[rm.Subfield("a", "x")]),
        rm.Field("2$5", indicators=rm.Indicators("1", "0"), subfields=[rm.Subfield("a", "x")]),
    ):
        with pytest.raises(ValueError):
            rm.record_to_marcmaker(make_record(rm, field))


# ---------------------------------------------------------------------------
# Written, then read: the same record
# ---------------------------------------------------------------------------

EDGE_FIELDS = [
    ("001", "ocm09773020 "),
    ("003", "  "),
    ("005", ""),
    ("007", "\\ {dollar} $ {"),
    ("245", ("1", "0"), [("a", "$c$25.00 (US$30)"), ("b", "C:\\temp\\"), ("c", "{lcub}{}{")]),
    ("246", (" ", " "), [("a", "{dollar}"), ("b", "{bsol}"), ("c", "{0A}"), ("d", "{zilch}")]),
    ("500", (" ", "1"), [("a", "line one\nline two\r\nthree\r"), ("b", "\t\x00\x01\x1b\x7f\x85")]),
    ("505", ("0", " "), [("a", ""), ("b", ""), ("t", " leading and trailing ")]),
    ("520", ("\\", "$"), [("$", "dollar code"), ("\\", "backslash code"), ("{", "brace code"), (" ", "blank code")]),
    ("650", ("{", "}"), []),
    ("880", ("1", "0"), [("6", "245-01"), ("a", "東京大学 /"), ("b", "e\u0301 n\u0303 ש\u05b7\u05bc \U0001f4da")]),
    ("ABC", ("x", "y"), [("a", "non-numeric tag")]),
    ("00A", (" ", " "), [("a", "a tag below 010 that is not a control field")]),
    ("999", (" ", " "), [("a", "&#x41; &amp; = # \u2028 \u200d")]),
]


def build(rm, spec, leader=LEADER):
    fields = []
    for item in spec:
        if len(item) == 2:
            fields.append(rm.Field(item[0], data=item[1]))
        else:
            fields.append(data_field(rm, item[0], item[1], *item[2]))
    return make_record(rm, *fields, leader=leader)


@pytest.mark.parametrize("index", range(len(EDGE_FIELDS)))
def test_each_edge_case_round_trips(rm, index):
    record = build(rm, [EDGE_FIELDS[index]])
    (back,) = read_text(rm, write_text(rm, [record]))
    assert shape(back) == shape(record)
    assert back.as_marc() == record.as_marc()


def test_a_record_of_every_edge_case_round_trips_with_a_blank_leader(rm):
    leader = "     nam  22     u  4500"
    record = build(rm, EDGE_FIELDS, leader=leader)
    (back,) = read_text(rm, write_text(rm, [record]))
    assert shape(back) == shape(record)
    assert str(back.leader) == leader


def test_no_fields_and_a_field_without_subfields(rm):
    empty = make_record(rm)
    bare = make_record(rm, rm.Field("245", indicators=rm.Indicators("0", "0"), subfields=[]))
    text = write_text(rm, [empty, bare])
    assert text.endswith("=245  00\n")
    back = read_text(rm, text)
    assert [shape(r) for r in back] == [shape(empty), shape(bare)]


ALPHABET = (
    "ab $$\\\\{{}} dollar bsol lcub rcub esc 0A {dollar} {bsol} {0A} {zz} \n\r\t\x00\x1b\x7f\x85\x9f"
    "é東\u0301\u200d\u2028&#x;=#"
)


def random_text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def random_record(rng: random.Random, rm):
    one = "ab1 \\${}=#\x1b\n"
    fields = []
    for _ in range(rng.randint(0, 8)):
        if rng.random() < 0.3:
            tag = rng.choice(["001", "003", "005", "006", "007", "008", "009"])
            fields.append(rm.Field(tag, data=random_text(rng, 30)))
        else:
            tag = rng.choice(["010", "100", "245", "500", "650", "856", "880", "ABC", "0A1", "9Z9"])
            indicators = rm.Indicators(rng.choice(one), rng.choice(one))
            subfields = [rm.Subfield(rng.choice(one), random_text(rng, 25)) for _ in range(rng.randint(0, 5))]
            fields.append(rm.Field(tag, indicators=indicators, subfields=subfields))
    leader = "".join(rng.choice("0123456789 anmcz\\${}") for _ in range(24))
    return make_record(rm, *fields, leader=leader)


def test_random_records_round_trip(rm):
    rng = random.Random(20240612)
    records = [random_record(rng, rm) for _ in range(500)]
    back = read_text(rm, write_text(rm, records))
    assert [shape(r) for r in back] == [shape(r) for r in records]


# ---------------------------------------------------------------------------
# Reading what MarcEdit and editors write
# ---------------------------------------------------------------------------

MARCEDIT_STYLE = (
    "=LDR  01070cem\\\\2200277Ia\\45e0\r\n"
    "=001  ocm09773020\\\r\n"
    "=008  830803m18461948paud\\\\\\\\\\\\a\\\\\\\\\\0\\\\\\eng\\d\r\n"
    "=255  \\\\$aScale$c(W 129{esc}p0{esc}s--W 109)\r\n"
    "=020  \\\\$c{dollar}25.00\r\n"
    "\r\n"
    "=LDR  00000nam\\\\2200000\\a\\4500\r\n"
    "=245  00$aSecond\r\n"
    "\r\n"
    "\r\n"
)


def check_marcedit_style(records):
    assert len(records) == 2
    first, second = records
    assert str(first.leader) == "01070cem  2200277Ia 45e0"
    assert first["001"].data == "ocm09773020 "
    assert first["008"].data == "830803m18461948paud      a     0   eng d"
    assert first["255"]["c"] == "(W 129\x1bp0\x1bs--W 109)"
    assert first["020"]["c"] == "$25.00"
    assert first["020"].indicators == ("\x20", "\x20")
    assert second["245"]["a"] == "Second"


def test_crlf_a_bom_and_trailing_blank_lines(rm):
    check_marcedit_style(read_text(rm, MARCEDIT_STYLE))
    check_marcedit_style(read_text(rm, "\ufeff" + MARCEDIT_STYLE))
    check_marcedit_style(read_text(rm, ("\ufeff" + MARCEDIT_STYLE).encode("utf-8")))


def test_paths_and_file_objects_text_or_binary(rm, tmp_path):
    path = tmp_path / "marcedit.mrk"
    path.write_bytes(("\ufeff" + MARCEDIT_STYLE).encode("utf-8"))
    check_marcedit_style(list(rm.MARCMakerReader(str(path), mnemonics=True)))
    with open(path, "rb") as binary:
        check_marcedit_style(list(rm.MARCMakerReader(binary, mnemonics=True)))
        assert binary.closed  # closed at the end, as pymarc closes what it is given
    with open(path, encoding="utf-8", newline="") as text:
        check_marcedit_style(list(rm.MARCMakerReader(text, mnemonics=True)))


def test_a_character_split_between_pieces_of_a_binary_stream(rm):
    record = make_record(rm, data_field(rm, "245", ("1", "0"), ("a", "東京" * 40000)))
    data = write_text(rm, [record]).encode("utf-8")  # read in 64 KiB pieces: 65,536 cuts a character
    assert (65536 - data.index("東".encode())) % 3  # the cut falls inside a 3-byte character
    (back,) = list(rm.MARCMakerReader(io.BytesIO(data), mnemonics=True))
    assert shape(back) == shape(record)


def test_tolerated_forms(rm):
    text = (
        "# a comment line, as MarcEdit allows\n"
        "=LDR  00000nam\\\\2200000\\a\\4500\n"
        "=001\n"
        "=005 \n"
        "=245  00$al{0a}c{0D}$b{joiner}{nonjoin}$c{unknown}{1}{}{ 0A}\n"
        "=500  \\\\$a\\ stays a backslash in data\n"
    )
    (record,) = read_text(rm, text)
    assert record["001"].data == "" and record["005"].data == ""
    assert record["245"].get_subfields("a", "b", "c") == ["l\nc\r", "\u200d\u200c", "{unknown}{1}{}{ 0A}"]
    assert record["500"]["a"] == "\\ stays a backslash in data"


@pytest.mark.parametrize(
    "line",
    ["245  00$ax", "=245 00$ax", "=245  0", "=245  00x$a", "=24"],
)
def test_a_line_that_does_not_parse_is_named(rm, line):
    with pytest.raises(rm.PymarcException, match="Unable to parse line"):
        read_text(rm, f"=LDR  {LEADER}\n{line}\n")


# ---------------------------------------------------------------------------
# The defaults stay pymarc's
# ---------------------------------------------------------------------------


def test_the_defaults_are_pymarcs(rm, pymarc_ref):
    spec = [("001", "ocm 1 "), ("020", (" ", " "), [("c", "$25.00 (US$30)"), ("z", "a\\b {x}")])]
    ours = build(rm, spec)
    theirs = pymarc_ref.Record()
    theirs.leader = pymarc_ref.Leader(LEADER)
    theirs.add_field(pymarc_ref.Field("001", data="ocm 1 "))
    theirs.add_field(
        pymarc_ref.Field(
            "020",
            indicators=pymarc_ref.Indicators(" ", " "),
            subfields=[pymarc_ref.Subfield("c", "$25.00 (US$30)"), pymarc_ref.Subfield("z", "a\\b {x}")],
        )
    )
    assert str(ours) == str(theirs)
    out_ours, out_theirs = io.StringIO(), io.StringIO()
    rm.TextWriter(out_ours).write(ours)
    pymarc_ref.TextWriter(out_theirs).write(theirs)
    assert out_ours.getvalue() == out_theirs.getvalue()
    assert "{dollar}" not in out_ours.getvalue()
    read_ours = list(rm.MARCMakerReader(out_ours.getvalue()))
    read_theirs = list(pymarc_ref.MARCMakerReader(out_theirs.getvalue()))
    assert [str(r) for r in read_ours] == [str(r) for r in read_theirs]
    split = [tuple(s) for s in read_ours[0]["020"].subfields]
    assert split == [tuple(s) for s in read_theirs[0]["020"].subfields]
    assert split[:3] == [("c", ""), ("2", "5.00 (US"), ("3", "0)")]  # each $ starts a subfield, as in pymarc
    assert read_ours[0]["001"].data == "ocm\\1\\"  # and a blank written as \ stays a backslash
