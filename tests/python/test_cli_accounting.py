"""The command line loses nothing unsaid and clobbers nothing (issue #12).

Each case runs ``python -m rapidmarc`` as a user would (a subprocess: real exit status, real
standard streams) on real records with damage put in, and checks the documented result:

* exit status 0 only when every record was read and good; 1 bad records skipped (``--allow-bad``
  accepts them); 3 reading stopped before the end, or the input is not MARC (named as such);
  130 Ctrl-C; the summary line on stderr says how many records were good and bad, where reading
  stopped and how many bytes were never read;
* destinations: a symbolic link's target is written, a FIFO streamed into, ``-`` is standard
  input and output, Ctrl-C leaves no partial file;
* one-line errors (no traceback) for malformed XML and JSON;
* a progress bar on a terminal (a pseudo-terminal here) and none when stderr is a pipe.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from marc_testlib import split_records

pytestmark = pytest.mark.rapidmarc_only

JUNK = b"this is not marc!!"  # 18 bytes


def rapidmarc(*args, stdin=None, input=None, cwd=None, timeout=120) -> subprocess.CompletedProcess:  # noqa: A002
    return subprocess.run(
        [sys.executable, "-m", "rapidmarc", *map(str, args)],
        capture_output=True,
        stdin=stdin,
        input=input,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def loc(data_dir) -> bytes:
    return (data_dir / "real" / "loc_386.mrc").read_bytes()


@pytest.fixture
def junk_file(tmp_path, loc):
    records = split_records(loc)
    cut = sum(len(r) for r in records[:3])
    path = tmp_path / "junk.mrc"
    path.write_bytes(loc[:cut] + JUNK + loc[cut:])
    return path, cut


def stderr_lines(run) -> list[str]:
    return run.stderr.decode().strip().splitlines()


# ---------------------------------------------------------------------------
# Accounting and exit status
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["count", "convert", "validate", "dump"])
def test_junk_after_record_3_stops_reading_and_exits_3(tmp_path, junk_file, command):
    path, cut = junk_file
    args = {
        "count": ["count", path],
        "convert": ["convert", path, tmp_path / "out.xml"],
        "validate": ["validate", path],
        "dump": ["dump", path],
    }[command]
    run = rapidmarc(*args)
    assert run.returncode == 3, run.stderr
    text = run.stderr.decode() + (run.stdout.decode() if command == "validate" else "")
    unread = path.stat().st_size - (cut + 5)  # the 5 bytes of the bad length were read
    assert "3 good, 1 bad" in text
    assert f"reading STOPPED at record 3, byte offset {cut}" in text
    assert f"{unread} bytes never read (--recover reads on)" in text
    if command == "convert":
        assert "3 records written" in text


def test_recover_reads_on_and_the_skipped_junk_exits_1(junk_file, tmp_path):
    path, _ = junk_file
    run = rapidmarc("count", path, "--recover")
    assert run.returncode == 1 and run.stdout.decode().startswith("386\t")
    assert "386 good, 1 bad (first: record 3" in run.stderr.decode()
    assert rapidmarc("count", path, "--recover", "--allow-bad").returncode == 0
    run = rapidmarc("convert", path, tmp_path / "o.mrc", "--recover", "--allow-bad")
    assert run.returncode == 0 and (tmp_path / "o.mrc").stat().st_size == path.stat().st_size - len(JUNK)


def test_a_clean_file_exits_0_with_a_summary(data_dir, tmp_path):
    path = data_dir / "real" / "loc_386.mrc"
    run = rapidmarc("convert", path, tmp_path / "o.json")
    assert run.returncode == 0
    assert stderr_lines(run) == [f"{path}: 386 good, 0 bad; 386 records written to {tmp_path / 'o.json'}"]
    assert rapidmarc("count", path, "-q").stderr == b""


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("x.mrc.bz2", lambda loc: b"BZh91AY&SY" + bytes(100), "bzip2-compressed data"),
        ("records.mrc", lambda loc: b'<?xml version="1.0"?>\n<collection/>', "XML"),
        ("notes.dat", lambda loc: b"Dear colleague,\nplease find attached the records.\n" * 20, "plain text"),
        ("r.mrc", lambda loc: b'[{"leader": "00000nam"}]', "JSON"),
    ],
)
def test_input_that_is_not_marc_is_named(tmp_path, loc, name, make, kind):
    path = tmp_path / name
    path.write_bytes(make(loc))
    for args in (["count", path], ["convert", path, tmp_path / "o.xml"]):
        run = rapidmarc(*args)
        assert run.returncode == 3
        assert f"not ISO 2709 MARC but {kind}" in run.stderr.decode()


def test_bad_records_exit_1_and_utf8_handling_reaches_the_command(impl, data_dir, tmp_path):
    bad = data_dir / "edge" / "invalid_utf8_383.mrc"
    run = rapidmarc("convert", bad, tmp_path / "o.xml")
    assert run.returncode == 1 and "298 good, 85 bad" in run.stderr.decode()
    assert rapidmarc("convert", bad, tmp_path / "o.xml", "--allow-bad").returncode == 0
    replaced = rapidmarc("convert", bad, tmp_path / "o.xml", "--utf8-handling", "replace")
    expected = impl.scan(str(bad), utf8_handling="replace")
    assert expected.good > 298  # the invalid UTF-8 records now read
    assert f"{expected.good} good, {expected.bad} bad" in replaced.stderr.decode()


def test_multiple_inputs_exit_with_the_largest_status(data_dir, junk_file):
    path, _ = junk_file
    run = rapidmarc("count", data_dir / "real" / "loc_386.mrc", data_dir / "edge" / "invalid_utf8_383.mrc", path)
    assert run.returncode == 3
    assert run.stdout.decode().splitlines()[-1] == f"{386 + 298 + 3}\ttotal"


# ---------------------------------------------------------------------------
# Standard input and output, destinations, Ctrl-C
# ---------------------------------------------------------------------------


def test_dash_reads_standard_input_and_writes_standard_output(loc):
    run = rapidmarc("count", "-", input=loc)
    assert run.returncode == 0 and run.stdout == b"386\t<stdin>\n"
    run = rapidmarc("convert", "-", "-", "--to", "marc", input=loc)
    assert run.returncode == 0 and run.stdout == loc
    assert "386 records written to <stdout>" in run.stderr.decode()
    run = rapidmarc("convert", "-", "-", "--to", "text", "--limit", "1", input=loc)
    assert run.returncode == 0 and run.stdout.decode().startswith("=LDR  ")
    missing_format = rapidmarc("convert", "-", "-", input=loc)
    assert missing_format.returncode == 2 and "use --to" in missing_format.stderr.decode()


def test_a_symlinked_destination_is_written_through(tmp_path, data_dir):
    target = tmp_path / "real.xml"
    target.write_bytes(b"old")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    assert rapidmarc("convert", data_dir / "real" / "loc_386.mrc", link).returncode == 0
    assert link.is_symlink() and target.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    # the Python conversion paths follow the same rule
    assert rapidmarc("convert", link, tmp_path / "back.mrc").returncode == 0
    back_link = tmp_path / "back-link.mrk"
    back_link.symlink_to(tmp_path / "text.mrk")
    assert rapidmarc("convert", link, back_link).returncode == 0
    assert back_link.is_symlink() and (tmp_path / "text.mrk").read_text().startswith("=LDR  ")


def test_a_fifo_destination_is_streamed_into(tmp_path, data_dir, loc):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    run = rapidmarc("convert", data_dir / "real" / "loc_386.mrc", fifo, "--to", "marc")
    reader.join(timeout=60)
    assert run.returncode == 0 and received == [loc]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


@pytest.mark.parametrize("to", ["xml", "text"])
def test_ctrl_c_exits_130_and_leaves_no_partial_output(tmp_path, loc, to):
    """The input is a pipe that sends some records and then stays open: the conversion waits,
    SIGINT arrives, and the command stops at once with one line, status 130 and no output file."""
    out = tmp_path / ("out.xml" if to == "xml" else "out.mrk")
    out.write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rapidmarc", "convert", "-", out, "--to", to],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(loc[:100_000])
    proc.stdin.flush()
    time.sleep(1.0)  # it has read what there is and waits for more
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.stdin.close() if not proc.stdin.closed else None
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "rapidmarc convert: interrupted"
    assert "Traceback" not in err.decode()
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == [out.name]


# ---------------------------------------------------------------------------
# One-line errors, selection, validate's report
# ---------------------------------------------------------------------------


def test_malformed_xml_and_json_give_one_line(tmp_path, data_dir):
    xml = tmp_path / "broken.xml"
    good = rapidmarc("convert", data_dir / "real" / "loc_386.mrc", "-", "--to", "xml").stdout
    xml.write_bytes(good[: len(good) // 2])
    run = rapidmarc("convert", xml, tmp_path / "o.mrc")
    assert run.returncode == 3 and "Traceback" not in run.stderr.decode()
    (line,) = stderr_lines(run)
    assert "reading STOPPED at line" in line and "malformed XML" in line
    assert (tmp_path / "o.mrc").exists()  # the records before the damage are written, and said so
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('[{"leader": "00000nam a2200000 a 4500", "fields": [}]')
    run = rapidmarc("convert", broken_json, tmp_path / "o2.mrc")
    assert run.returncode == 3 and "malformed JSON" in run.stderr.decode()
    assert rapidmarc("convert", xml, tmp_path / "o3.mrc", "--strict").returncode == 1


def test_offset_and_limit(data_dir, tmp_path):
    path = data_dir / "real" / "loc_386.mrc"
    records = split_records(path.read_bytes())
    run = rapidmarc("convert", path, tmp_path / "part.mrc", "--offset", "10", "--limit", "5")
    assert run.returncode == 0 and "(--limit 5 reached)" in run.stderr.decode()
    assert (tmp_path / "part.mrc").read_bytes() == b"".join(records[10:15])
    dump = rapidmarc("dump", path, "--offset", "385", "--format", "json")
    assert dump.returncode == 0 and len(json.loads(dump.stdout)) == 1


def test_validate_json_names_the_field_and_subfield(data_dir):
    run = rapidmarc("validate", data_dir / "edge" / "invalid_utf8_383.mrc", "--format", "json")
    assert run.returncode == 1
    report = json.loads(run.stdout)
    (entry,) = report["files"]
    assert (entry["good"], entry["bad"], entry["stopped_at"], entry["unread"]) == (298, 85, None, 0)
    first = entry["errors"][0]
    assert (first["record"], first["offset"], first["error"]) == (1, 665, "UnicodeDecodeError")
    assert (first["tag"], first["subfield"], first["directory_entry"]) == ("350", "a", 12)
    assert report["exit_status"] == 1


# ---------------------------------------------------------------------------
# Progress: on a terminal only
# ---------------------------------------------------------------------------


def _stderr_on_a_terminal(args) -> tuple[int, str]:
    """Runs the command with stderr on a pseudo-terminal; returns (status, what the terminal got)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rapidmarc", *map(str, args)], stdout=subprocess.DEVNULL, stderr=terminal
    )
    os.close(terminal)
    seen = b""
    while True:
        try:
            block = os.read(controller, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not block:
            break
        seen += block
    os.close(controller)
    return proc.wait(timeout=60), seen.decode(errors="replace")


@pytest.mark.parametrize("command", ["count", "dump", "validate", "convert-xml", "convert-text"])
def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(data_dir, tmp_path, command):
    path = data_dir / "real" / "loc_386.mrc"
    args = {
        "count": ["count", path],
        "dump": ["dump", path],
        "validate": ["validate", path],
        "convert-xml": ["convert", path, tmp_path / "o.xml"],
        "convert-text": ["convert", path, tmp_path / "o.mrk"],
    }[command]
    status, terminal = _stderr_on_a_terminal(args)
    assert status == 0
    assert "100.0%" in terminal and "MB/s" in terminal
    piped = rapidmarc(*args)
    assert piped.returncode == 0 and "%" not in piped.stderr.decode() and "\r" not in piped.stderr.decode()


# ---------------------------------------------------------------------------
# Findings of the adversarial review (each failed before its fix)
# ---------------------------------------------------------------------------


def test_an_input_named_like_a_partial_file_is_never_deleted(tmp_path, loc):
    source = tmp_path / "data.partial"
    source.write_bytes(loc)
    run = rapidmarc("convert", source, tmp_path / "data", "--to", "marc")
    assert run.returncode == 0, run.stderr
    assert source.read_bytes() == loc == (tmp_path / "data").read_bytes()
    keep = tmp_path / "keep.xml.partial"
    keep.write_bytes(b"precious")
    assert rapidmarc("convert", source, tmp_path / "keep.xml").returncode == 0
    assert keep.read_bytes() == b"precious"


def test_recover_accounts_for_a_damaged_end(impl, tmp_path, loc):
    """A record whose length is too short, then a last record cut short: the end of the file was
    dropped without an item under --recover (now one last TruncatedRecord item)."""
    records = split_records(loc)
    start = sum(len(r) for r in records[:384])
    damaged = bytearray(loc)
    damaged[start : start + 5] = b"%05d" % (len(records[384]) - 300)
    data = bytes(damaged[:-100])
    path = tmp_path / "tail.mrc"
    path.write_bytes(data)
    summary = impl.scan(path, recover=True)
    assert (summary.good, summary.bad, summary.bytes_read, summary.unread) == (384, 2, len(data), 0)
    run = rapidmarc("count", path, "--recover")
    assert run.returncode == 1 and "384 good, 2 bad" in run.stderr.decode()


def test_marcxml_records_before_an_error_are_all_written(impl, tmp_path, data_dir):
    xml = tmp_path / "junk_after.xml"
    impl.convert(str(data_dir / "real" / "loc_386.mrc"), xml, to="xml")
    xml.write_bytes(xml.read_bytes() + b"<garbage")
    run = rapidmarc("convert", xml, tmp_path / "out.mrc")
    assert run.returncode == 3 and "386 good, 0 bad; 386 records written" in run.stderr.decode()
    assert impl.count(tmp_path / "out.mrc") == 386


@pytest.mark.parametrize("to", ["xml", "text"])
def test_input_that_is_not_marc_leaves_an_existing_output_as_it_was(impl, tmp_path, loc, to):
    out = tmp_path / ("keep.xml" if to == "xml" else "keep.mrk")
    out.write_bytes(b"a good old output")
    notes = tmp_path / "notes.mrc"
    notes.write_bytes(b"Dear colleague,\nplease find attached the records.\n" * 20)
    run = rapidmarc("convert", notes, out)
    assert run.returncode == 3 and f"{out} left as it was" in run.stderr.decode()
    assert out.read_bytes() == b"a good old output"
    result = impl.convert(notes, tmp_path / "lib.xml", to="xml")
    assert result.stopped_at == 0 and not (tmp_path / "lib.xml").exists()


def test_split_refuses_a_part_that_is_its_input(tmp_path, loc):
    source = tmp_path / "r1.mrc"
    source.write_bytes(loc)
    run = rapidmarc("split", source, "--records", "100", "--prefix", tmp_path / "r", "--digits", "1")
    assert run.returncode == 2 and "overwrite the input" in run.stderr.decode()
    assert source.read_bytes() == loc


def test_split_refuses_a_fifo_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    run = rapidmarc("split", fifo, "--records", "10", timeout=30)
    assert run.returncode == 2 and "regular file" in run.stderr.decode()


def test_dash_reads_standard_input_from_where_it_stands(tmp_path, loc):
    records = split_records(loc)
    path = tmp_path / "in.mrc"
    path.write_bytes(loc)
    with open(path, "rb") as fh:
        fh.seek(sum(len(r) for r in records[:383]))  # the last 3 records are left
        run = subprocess.run([sys.executable, "-m", "rapidmarc", "count", "-"], stdin=fh, capture_output=True)
    assert run.returncode == 0 and run.stdout == b"3\t<stdin>\n"
    closed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; os.close(0); from rapidmarc.cli import main; sys.exit(main(['count', '-']))",
        ],
        capture_output=True,
    )
    assert closed.returncode == 2 and "standard input is closed" in closed.stderr.decode()


def test_quiet_hides_only_an_all_good_line(data_dir):
    run = rapidmarc("count", "-q", "--allow-bad", data_dir / "edge" / "invalid_utf8_383.mrc")
    assert run.returncode == 0 and "298 good, 85 bad" in run.stderr.decode()


def test_a_closed_output_pipe_is_not_success(data_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "rapidmarc", "convert", data_dir / "real" / "uva_2000.mrc", "-", "--to", "xml"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.read(100)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and "closed before everything was written" in err.decode()


def test_one_unreadable_input_among_several(tmp_path, data_dir, junk_file):
    loc_path = data_dir / "real" / "loc_386.mrc"
    hebrew = data_dir / "real" / "hebrew_20.mrc"
    run = rapidmarc("count", loc_path, tmp_path / "missing.mrc", hebrew)
    assert run.returncode == 2
    assert run.stdout.decode().splitlines() == [f"386\t{loc_path}", f"20\t{hebrew}", "406\ttotal"]
    assert "missing.mrc" in run.stderr.decode()
    path, _ = junk_file
    assert rapidmarc("count", path, tmp_path / "missing.mrc").returncode == 3  # the largest status
    report = json.loads(rapidmarc("validate", "--format", "json", loc_path, tmp_path / "missing.mrc").stdout)
    assert [f.get("good") for f in report["files"]] == [386, None] and report["exit_status"] == 2


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"\n"])
def test_damaged_marc_is_not_called_another_format(tmp_path, loc, prefix):
    path = tmp_path / "damaged.mrc"
    path.write_bytes(prefix + loc)
    run = rapidmarc("count", path)
    assert run.returncode == 3 and "not ISO 2709" not in run.stderr.decode()
    assert "--recover reads on" in run.stderr.decode()


@pytest.mark.parametrize(
    "document", [b"<books><book>A novel</book></books>", b"<html><body>Service unavailable</body></html>"]
)
def test_xml_that_is_not_marcxml_is_named(tmp_path, document):
    path = tmp_path / "x.xml"
    path.write_bytes(document)
    run = rapidmarc("convert", path, tmp_path / "o.mrc")
    assert run.returncode == 3 and "not MARCXML" in run.stderr.decode()


@pytest.mark.parametrize("command", ["dump", "convert"])
def test_limit_0_writes_nothing(data_dir, tmp_path, command):
    path = data_dir / "real" / "loc_386.mrc"
    if command == "dump":
        run = rapidmarc("dump", path, "--limit", "0", "--format", "json")
        assert run.returncode == 0 and json.loads(run.stdout) == []
    else:
        run = rapidmarc("convert", path, tmp_path / "o.mrc", "--limit", "0")
        assert run.returncode == 0 and (tmp_path / "o.mrc").read_bytes() == b""


def test_a_damaged_length_with_control_characters_stays_one_line(tmp_path, loc):
    path = tmp_path / "ws.mrc"
    path.write_bytes(loc[:1000].replace(loc[:5], b"  \n\t ", 1) + loc[1000:])
    run = rapidmarc("count", path)
    lines = stderr_lines(run)
    assert run.returncode == 3 and len(lines) == 1 and "\\x0a\\x09" in lines[0]


def test_sigterm_stops_like_ctrl_c(tmp_path, loc):
    out = tmp_path / "out.xml"
    out.write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rapidmarc", "convert", "-", out, "--to", "xml"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(loc[:100_000])
    proc.stdin.flush()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "stopped by SIGTERM" in err.decode()
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_standard_output_onto_the_input_is_refused(tmp_path, loc):
    path = tmp_path / "in.mrc"
    path.write_bytes(loc)
    with open(path, "ab") as fh:
        run = subprocess.run(
            [sys.executable, "-m", "rapidmarc", "convert", path, "-", "--to", "marc"], stdout=fh, stderr=subprocess.PIPE
        )
    assert run.returncode == 2 and "overwrite the input" in run.stderr.decode()
    assert path.read_bytes() == loc


def _as_unprivileged() -> list[str]:
    """A command prefix under which file permissions apply: as root, drop the capabilities that
    bypass them (setpriv, util-linux); otherwise nothing is needed."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all"]


@pytest.mark.parametrize("what", ["read-only file", "read-only directory"])
def test_a_destination_that_cannot_be_written_is_refused_before_reading(tmp_path, data_dir, what):
    directory = tmp_path / "out"
    directory.mkdir()
    dest = directory / "out.xml"
    dest.write_bytes(b"old")
    if what == "read-only file":
        dest.chmod(0o444)
    else:
        directory.chmod(0o555)
    try:
        command = [*_as_unprivileged(), sys.executable, "-m", "rapidmarc", "convert"]
        run = subprocess.run([*command, data_dir / "real" / "loc_386.mrc", dest], capture_output=True, timeout=60)
    finally:
        directory.chmod(0o755)
    assert run.returncode == 2, run.stderr
    (line,) = stderr_lines(run)
    assert "not writable" in line and str(dest) in line
    assert dest.read_bytes() == b"old" and sorted(p.name for p in directory.iterdir()) == ["out.xml"]


def test_a_closed_standard_output_is_not_success(data_dir):
    # as `rapidmarc count f >&-` starts it: Python then has no sys.stdout, and print() writes nothing
    run = subprocess.run(
        [sys.executable, "-m", "rapidmarc", "count", data_dir / "real" / "loc_386.mrc"],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),  # noqa: PLW1509 - only closes a descriptor
    )
    assert run.returncode == 2 and "standard output is closed" in run.stderr.decode()


def test_split_names_parts_left_by_an_earlier_split(tmp_path, loc):
    source = tmp_path / "in.mrc"
    source.write_bytes(loc)
    assert rapidmarc("split", source, "--records", "100", "--prefix", tmp_path / "p").returncode == 0
    run = rapidmarc("split", source, "--records", "200", "--prefix", tmp_path / "p")
    assert run.returncode == 0 and "p0003.mrc (and any after it) is from an earlier split" in run.stderr.decode()


def test_dump_mrk_is_what_convert_writes_to_mrk(data_dir, tmp_path):
    path = data_dir / "real" / "loc_386.mrc"
    dump = rapidmarc("dump", path, "--format", "mrk", "--limit", "5")
    assert rapidmarc("convert", path, tmp_path / "o.mrk", "--limit", "5").returncode == 0
    assert dump.returncode == 0 and dump.stdout == (tmp_path / "o.mrk").read_bytes()


def test_marcxml_inside_another_root_is_read(impl, tmp_path, data_dir):
    """An OAI-PMH response: records in <metadata> under another root element are records, not
    "not MARCXML" (the root check applies only when no record is found)."""
    xml = tmp_path / "loc.xml"
    impl.convert(str(data_dir / "real" / "hebrew_20.mrc"), xml, to="xml")
    body = xml.read_bytes().split(b"<collection", 1)[1].split(b">", 1)[1].rsplit(b"</collection>", 1)[0]
    oai = tmp_path / "oai.xml"
    oai.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b'<ListRecords><record><metadata><collection xmlns="http://www.loc.gov/MARC21/slim">'
        + body
        + b"</collection></metadata></record></ListRecords></OAI-PMH>"
    )
    run = rapidmarc("convert", oai, tmp_path / "o.mrc")
    assert run.returncode == 0, run.stderr
    assert impl.count(tmp_path / "o.mrc") == 20


@pytest.mark.parametrize("source", ["path", "stdin"])
def test_marcxml_to_marc_is_as_marc_of_the_records(impl, tmp_path, data_dir, source):
    records = [r for r in impl.MARCReader(str(data_dir / "real" / "uva_2000.mrc")) if r is not None]
    xml = tmp_path / "uva.xml"
    impl.convert(str(data_dir / "real" / "uva_2000.mrc"), xml, to="xml", utf8_leader=True)
    out = tmp_path / "back.mrc"
    if source == "path":
        run = rapidmarc("convert", xml, out)
    else:
        run = rapidmarc("convert", "-", out, "--from", "xml", input=xml.read_bytes())
    assert run.returncode == 0, run.stderr
    assert f"{len(records)} good, 0 bad" in run.stderr.decode()
    assert out.read_bytes() == b"".join(r.as_marc() for r in records)
