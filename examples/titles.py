"""Print the number of records and the first titles of a MARC file, with rapidmarc.

Usage: python examples/titles.py [FILE.mrc]   (default: the bundled examples/sample.mrc)
"""

import sys
from pathlib import Path

import rapidmarc


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("sample.mrc")
    count = bad = 0
    with rapidmarc.MARCReader(path) as reader:
        for record in reader:
            if record is None:
                bad += 1
                print(f"skipped: {reader.current_exception}", file=sys.stderr)
                continue
            count += 1
            if count <= 10:
                print(f"{record['001'].value() if '001' in record else '-':>12}  {record.title}")
    print(f"{count} records read from {path}" + (f", {bad} bad" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
