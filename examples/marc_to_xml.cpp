// Converts a MARC file to a MARCXML collection on stdout, as pymarc's XMLWriter would write it:
// the core's reader, parser and exporter, with no Python. Bad records are reported on stderr and
// skipped. Usage: marc_to_xml FILE.mrc > FILE.xml
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
        rapidmarc::ParseOptions parse_options;
        parse_options.validate_marc8 = true;  // a cut-off MARC-8 escape makes the record bad, as in pymarc
        rapidmarc::ParsedRecord parsed;       // reused: no allocation per record or field
        rapidmarc::FramedRecord framed;
        std::string out(rapidmarc::kMarcXmlCollectionStart);
        std::size_t bad = 0;
        while (reader.next(framed)) {
            if (framed.error != rapidmarc::ErrorCode::ok) {
                std::cerr << reader.error_of(framed).message() << "\n";
                ++bad;
                continue;
            }
            const std::string_view bytes = reader.bytes(framed);
            if (rapidmarc::parse_record(bytes, parse_options, parsed) != rapidmarc::ErrorCode::ok) {
                std::cerr << "record " << framed.index << ": " << parsed.detail << "\n";
                ++bad;
                continue;
            }
            rapidmarc::ExportOptions options;
            options.encoding = parsed.utf8 ? rapidmarc::TextEncoding::utf8 : rapidmarc::TextEncoding::marc8;
            const std::size_t mark = out.size();
            if (rapidmarc::append_marcxml(rapidmarc::RecordView(bytes, parsed.entries), options,
                                          rapidmarc::XmlCharset::utf8, out) != rapidmarc::ErrorCode::ok) {
                out.resize(mark);
                std::cerr << "record " << framed.index << ": text does not convert\n";
                ++bad;
            }
            if (out.size() > (1u << 20)) {  // flush in about 1 MiB pieces
                std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
                out.clear();
            }
        }
        out.append(rapidmarc::kMarcXmlCollectionEnd);
        std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
        return bad == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
