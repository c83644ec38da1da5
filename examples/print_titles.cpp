// Prints the title (245 $a $b) of every record in a MARC file: the smallest complete use of the
// C++ API. Usage: print_titles FILE.mrc
#include <rapidmarc/rapidmarc.hpp>

#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " FILE.mrc\n";
        return 2;
    }
    try {
        rapidmarc::RecordReader reader(std::make_unique<rapidmarc::FileSource>(argv[1]));
        rapidmarc::ParsedRecord parsed;
        rapidmarc::FramedRecord framed;
        std::size_t bad = 0;
        while (reader.next(framed)) {
            if (framed.error != rapidmarc::ErrorCode::ok) {
                std::cerr << reader.error_of(framed).message() << "\n";
                ++bad;
                continue;
            }
            std::string_view bytes = reader.bytes(framed);
            if (rapidmarc::parse_record(bytes, {}, parsed) != rapidmarc::ErrorCode::ok) {
                std::cerr << "record " << framed.index << ": " << parsed.detail << "\n";
                ++bad;
                continue;
            }
            rapidmarc::RecordView view(bytes, parsed.entries);
            std::string title;
            for (std::size_t i = 0; i < view.size(); ++i) {
                rapidmarc::FieldView field = view.field(i);
                if (field.tag() != "245") continue;
                for (const auto& sf : field.subfields())
                    if (sf.code == 'a' || sf.code == 'b') title.append(title.empty() ? "" : " ").append(sf.value);
                break;
            }
            std::cout << title << "\n";
        }
        return bad == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
