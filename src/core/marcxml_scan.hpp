// Internal: a hand-written scanner for the subset of XML that MARCXML files use, feeding the
// record builder (marcxml_build.hpp) the same events expat would. It checks the well-formedness
// of everything it accepts; on anything outside its subset or any error it stops with `fallback`
// and reports nothing of the construct it stopped at, so that the caller can hand the document to
// expat (which then reports the error, or reads what the scanner does not, exactly as it always
// does). docs/formats.md ("The MARCXML scanner") lists the subset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "marcxml_build.hpp"

namespace rapidmarc::detail {

class XmlScanner {
public:
    enum class Status : std::uint8_t {
        more,      // consumed what it could; the rest is an incomplete construct: call again with more bytes
        done,      // the document ended well-formed (everything after it was consumed too)
        fallback,  // outside the subset, or an error: hand the document to expat
    };

    XmlScanner(MarcRecordBuilder& builder, MarcXmlNames names) : builder_(builder), names_(names) {}

    // Scans the complete constructs at the start of [begin, end) and returns how many bytes it
    // consumed; `final` says no bytes follow `end`. The bytes not consumed must be passed again,
    // followed by more. After `done` or `fallback` it must not be called again.
    std::size_t scan(const char* begin, const char* end, bool final, Status& status);

private:
    enum class Where : std::uint8_t { start, prolog, content, epilog };
    struct Open {
        std::uint32_t name_at;    // the raw qualified name, in names_
        std::uint32_t name_size;
        std::uint32_t bindings;   // bindings_.size() before this element's declarations
        std::int32_t default_ns;  // the default namespace binding before this element (-1: none)
        XmlElem kind;
    };
    struct Binding {
        std::string prefix;  // empty for the default namespace
        std::string uri;     // empty: the default namespace undeclared
        XmlNs ns;
    };
    struct Attr {
        const char* name;
        std::uint32_t name_size;
        std::uint32_t colon;  // offset of the colon in the name, or 0
        bool scratch;         // the value is in scratch_ at value_at, else at value (the input)
        const char* value;
        std::uint32_t value_at;
        std::uint32_t value_size;
    };

    // Each returns the end of the construct starting at `p`, nullptr when it is incomplete, or
    // sets fail_ (and returns nullptr).
    const char* xml_declaration(const char* p, const char* end);
    const char* start_tag(const char* p, const char* end);
    const char* end_tag(const char* p, const char* end);
    const char* comment(const char* p, const char* end);
    const char* pi(const char* p, const char* end);
    const char* cdata(const char* p, const char* end);
    const char* text(const char* p, const char* end, bool final);

    std::string_view value_of(const Attr& a) const noexcept {
        return a.scratch ? std::string_view(scratch_).substr(a.value_at, a.value_size)
                         : std::string_view(a.value, a.value_size);
    }
    const Binding* lookup(std::string_view prefix) const noexcept;

    MarcRecordBuilder& builder_;
    MarcXmlNames names_;
    Where where_ = Where::start;
    bool fail_ = false;
    std::vector<Open> open_;
    std::string names_buf_;  // raw names of the open elements
    std::vector<Binding> bindings_;
    std::int32_t default_ns_ = -1;  // index in bindings_ of the default namespace in scope
    std::vector<Attr> attrs_;
    std::string scratch_;  // decoded attribute values and text
};

}  // namespace rapidmarc::detail
