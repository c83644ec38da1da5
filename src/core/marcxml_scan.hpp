// Internal: a hand-written scanner for the subset of XML that MARCXML files use, feeding the
// record builder (marcxml_build.hpp) the same events expat would. It checks the well-formedness
// of everything it accepts; on anything outside its subset or any error it stops with `fallback`
// and reports nothing of the construct it stopped at, so that the caller can hand the document to
// expat (which then reports the error, or reads what the scanner does not, exactly as it always
// does). docs/formats.md ("The MARCXML scanner") lists the subset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "marcxml_build.hpp"

namespace rapidmarc::detail {

// A construct (tag, text, comment...) longer than this goes to expat, which streams it: what a
// reader feeding the scanner buffers at most beyond one chunk.
inline constexpr std::size_t kLongestXmlConstruct = std::size_t{64} << 20;

class XmlScanner {
public:
    enum class Status : std::uint8_t {
        more,      // consumed what it could; the rest is an incomplete construct: call again with more bytes
        done,      // the document ended well-formed (everything after it was consumed too)
        fallback,  // outside the subset, or an error: hand the document to expat
        boundary,  // stopped before a record start tag at or after the stop offset (stop_at_records_from)
    };

    XmlScanner(MarcRecordBuilder& builder, MarcXmlNames names) : builder_(builder), names_(names) {}

    // Scans the complete constructs at the start of [begin, end) and returns how many bytes it
    // consumed; `final` says no bytes follow `end`. The bytes not consumed must be passed again,
    // followed by more. After `done` or `fallback` it must not be called again.
    std::size_t scan(const char* begin, const char* end, bool final, Status& status);

    // Makes the following scan() calls stop (Status::boundary, the bytes before it consumed) before
    // the start tag of a MARC record outside a record (a top-level record: the boundaries the
    // parallel reader cuts a document at) that begins `offset` or more bytes after the `begin` of
    // that call; the tag is not consumed and changes nothing. SIZE_MAX (the default): never.
    void stop_at_records_from(std::size_t offset) noexcept { stop_from_ = offset; }

private:
    enum class Where : std::uint8_t { start, prolog, content, epilog };
    struct Open {
        std::uint32_t name_at;    // the raw qualified name, in names_
        std::uint32_t name_size;
        std::uint32_t bindings;   // bindings_.size() before this element's declarations
        std::int32_t default_ns;  // the default namespace binding before this element (-1: none)
        XmlElem kind;
        bool operator==(const Open&) const = default;
    };
    struct Binding {
        std::string prefix;  // empty for the default namespace
        std::string uri;     // empty: the default namespace undeclared
        XmlNs ns;
        bool operator==(const Binding&) const = default;
    };

public:
    // Everything the scanner knows between two constructs of the document: where it is, the open
    // elements and the namespaces in scope. Two scanners in the same state, fed the same bytes
    // from there, report the same events (the parallel reader relies on it: marcxml_parallel.cpp).
    struct State {
        Where where = Where::start;
        std::vector<Open> open;
        std::string names;
        std::vector<Binding> bindings;
        std::int32_t default_ns = -1;
        bool operator==(const State&) const = default;
        bool in_root() const noexcept { return !open.empty(); }  // inside the root element
    };
    // The state after the last construct scanned (not valid after `fallback`).
    State state() const { return State{where_, open_, names_buf_, bindings_, default_ns_}; }
    // Continues from `state` (a scanner that has not failed), as if it had scanned what led there.
    void restore(const State& state) {
        where_ = state.where;
        open_ = state.open;
        names_buf_ = state.names;
        bindings_ = state.bindings;
        default_ns_ = state.default_ns;
    }

private:
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
    const char* begin_ = nullptr;                // `begin` of the current scan() call
    std::size_t stop_from_ = SIZE_MAX;           // stop_at_records_from()
    bool stopped_ = false;                       // start_tag() stopped at a boundary
};

#ifdef RAPIDMARC_HAVE_EXPAT
// The sequential reading of `open`'s document again from its start, the first `skip` records read
// but not handed out (marcxml.cpp; the parallel reader's way back to the sequential result): the
// fast engine, or expat from the start when `expat` (where the scanner is known to hand over).
std::unique_ptr<ByteSource> marcxml_source_skipping(std::function<std::unique_ptr<ByteSource>()> open,
                                                    MarcXmlOptions options, std::string name, std::uint64_t skip,
                                                    bool expat);
#endif

}  // namespace rapidmarc::detail
