// MARCspec (https://marcspec.github.io/MARCspec/): parsed once, applied to records natively.
//
// A MARCspec names data in a record, like XPath for XML:
//   "LDR/6"             character 6 of the leader          "008/35-37"  characters 35 to 37 of 008
//   "008/35-#"          008 from character 35 to the end   "007/#"      the last character of 007
//   "245"               each 245's value (pymarc's Field.value(): subfields stripped, joined by a space)
//   "245$a"             every $a of every 245              "245$a-c"    $a, $b and $c (a range)
//   "245$a$b"           $a and $b, in field order          "6..$a"      '.' in a tag matches any character
//   "245^1"             indicator 1 of each 245            "650[0]"     the first 650 ("650[#]": the last)
//   "650[0-1]$a"        $a of the first two 650s           "650$a[0]"   the first $a of each 650
//   "650$a{^2=\0}"      $a of each 650 whose indicator 2 is '0' (a condition: a subspec)
//   "020$c{$q}"         $c of each 020 that has a $q       "245$a{LDR/6=\a}" $a of 245 when leader/06 is 'a'
// and the forms of select.hpp, which stay valid with the same values: "6XX$a" ('X' or 'x' is a
// wildcard too) and several codes after one '$' ("650$axz": $a, $x and $z in field order).
// docs/columns.md lists what is supported and what is refused (with the position and the reason).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rapidmarc/record_view.hpp"
#include "rapidmarc/select.hpp"
#include "rapidmarc/text.hpp"

namespace rapidmarc {

// A malformed or unsupported spec: what() names the spec, the position (0-based, in bytes) and why.
class MarcSpecError : public std::invalid_argument {
public:
    MarcSpecError(std::string_view spec, std::size_t position, std::string_view why);
    std::size_t position() const noexcept { return position_; }

private:
    std::size_t position_;
};

// A character position or an index: a number, or counted from the end ('#' is the last one).
struct SpecPosition {
    bool from_end = false;  // '#'
    std::uint32_t value = 0;
    bool operator==(const SpecPosition&) const = default;
};

// "n", "#", "n-m", "n-#", "#-m" (the last m+1), "#-#". A single position has start == end.
struct PositionRange {
    SpecPosition start, end;
    bool operator==(const PositionRange&) const = default;

    // The inclusive range [first, last] of `count` items this names; false when it names none.
    bool resolve(std::size_t count, std::size_t& first, std::size_t& last) const noexcept;
};

// Subfield codes with an optional index (per field: the n-th subfield with one of these codes) and
// character range.
struct SubfieldSelector {
    std::array<bool, 256> codes{};
    std::string code_list;  // the codes in the order written (for messages and the plain path)
    std::optional<PositionRange> index, chars;
    bool has(char code) const noexcept { return codes[static_cast<unsigned char>(code)]; }
};

struct MarcSpec;

enum class TermKind : std::uint8_t {
    string,     // a comparison string ("\abc")
    current,    // the value the enclosing spec is looking at, with other characters ("{/0=\a}")
    subfield,   // subfields of the field the enclosing spec is looking at ("{$a}")
    indicator,  // an indicator of that field ("{^2=\0}")
    record,     // a spec of its own, evaluated on the whole record ("{LDR/6=\a}", "{[1]}")
};

// One side of a condition.
struct SpecTerm {
    TermKind kind = TermKind::string;
    std::string literal;                    // string: unescaped
    std::optional<PositionRange> chars;     // current
    SubfieldSelector subfield;              // subfield
    int indicator = 0;                      // indicator: 1 or 2
    std::shared_ptr<const MarcSpec> spec;   // record (a spec without subspecs)
};

enum class SpecOperator : std::uint8_t { equal, not_equal, includes, not_includes, exists, not_exists };

struct SpecCondition {
    std::optional<SpecTerm> left;  // empty: the value the enclosing spec selects
    SpecOperator op = SpecOperator::exists;
    SpecTerm right;
};

// "{a|b}": true when one of its conditions is.
struct SubSpec {
    std::vector<SpecCondition> any_of;
};

struct SubfieldGroup {
    SubfieldSelector selector;
    std::vector<SubSpec> subspecs;  // all must hold for a subfield to be selected
};

enum class SpecKind : std::uint8_t { field, subfield, indicator };

struct MarcSpec {
    std::string text;  // as written
    SpecKind kind = SpecKind::field;
    std::string tag;   // three characters; '.' matches any character ('X' and 'x' are read as '.')
    bool leader = false;
    std::optional<PositionRange> index;  // which occurrences of the matching fields
    std::optional<PositionRange> chars;  // SpecKind::field: a character range of the value
    int indicator = 0;                   // SpecKind::indicator: 1 or 2
    std::vector<SubSpec> subspecs;       // per field (SpecKind::subfield: before the first '$')
    std::vector<SubfieldGroup> subfields;  // SpecKind::subfield: a subfield is selected by the first group it matches
    // Set when the spec selects exactly what a select.hpp FieldSpec selects: values come from the
    // plain for_each_value then (same values, same speed).
    std::optional<FieldSpec> plain;

    bool matches(std::string_view field_tag) const noexcept { return tag_matches(tag, field_tag); }
    static bool tag_matches(std::string_view pattern, std::string_view field_tag) noexcept;
};

// Parses a spec; throws MarcSpecError (an std::invalid_argument) if it is malformed or unsupported.
MarcSpec parse_marcspec(std::string_view text);

// Receives the values a spec selects; a value is valid only during the call.
class ValueSink {
public:
    virtual void value(std::string_view v) = 0;

protected:
    ~ValueSink() = default;
};

// Every value `spec` selects in `record`, in record order (fields, then subfields in field order).
// Text is as for_each_value (select.hpp) gives it; character positions count characters (code
// points) of that text, or bytes with TextEncoding::bytes.
void select_values(const RecordView& record, const MarcSpec& spec, TextEncoding encoding, ValueSink& sink);

// The same with a callable; the plain specs take select.hpp's inlined path.
template <class Emit>
void for_each_value(const RecordView& record, const MarcSpec& spec, TextEncoding encoding, std::string& scratch,
                    Emit&& emit) {
    if (spec.plain) {
        for_each_value(record, *spec.plain, encoding, scratch, emit);
        return;
    }
    struct Sink final : ValueSink {
        explicit Sink(Emit& e) : emit(e) {}
        void value(std::string_view v) override { emit(v); }
        Emit& emit;
    } sink(emit);
    select_values(record, spec, encoding, sink);
}

}  // namespace rapidmarc
