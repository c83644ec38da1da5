// Bytes to Python text, by pymarc's decoding rules, and the small text tools the field and record
// code share. The helpers on hot paths (ascii_str, decode_known, strip_ascii) are inline.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "binding.hpp"

namespace rapidmarc::binding {

// How bytes become Python values is the core's TextEncoding (text.hpp): pymarc's decode_marc rules,
// with bytes for to_unicode=False and, for UTF-8, Python's error handling.

// pymarc's exception for MARC-8 it cannot convert (marc8_to_unicode turns its IndexError into this).
[[noreturn]] void raise_marc8_error(std::string_view s);

// MARC-8 bytes as UTF-8 text (NFC), appended to out, with the mapping of `encoding` (one of the
// two MARC-8 encodings).
inline void append_marc8(std::string_view s, std::string& out, TextEncoding encoding = TextEncoding::marc8) {
    if (!append_text(s, encoding, out)) raise_marc8_error(s);
}

// A str from bytes known to be ASCII: no decoding scan.
inline nb::object ascii_str(std::string_view s) {
    PyObject* o = PyUnicode_New(static_cast<Py_ssize_t>(s.size()), 127);
    if (!o) throw nb::python_error();
    if (!s.empty()) std::memcpy(PyUnicode_DATA(o), s.data(), s.size());
    return nb::steal(o);
}

// A str from UTF-8, as PyUnicode_DecodeUTF8(s, "strict") makes it but in one exact allocation (no
// growing writer, no final resize). Null when `s` is not valid UTF-8 (no Python error set: ask
// CPython's codec for the precise one) or, with MemoryError set, when there is no memory.
PyObject* str_from_utf8(std::string_view s);

// The Python value of `s` decoded as `text`.
nb::object decode(std::string_view s, TextEncoding text);

// decode() for bytes of a field the parser found to be ASCII (UTF-8 and Latin-1 text are then
// the bytes themselves; MARC-8 may still hold escapes and controls).
inline nb::object decode_known(std::string_view s, TextEncoding text, bool ascii) {
    if (ascii && !is_marc8(text) && text != TextEncoding::bytes) return ascii_str(s);
    return decode(s, text);
}

nb::str make_str(std::string_view s);

// seq[a:b], with Python's clamping.
nb::object py_slice(nb::handle seq, Py_ssize_t a, Py_ssize_t b);

// The UTF-8 of a str (owned by the str).
std::string_view utf8_of(nb::handle str);

// Python's str.isspace() for the characters that can end a stripped value. Bytes-level stripping
// handles ASCII; anything else at an edge sends the caller to the exact (Python) path.
constexpr bool is_ascii_strip(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

RAPIDMARC_ALWAYS_INLINE std::string_view strip_ascii(std::string_view s) noexcept {
    while (!s.empty() && is_ascii_strip(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ascii_strip(s.back())) s.remove_suffix(1);
    return s;
}

// After ASCII stripping, may a non-ASCII whitespace character sit at an edge?
inline bool edges_uncertain(std::string_view s, TextEncoding text) noexcept {
    if (s.empty()) return false;
    const auto f = static_cast<unsigned char>(s.front()), b = static_cast<unsigned char>(s.back());
    if (text == TextEncoding::latin1) return f == 0x85 || f == 0xa0 || b == 0x85 || b == 0xa0;
    return f >= 0x80 || b >= 0x80;
}

// Builds short texts on the stack (most fields are short), spilling to the heap when needed.
class Scratch {
public:
    void append(std::string_view s) {
        if (!spilled_ && len_ + s.size() <= sizeof(stack_)) {
            if (!s.empty()) std::memcpy(stack_ + len_, s.data(), s.size());
            len_ += s.size();
            return;
        }
        if (!spilled_) {
            heap_.assign(stack_, len_);
            spilled_ = true;
        }
        heap_.append(s);
    }
    void push_back(char c) { append({&c, 1}); }
    std::string_view view() const { return spilled_ ? std::string_view(heap_) : std::string_view(stack_, len_); }

private:
    char stack_[1024];
    std::size_t len_ = 0;
    bool spilled_ = false;
    std::string heap_;
};

inline nb::object call_strip(nb::handle value) { return value.attr("strip")(); }

}  // namespace rapidmarc::binding
