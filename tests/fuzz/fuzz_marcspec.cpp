// libFuzzer target: arbitrary bytes as a MARCspec. A spec parses or is refused with MarcSpecError
// (never another exception, a crash or a hang); a spec that parses selects from a few records
// without crashing, and its values are valid UTF-8 (character ranges never cut a character).
#include <rapidmarc/rapidmarc.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

std::string record(const std::vector<std::pair<std::string, std::string>>& fields) {
    rapidmarc::RecordBuilder b;
    b.reset("00000nam a2200000 a 4500");
    for (const auto& [tag, data] : fields) b.add_field(tag, data);
    std::string out;
    b.finish(out);
    return out;
}

const std::vector<std::string>& records() {
    static const std::vector<std::string> r = {
        record({{"001", "id1"},
                {"008", "850101s1851    nyu           000 1 eng d"},
                {"020", "  \x1f" "a0394170660\x1f" "qRandom House\x1f" "qpaperback\x1f" "c$4.95"},
                {"245", "10\x1f" "aMoby Dick /\x1f" "cHerman Melville."},
                {"650", " 0\x1f" "aWhales\x1f" "xFiction."},
                {"650", " 7\x1f" "aWhaling\x1f" "2fast"},
                {"880", "1 \x1f" "6245-01\x1f" "a\xd7\x99\xd7\xa6\xd7\x97\xd7\xa7 \xc3\xa9t\xc3\xa9"}}),
        record({}),
        record({{"245", ""}, {"650", "\x1f"}, {"008", ""}}),
    };
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rapidmarc;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    MarcSpec spec;
    try {
        spec = parse_marcspec(text);
    } catch (const MarcSpecError& e) {
        check(e.position() <= size, "an error's position is inside the spec");
        return 0;
    }
    std::string scratch;
    for (const std::string& bytes : records()) {
        ParsedRecord parsed;
        if (parse_record(bytes, {}, parsed) != ErrorCode::ok) continue;  // (they all do)
        const RecordView view(bytes, parsed.entries);
        for (TextEncoding enc : {TextEncoding::utf8, TextEncoding::bytes}) {
            for_each_value(view, spec, enc, scratch, [&](std::string_view v) {
                if (enc == TextEncoding::utf8) check(is_valid_utf8(v), "selected text is valid UTF-8");
            });
        }
    }
    return 0;
}
