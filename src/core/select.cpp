#include "rapidmarc/select.hpp"

#include <stdexcept>

namespace rapidmarc {

bool FieldSpec::matches(std::string_view field_tag) const noexcept {
    if (field_tag.size() != 3) return false;
    for (std::size_t i = 0; i < 3; ++i)
        if (tag[i] != 'X' && tag[i] != field_tag[i]) return false;
    return true;
}

FieldSpec parse_field_spec(std::string_view text) {
    auto fail = [&](const char* why) {
        throw std::invalid_argument("invalid field spec '" + std::string(text) + "': " + why +
                                    " (expected LDR, a tag such as 245 or 6XX, or a tag with subfield codes "
                                    "such as 245$a or 650$ax)");
    };
    FieldSpec spec;
    spec.text = std::string(text);
    const std::size_t dollar = text.find('$');
    const std::string_view tag = text.substr(0, dollar);
    if (tag.size() != 3) fail("a tag has three characters");
    for (char c : tag) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) fail("a tag is made of printable ASCII characters");
    }
    spec.tag = std::string(tag);
    for (char& c : spec.tag)
        if (c == 'x') c = 'X';
    spec.leader = spec.tag == "LDR";
    if (dollar != std::string_view::npos) {
        if (spec.leader) fail("the leader has no subfields");
        const std::string_view codes = text.substr(dollar + 1);
        if (codes.empty()) fail("no subfield code after '$'");
        for (char c : codes) {
            const auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u >= 0x7f) fail("subfield codes are printable ASCII characters");
        }
        spec.codes = std::string(codes);
    }
    return spec;
}

}  // namespace rapidmarc
