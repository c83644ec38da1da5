// PyReadOptions: the one object that says how records are read, for every reading entry point
// (MARCReader, count, extract, extract_arrow, convert, read_range, parse_records). It is built in
// one place from Python's rapidmarc.ReadOptions (validated there) and carries the core's
// ReadOptions (framing, parsing, workers, strict) plus what only Python decoding needs.
#pragma once

#include <string>

#include "binding.hpp"
#include "text.hpp"

namespace rapidmarc::binding {

struct PyReadOptions {
    ReadOptions core;                       // framing, parse checks, workers, strict (input.hpp)
    bool to_unicode = true;
    bool force_utf8 = false;
    Utf8Handling utf8_handling = Utf8Handling::strict;
    std::string file_encoding = "iso8859-1";  // a Python codec name
    bool latin1_encoding = true;            // file_encoding is iso8859-1: MARC-8 records are converted as MARC-8

    // The encoding of a parsed record's subfield text, as MARCReader decodes it (text.hpp). Records
    // only a Python codec can decode (file_encoding) are marked latin1 and decoded eagerly by
    // build_record through that codec.
    TextEncoding subfield_text(const ParsedRecord& parsed) const noexcept {
        return python_codec(parsed.utf8) ? TextEncoding::latin1 : text_encoding(parsed, core.parse);
    }
    // Records whose text only a Python codec can decode (file_encoding other than ISO 8859-1).
    bool python_codec(bool utf8) const noexcept { return to_unicode && !utf8 && !latin1_encoding; }
    // The Python errors= argument for UTF-8 subfield text.
    const char* utf8_errors() const noexcept {
        return utf8_handling == Utf8Handling::replace  ? "replace"
               : utf8_handling == Utf8Handling::ignore ? "ignore"
                                                       : "strict";
    }
    // Refuses a setting that a native text writer (`what`) cannot honour, naming it.
    void require_native_text(const char* what) const;
};

// From a rapidmarc.ReadOptions object (or anything with its attributes).
PyReadOptions read_options(nb::handle options);
// The decoding settings alone (pymarc's Record(data=...) arguments); the rest keeps its defaults.
PyReadOptions decode_options(bool to_unicode, bool force_utf8, std::string_view utf8_handling,
                             std::string file_encoding);

}  // namespace rapidmarc::binding
