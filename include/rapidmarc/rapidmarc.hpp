// rapidmarc: fast, dependable reading and writing of MARC 21 / ISO 2709 records.
//
// Umbrella header: the whole public API. The layers, from bytes up:
//   source.hpp       where bytes come from (file path, memory, callback)
//   reader.hpp       framing a byte stream into records (pymarc's error semantics, recovery)
//   parser.hpp       one record's leader and directory into bounds-checked field slices
//   record_view.hpp  zero-copy views of fields and subfields
//   record.hpp       an owning, editable record
//   writer.hpp       laying out ISO 2709 bytes
//   batch.hpp        framing + parsing in owned batches, optionally ahead on a worker thread;
//                    what a readable record is (Batch::readable, Batch::error), drain()
//   parallel.hpp     byte ranges of one input parsed on a thread pool, delivered in order
//   input.hpp        ReadOptions and open_batches(): the one front door to a batch stream
//   text.hpp         text encodings of record bytes, conversion to UTF-8, Python's strip()
//   utf8.hpp         lossy UTF-8 decoding exactly as CPython's "replace" / "ignore"
//   marc8.hpp        MARC-8 <-> UTF-8 (rapidmarc::marc8)
//   unicode.hpp      NFC / NFD and small UTF-8 helpers (rapidmarc::unicode)
//   select.hpp       field specs ("245$a") and columnar value extraction
//   export.hpp       MARC-in-JSON and MARCXML text of a record, as pymarc writes them
//   convert.hpp      whole-stream conversion to MARC-in-JSON, MARCXML or ISO 2709 (convert_file)
//   arrow.hpp        selected values as Arrow columns (C data and stream interfaces)
//   error.hpp        error codes, Error, ParseError
// Headers under rapidmarc/detail/ (namespace rapidmarc::detail) are internals that public headers
// or the Python binding need; they are not part of the API and may change without notice.
#pragma once

#include "rapidmarc/arrow.hpp"
#include "rapidmarc/batch.hpp"
#include "rapidmarc/compressed.hpp"
#include "rapidmarc/convert.hpp"
#include "rapidmarc/error.hpp"
#include "rapidmarc/export.hpp"
#include "rapidmarc/input.hpp"
#include "rapidmarc/marc8.hpp"
#include "rapidmarc/marcspec.hpp"
#include "rapidmarc/marcxml.hpp"
#include "rapidmarc/marcxml_parallel.hpp"
#include "rapidmarc/parallel.hpp"
#include "rapidmarc/parser.hpp"
#include "rapidmarc/reader.hpp"
#include "rapidmarc/record.hpp"
#include "rapidmarc/record_view.hpp"
#include "rapidmarc/select.hpp"
#include "rapidmarc/source.hpp"
#include "rapidmarc/text.hpp"
#include "rapidmarc/unicode.hpp"
#include "rapidmarc/utf8.hpp"
#include "rapidmarc/writer.hpp"
