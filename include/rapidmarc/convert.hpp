// Whole-stream conversion to MARC-in-JSON, MARCXML or a cleaned ISO 2709 copy.
//
// The output is what pymarc's JSONWriter, XMLWriter or MARCWriter write for the records its
// MARCReader yields, byte for byte: readable records (Batch::readable) are converted, unreadable
// ones are counted as bad and skipped, and a readable record whose text does not convert (e.g.
// invalid MARC-8 when validation was off) is counted as unconvertible and skipped.
//
// The work is split by thread: convert_hook() is a batch stream's process hook, so each batch is
// converted on the thread that parsed it; convert_stream() only writes the converted text in
// order, on the caller's thread. convert_file() does both for a file, in one call.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include "rapidmarc/batch.hpp"
#include "rapidmarc/input.hpp"

namespace rapidmarc {

enum class ConvertFormat : std::uint8_t {
    json,  // a JSON array of MARC-in-JSON objects, as JSONWriter writes it (separators "," and ":")
    xml,   // a MARCXML collection, as XMLWriter writes it (UTF-8)
    marc,  // the readable records' bytes, unchanged
};

// "json", "xml" or "marc"; nullopt for anything else.
std::optional<ConvertFormat> parse_convert_format(std::string_view name) noexcept;

struct ConvertResult {
    std::uint64_t records = 0;        // records written
    std::uint64_t bad = 0;            // unreadable records (framing or parse errors), skipped
    std::uint64_t unconvertible = 0;  // readable records whose text does not convert, skipped
    ReadTally read;                   // every item read (good: readable), where reading ended and why
};

// The BatchOptions::process / ParallelOptions::process hook: converts each batch on the thread
// that parsed it, into a payload convert_stream() writes. Text is read as text_encoding(parsed,
// parse) says (parser.hpp: UTF-8 with parse.utf8_handling, or MARC-8); a record whose leader/09
// ParseOptions::detect_encoding overruled carries the corrected leader (Batch::parse), as
// pymarc's writers write what its reader yields. JSON and MARCXML need text: without
// parse.validate_text (to_unicode=False) they throw std::invalid_argument here.
//
// With `utf8_leader`, JSON and MARCXML carry leader/09 'a': the text they hold is Unicode whatever
// the record was read as, so a reader that trusts leader/09 (yaz-marcdump, MarcEdit) reads it
// right. Without it the leader is written as read, as pymarc's writers write it (a MARC-8
// record's ' ' then sits over UTF-8 text).
std::function<void(Batch&)> convert_hook(ConvertFormat format, const ParseOptions& parse = {},
                                         bool utf8_leader = false);

// Writes the whole document from a stream opened with convert_hook(format): the header, each
// batch's text in order, the trailer. write(text) is called on the caller's thread for every
// non-empty piece and may throw (the exception propagates). progress(bytes), if set, is called
// after each batch with the input bytes consumed so far (the last frame's offset + size). With
// `strict`, throws ParseError (Batch::error) for the first unreadable record, before writing
// anything of its batch. Throws std::invalid_argument for a stream not opened with
// convert_hook(format).
ConvertResult convert_stream(BatchStream& stream, ConvertFormat format, bool strict,
                             const std::function<void(std::string_view)>& write,
                             const std::function<void(std::uint64_t)>& progress = {});

// Converts the file at `input` and writes the document to `out` (not closed; flushed at the end).
// The defaults read as pymarc's MARCReader and rapidmarc's Python convert() do. Throws
// std::system_error naming the path if the input cannot be opened, std::system_error on a write
// error, ParseError in strict mode (options.strict).
ConvertResult convert_file(const std::filesystem::path& input, std::FILE* out, ConvertFormat format,
                           const ReadOptions& options = {});

}  // namespace rapidmarc
