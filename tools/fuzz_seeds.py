"""Write a libFuzzer seed corpus: single records, pairs and cut-off records from MARC files.

Usage: python tools/fuzz_seeds.py OUT_DIR FILE.mrc [FILE.mrc ...]

Seeds for tests/fuzz/fuzz_reader.cpp start with one options byte (see that file); seeds for
fuzz_marc8 are subfield values of the MARC-8 records (leader/09 blank) among the inputs; seeds for
fuzz_marcjson are the records as MARC-in-JSON (text decoded as UTF-8, undecodable bytes replaced)
in the three layouts the reader takes: a JSON array, JSON Lines, concatenated objects (spaced,
as yaz-marcdump writes them), and a cut-off array; seeds for
fuzz_marcxml are MARCXML documents of a few records each, in the shapes real files take (a default
namespace or a prefix, a bare record, an OAI-PMH envelope, entities, CDATA, comments, CR LF), after
one options byte.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RT, FT, SF = b"\x1d", b"\x1e", b"\x1f"


def records(data: bytes) -> list[bytes]:
    return [chunk + RT for chunk in data.split(RT) if chunk]


def as_json(rec: bytes) -> dict | None:
    """The record as a MARC-in-JSON object (pymarc's layout), or None if its directory is damaged."""
    try:
        base = int(rec[12:17])
        directory = rec[24 : base - 1]
        fields: list[dict] = []
        for k in range(0, len(directory) - 11, 12):
            tag = directory[k : k + 3].decode("ascii")
            length, start = int(directory[k + 3 : k + 7]), int(directory[k + 7 : k + 12])
            data = rec[base + start : base + start + length].rstrip(FT)
            if tag < "010" and tag.isdigit():
                fields.append({tag: data.decode("utf-8", "replace")})
                continue
            parts = data.split(SF)
            ind = parts[0].decode("utf-8", "replace").ljust(2)
            subfields = [{p[:1].decode("utf-8", "replace"): p[1:].decode("utf-8", "replace")} for p in parts[1:] if p]
            fields.append({tag: {"ind1": ind[0], "ind2": ind[1], "subfields": subfields}})
        return {"leader": rec[:24].decode("ascii"), "fields": fields}
    except (ValueError, UnicodeDecodeError):
        return None


SLIM = "http://www.loc.gov/MARC21/slim"


def escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def xml_record(rec: bytes, p: str = "") -> str:
    """The record as MARCXML (text decoded as UTF-8, damaged bytes replaced), element prefix p."""
    try:
        base = int(rec[12:17])
        directory = rec[24 : base - 1]
    except ValueError:
        return ""
    out = [f"<{p}record><{p}leader>{escape(rec[:24].decode('latin-1'))}</{p}leader>"]
    for i in range(0, len(directory) - 11, 12):
        entry = directory[i : i + 12]
        try:
            tag, length, start = entry[:3].decode("latin-1"), int(entry[3:7]), int(entry[7:12])
        except ValueError:
            return ""
        data = rec[base + start : base + start + length].rstrip(FT).decode("utf-8", "replace")
        data = "".join(c for c in data if c >= " " or c in "\t\n\x1f")
        if tag < "010":
            out.append(f'<{p}controlfield tag="{escape(tag, True)}">{escape(data)}</{p}controlfield>')
            continue
        ind = (data[:2] + "  ")[:2]
        out.append(
            f'<{p}datafield tag="{escape(tag, True)}" ind1="{escape(ind[0], True)}" ind2="{escape(ind[1], True)}">'
        )
        for sub in data[2:].split("\x1f")[1:]:
            out.append(f'<{p}subfield code="{escape(sub[:1], True)}">{escape(sub[1:])}</{p}subfield>')
        out.append(f"</{p}datafield>")
    out.append(f"</{p}record>")
    return "".join(out)


def xml_seeds(stem: str, recs: list[bytes], out: Path) -> None:
    (out / "xml").mkdir(parents=True, exist_ok=True)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    for i in range(0, min(len(recs), 24), 3):
        group = recs[i : i + 3]
        plain = "".join(xml_record(r) for r in group)
        shapes = {
            "coll": f'{head}<collection xmlns="{SLIM}">{plain}</collection>\n',
            "prefix": f'<marc:collection xmlns:marc="{SLIM}">{"".join(xml_record(r, "marc:") for r in group)}'
            "</marc:collection>",
            "bare": xml_record(group[0]).replace("<record>", f'<record xmlns="{SLIM}">', 1),
            "oai": '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><metadata>'
            + xml_record(group[0], "m:").replace("<m:record>", f'<m:record xmlns:m="{SLIM}">', 1)
            + "</metadata></record></ListRecords></OAI-PMH>",
            "odd": f"\ufeff<?xml version='1.0'?><!-- x --><collection xmlns='{SLIM}'>"
            + plain.replace("&amp;", "&#38;")
            .replace("</subfield>", "<![CDATA[<&>]]></subfield>", 1)
            .replace(">", ">\r\n", 3)
            + "<?pi x?></collection>",
        }
        for name, doc in shapes.items():
            (out / "xml" / f"{stem}-{i}-{name}").write_bytes(bytes([i % 7]) + doc.encode("utf-8"))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    (out / "reader").mkdir(parents=True, exist_ok=True)
    (out / "marc8").mkdir(parents=True, exist_ok=True)
    (out / "marcjson").mkdir(parents=True, exist_ok=True)
    n = 0
    for name in argv[1:]:
        recs = records(Path(name).read_bytes())[:40]
        xml_seeds(Path(name).stem, recs, out)
        for i, rec in enumerate(recs):
            pair = rec + (recs[i + 1] if i + 1 < len(recs) else b"")
            for flags, body in ((0, rec), (1, pair), (5, pair[: len(pair) * 2 // 3]), (8, rec)):
                (out / "reader" / f"{Path(name).stem}-{i}-{flags}").write_bytes(bytes([flags]) + body)
            if len(rec) > 24 and rec[9:10] == b" ":
                for k, value in enumerate(rec.split(SF)[1:6]):
                    (out / "marc8" / f"{Path(name).stem}-{i}-{k}").write_bytes(value.split(FT)[0][1:])
            n += 1
        objects = [obj for obj in map(as_json, recs[:12]) if obj is not None]
        for i in range(0, len(objects), 3):
            group = objects[i : i + 3]
            compact = [json.dumps(obj, separators=(",", ":")) for obj in group]
            layouts = {
                "array": "[" + ",".join(compact) + "]",
                "lines": "".join(c + "\n" for c in compact),
                "concatenated": "".join(json.dumps(obj, indent=1, ensure_ascii=False) for obj in group),
            }
            layouts["cut"] = layouts["array"][: len(layouts["array"]) * 2 // 3]
            for layout, text in layouts.items():
                (out / "marcjson" / f"{Path(name).stem}-{i}-{layout}").write_bytes(text.encode()[:20000])
    print(f"{n} records seeded into {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
