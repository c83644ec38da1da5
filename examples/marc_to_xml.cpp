// Converts a MARC file to a MARCXML collection on stdout, as pymarc's XMLWriter would write it:
// the core's reader, parser and exporter (convert.hpp), with no Python. Bad records are skipped and
// counted on stderr. Usage: marc_to_xml FILE.mrc > FILE.xml
#include <rapidmarc/rapidmarc.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE.mrc\n", argv[0]);
        return 2;
    }
    try {
        // The defaults read as pymarc's MARCReader does (and as `rapidmarc convert`): a record it
        // rejects is skipped here too; parsing runs one batch ahead on a worker thread.
        const rapidmarc::ReadOptions options;
        const rapidmarc::ConvertResult r =
            rapidmarc::convert_file(argv[1], stdout, rapidmarc::ConvertFormat::xml, options);
        std::fprintf(stderr, "%llu records written (%llu bad records skipped, %llu unconvertible)\n",
                     static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.bad),
                     static_cast<unsigned long long>(r.unconvertible));
        return r.bad == 0 && r.unconvertible == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
}
