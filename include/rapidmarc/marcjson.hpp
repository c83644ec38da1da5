// MARC-in-JSON input: a ByteSource that reads MARC-in-JSON from another ByteSource and hands out
// the ISO 2709 bytes of each record, so framing, parsing, batching and every consumer built on
// them (BatchReader, count, extract, Arrow columns, convert, the Python MARCReader) read JSON
// unchanged, as marcxml.hpp does for MARCXML.
//
// Layouts, told apart by the first byte that is not whitespace (after an optional UTF-8 byte order
// mark): '[' is a JSON array of records (what pymarc's JSONWriter and rapidmarc.convert write);
// anything else is a sequence of values separated by optional whitespace: one record object, JSON
// Lines (one per line) or concatenated objects (yaz-marcdump -o json). Whitespace alone is no
// records. The JSON is tokenized here (no JSON library), streaming: input is read in chunks into a
// buffer; a record in the usual shape is parsed in one pass straight from it (the fast path); any
// other value, or one that goes on past the buffer, is found by a light scan of brackets and strings
// and then parsed and checked as a whole by the general parser, which builds the same bytes. Memory
// is bounded by the chunk size plus the largest record.
//
// The JSON grammar is Python's json module's with strict=False (what pymarc's JSONReader uses):
// control characters are allowed raw inside strings, NaN, Infinity and -Infinity are numbers,
// \uXXXX escapes with surrogate pairs are decoded, and the text must be UTF-8.
//
// A record is {"leader": "...", "fields": [{"001": "..."}, {"245": {"ind1": "1", "ind2": "0",
// "subfields": [{"a": "..."}]}}]} (other members of the record and data field objects are
// ignored, in any order). Its bytes: the leader (24 ASCII characters) with record length and base
// address computed and leader/09 'a', the fields in order, text in UTF-8. Leaders that differ from
// the JSON's are logged (MarcJsonOptions::leaders) so that a consumer can keep the JSON's.
//
// Anything else that is well-formed JSON is not an error of the document but a record rapidmarc
// does not build: a value that is not an object, a missing leader or fields member, a leader that
// is not 24 ASCII characters, a field object without exactly one member, a control field tag with a
// value that is not a string or a data field tag with one that is not an object holding ind1,
// ind2 (one-character strings) and subfields (an array of objects whose members are one-character
// codes with string values), a tag that is not 3 ASCII characters, a duplicate member, a lone
// surrogate, a delimiter or terminator in the data, a field over 9,999 bytes in a record under
// 100,000 bytes. Such a record is handed out as a short stub, "000NN" + the reason + record
// terminator, which the parser reports as leader_invalid: a bad record in its place, never a
// dropped one. pymarc's JSONReader builds some of these (or raises for them); a consumer that
// wants its outcome takes the record's JSON text from MarcJsonOptions::originals and builds it as
// pymarc does (rapidmarc.JSONReader(native=True) does). A record without fields is handed out as
// ISO 2709 without fields (the parser reports no_fields_found) and its text logged too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rapidmarc/input.hpp"
#include "rapidmarc/marcxml.hpp"  // XmlLeaderLog: a thread-safe log of text by record index
#include "rapidmarc/source.hpp"

namespace rapidmarc {

// True when `head` looks like JSON: '[' or '{' after an optional UTF-8 byte order mark and
// whitespace.
bool looks_like_json(std::string_view head) noexcept;

// JSON that is not well-formed (or not UTF-8), with where it is, as Python's json.JSONDecodeError
// reports it: `line` and `column` 1-based, `position` the offset in characters from the start of
// the input; `record_index` is the index of the record being read (the number handed out before).
class JsonError : public std::runtime_error {
public:
    JsonError(std::string reason, std::uint64_t line, std::uint64_t column, std::uint64_t position,
              std::uint64_t record_index, const std::string& name);
    const std::string& reason() const noexcept { return reason_; }
    std::uint64_t line() const noexcept { return line_; }
    std::uint64_t column() const noexcept { return column_; }
    std::uint64_t position() const noexcept { return position_; }
    std::uint64_t record_index() const noexcept { return record_index_; }

private:
    std::string reason_;
    std::uint64_t line_;
    std::uint64_t column_;
    std::uint64_t position_;
    std::uint64_t record_index_;
};

struct MarcJsonOptions {
    std::size_t chunk_size = std::size_t{1} << 16;  // JSON bytes read per step
    // If set: the JSON's leader of each record whose bytes carry another one (record length, base
    // address, leader/09), by record index.
    std::shared_ptr<XmlLeaderLog> leaders;
    // If set: the JSON text of each record handed out as a stub or without fields, by record index.
    std::shared_ptr<XmlLeaderLog> originals;
    // Records in the usual shape are built by a fast single-pass parser straight from the input
    // buffer, anything else by the general parser; both build the same bytes. false: every value
    // goes through the general parser (tests compare the two).
    bool fast_path = true;
};

// A source of the ISO 2709 records of the MARC-in-JSON `json`. Throws JsonError (message:
// "name:line:column: reason (record N)") for JSON that is not well-formed, including input that
// ends inside a value, after handing out every record completed before it. Exceptions of `json`
// propagate. cancel() reaches `json`.
std::unique_ptr<ByteSource> marcjson_source(std::unique_ptr<ByteSource> json, MarcJsonOptions options = {},
                                            std::string name = "<MARC-in-JSON>");

// `options` for reading what marcjson_source() hands out: text as UTF-8.
ReadOptions marcjson_read_options(ReadOptions options);

// Batch streams over MARC-in-JSON, as open_marcxml_batches() over MARCXML: one sequential pass, on
// a worker thread one batch ahead unless options.workers == 0. A path may be gzip-compressed.
std::unique_ptr<BatchStream> open_marcjson_batches(const std::filesystem::path& path, const ReadOptions& options,
                                                   std::function<void(Batch&)> process = {},
                                                   MarcJsonOptions json = {});
// `bytes` stays alive while the stream exists.
std::unique_ptr<BatchStream> open_marcjson_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                          std::function<void(Batch&)> process = {},
                                                          MarcJsonOptions json = {});
// A sequential source read in the caller's thread (a callback into a language runtime).
std::unique_ptr<BatchStream> open_marcjson_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                                   std::function<void(Batch&)> process = {},
                                                   MarcJsonOptions json = {}, std::string name = "<MARC-in-JSON>");

}  // namespace rapidmarc
