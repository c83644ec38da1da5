// Internal: the MARCXML record builder both XML engines feed (marcxml.cpp: expat; marcxml_scan.cpp:
// the hand-written scanner). It turns element and text events into the ISO 2709 bytes of each
// record, stubs and XmlLeaderLog entries (marcxml.hpp says what they are). Because both engines
// drive this one class, they produce the same bytes whenever they report the same events.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "iso_builder.hpp"
#include "rapidmarc/marcxml.hpp"
#include "rapidmarc/record_view.hpp"

namespace rapidmarc::detail {

// What an element is to the builder: not a MARC element (another namespace), a MARC element of
// another local name, or one of the five it reads.
enum class XmlElem : std::uint8_t { other, marc_other, record, leader, controlfield, datafield, subfield };

// The kind of the MARC element with local name `local` (never empty).
inline XmlElem marc_elem(std::string_view local) noexcept {
    const char* s = local.data();
    switch (local.size()) {
        case 6:
            if (std::memcmp(s, "record", 6) == 0) return XmlElem::record;
            if (std::memcmp(s, "leader", 6) == 0) return XmlElem::leader;
            break;
        case 8:
            if (std::memcmp(s, "subfield", 8) == 0) return XmlElem::subfield;
            break;
        case 9:
            if (std::memcmp(s, "datafield", 9) == 0) return XmlElem::datafield;
            break;
        case 12:
            if (std::memcmp(s, "controlfield", 12) == 0) return XmlElem::controlfield;
            break;
        default:
            break;
    }
    return XmlElem::marc_other;
}

// Which namespace an element is in, as far as MARC is concerned.
enum class XmlNs : std::uint8_t { none, slim, other };

// The kind of an element in namespace `ns` with local name `local` under the `names` rule.
inline XmlElem classify(XmlNs ns, std::string_view local, MarcXmlNames names) noexcept {
    switch (ns) {
        case XmlNs::none:
            if (names == MarcXmlNames::slim_only) return XmlElem::other;
            break;
        case XmlNs::slim:
            break;
        case XmlNs::other:
            if (names != MarcXmlNames::any) return XmlElem::other;
            break;
    }
    return marc_elem(local);
}

// The unprefixed attributes the builder reads (an unset one is absent).
struct MarcAttrs {
    std::optional<std::string_view> tag, ind1, ind2, code;
};

class MarcRecordBuilder {
public:
    // Records go to `out`; those with an index below `skip` are counted but neither written nor
    // logged (an engine taking over from another one that handed them out already).
    MarcRecordBuilder(std::string& out, std::shared_ptr<XmlLeaderLog> leaders, std::uint64_t skip = 0)
        : out_(out), leaders_(std::move(leaders)), skip_(skip) {}

    std::uint64_t emitted() const noexcept { return emitted_; }
    bool in_record() const noexcept { return in_record_; }

    // A start tag. Returns nullptr, or why the reader refuses the document.
    const char* start(XmlElem kind, const MarcAttrs& atts) {
        if (kind == XmlElem::other) return nullptr;
        text_.clear();
        if (kind == XmlElem::record) {
            if (in_record_) return "a record element inside a record";
            in_record_ = true;
            leader_.reset();
            problem_ = nullptr;
            iso_.clear();
            in_datafield_ = in_control_ = in_subfield_ = false;
            return nullptr;
        }
        if (!in_record_) return nullptr;
        if (kind == XmlElem::controlfield) {
            if (!atts.tag) return "a controlfield without a tag attribute";
            tag_.assign(*atts.tag);
            in_control_ = true;
        } else if (kind == XmlElem::datafield) {
            if (!atts.tag) return "a datafield without a tag attribute";
            tag_.assign(*atts.tag);
            const std::string_view i1 = atts.ind1 ? *atts.ind1 : " ", i2 = atts.ind2 ? *atts.ind2 : " ";
            iso_.begin_field();
            in_datafield_ = true;
            if (!one_byte(i1) || !one_byte(i2)) note("bad indicator");
            iso_.data().append(i1.substr(0, 1)).append(i2.substr(0, 1));
        } else if (kind == XmlElem::subfield) {
            if (!in_datafield_) return nullptr;
            if (!atts.code) return "a subfield without a code attribute";
            code_.assign(*atts.code);
            in_subfield_ = true;
        }
        return nullptr;
    }

    void end(XmlElem kind) {
        if (kind == XmlElem::other || !in_record_) return;
        switch (kind) {
            case XmlElem::record:
                in_record_ = false;
                finish_record();
                break;
            case XmlElem::leader:
                leader_ = text_;
                break;
            case XmlElem::controlfield:
                if (in_control_) {
                    in_control_ = false;
                    iso_.begin_field();
                    if (holds_delimiter(text_)) note("delimiter in data");
                    iso_.data().append(text_);
                    end_field(true);
                }
                break;
            case XmlElem::datafield:
                if (in_datafield_) {
                    in_datafield_ = false;
                    end_field(false);
                }
                break;
            case XmlElem::subfield:
                if (in_subfield_ && in_datafield_) {
                    in_subfield_ = false;
                    if (!one_byte(code_)) note("bad subfield code");
                    if (holds_delimiter(text_)) note("delimiter in data");
                    iso_.data().push_back(kSubfieldDelimiter);
                    iso_.data().append(std::string_view(code_).substr(0, 1));
                    iso_.data().append(text_);
                } else {
                    in_subfield_ = false;
                }
                break;
            default:
                break;
        }
        text_.clear();
    }

    // Character data (pymarc's rule: the characters since the last start or end of a MARC element).
    void text(std::string_view s) {
        if (in_record_) text_.append(s);
    }

private:
    // pymarc's Record() leader, for a record without a <leader> element.
    static constexpr std::string_view kDefaultLeader = "          22        4500";

    static bool all_ascii(std::string_view s) noexcept {
        return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    }
    static bool holds_delimiter(std::string_view s) noexcept {
        bool found = false;  // one pass, no early exit: the loop vectorizes (and XML text rarely holds one)
        for (const char c : s) found |= static_cast<unsigned char>(c - 0x1d) < 3;
        return found;
    }
    static bool one_byte(std::string_view s) noexcept {
        return s.size() == 1 && static_cast<unsigned char>(s[0]) < 0x80 && !holds_delimiter(s);
    }

    void note(const char* problem) {
        if (!problem_) problem_ = problem;
    }

    void end_field(bool control) {
        if (tag_.size() != 3 || !all_ascii(tag_) || holds_delimiter(tag_)) note("bad tag");
        else if (is_control_tag(tag_) != control) note(control ? "controlfield tag" : "datafield tag");
        iso_.end_field(tag_);
    }

    void finish_record() {
        const std::string_view xml_leader = leader_ ? std::string_view(*leader_) : kDefaultLeader;
        if (xml_leader.size() != kLeaderLength || !all_ascii(xml_leader)) note("bad leader");
        const std::uint64_t index = emitted_++;
        if (index < skip_) {
            iso_.clear();
            return;
        }
        // A record, or a stub for one ISO 2709 cannot hold (problem_, or a field too long).
        if (iso_.finish(out_, xml_leader, problem_).leader_changed && leaders_)
            leaders_->add(index, std::string(xml_leader));
    }

    std::string& out_;
    std::shared_ptr<XmlLeaderLog> leaders_;
    std::uint64_t skip_ = 0;
    std::uint64_t emitted_ = 0;

    // The record being read.
    bool in_record_ = false;
    bool in_datafield_ = false;
    bool in_control_ = false;
    bool in_subfield_ = false;
    std::optional<std::string> leader_;
    IsoRecordBuilder iso_;  // the record's directory and field data
    std::string tag_;
    std::string code_;
    const char* problem_ = nullptr;  // why ISO 2709 cannot hold the record (null: it can)
    std::string text_;
};

}  // namespace rapidmarc::detail
