// libFuzzer target: a byte stream through every layer of the core, with properties checked.
//
//   * framing, parsing, views, selection, JSON/MARCXML export and Arrow columns never crash,
//     hang or read out of bounds (ASan + UBSan);
//   * the parallel reader yields exactly the sequential reader's records and errors (offsets,
//     sizes, error codes), with and without recovery, and converts them (convert.hpp) to the same
//     document with the same counts;
//   * Batch::error explains exactly the records Batch::readable rejects;
//   * exported JSON and ASCII MARCXML are pure ASCII; UTF-8 MARCXML and Arrow text are valid UTF-8;
//   * a parsed record rebuilt field by field parses again to the same fields.
//
// The first input byte chooses options; the rest is the stream. Build and run: `make fuzz`.
#include <rapidmarc/rapidmarc.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "property violated: %s\n", what);
        std::abort();
    }
}

struct Item {
    std::uint64_t offset, size;
    rapidmarc::ErrorCode frame, parse;
    bool operator==(const Item&) const = default;
};

std::vector<Item> drain(rapidmarc::BatchStream& stream) {
    std::vector<Item> out;
    while (auto batch = stream.next()) {
        for (std::size_t i = 0; i < batch->size(); ++i)
            out.push_back({batch->frames[i].offset, batch->frames[i].size, batch->frames[i].error, batch->parsed[i].error});
        stream.recycle(std::move(batch));
    }
    return out;
}

bool all_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

void exercise_record(std::string_view bytes, const rapidmarc::ParsedRecord& parsed) {
    using namespace rapidmarc;
    const RecordView view(bytes, parsed.entries);
    const TextEncoding enc = parsed.utf8 ? TextEncoding::utf8 : TextEncoding::marc8;

    std::size_t subfields = 0;
    for (std::size_t i = 0; i < view.size(); ++i)
        for (const SubfieldView& sf : view.field(i).subfields()) subfields += sf.value.size() + 1;
    (void)subfields;

    static const std::vector<FieldSpec> specs = {parse_field_spec("LDR"), parse_field_spec("001"),
                                                 parse_field_spec("245"), parse_field_spec("6XX$ax")};
    std::string scratch;
    for (const FieldSpec& spec : specs) for_each_value(view, spec, enc, scratch, [](std::string_view) {});
    const bool readable = !parsed.bad_subfield_code || subfield_codes_readable(view);
    ColumnBatch columns(specs.size());
    columns.append_row(view, specs, enc, scratch);
    check(columns.rows() == 1, "one row per record");
    // Arrow strings must be valid UTF-8: what the strict reader accepts converts to valid text.
    if (readable && (parsed.utf8 ? is_valid_utf8(view.bytes()) : true))
        for (std::size_t c = 0; c < columns.columns(); ++c)
            check(is_valid_utf8(columns.column(c).data), "Arrow text columns are valid UTF-8");

    ExportOptions options;
    options.encoding = enc;
    std::string json, xml;
    if (append_json(view, options, JsonStyle::spaced, json) == ErrorCode::ok) check(all_ascii(json), "JSON is ASCII");
    if (append_marcxml(view, options, XmlCharset::ascii, xml) == ErrorCode::ok) check(all_ascii(xml), "XML is ASCII");
    std::string utf8_xml;
    if (readable && append_marcxml(view, options, XmlCharset::utf8, utf8_xml) == ErrorCode::ok)
        check(is_valid_utf8(utf8_xml), "UTF-8 MARCXML is valid UTF-8");

    // Rebuilt field by field, the record parses to the same fields.
    RecordBuilder builder;
    builder.reset(view.leader());
    for (std::size_t i = 0; i < view.size(); ++i) builder.add_field(view.field(i).tag(), view.field(i).data());
    std::string rebuilt;
    if (builder.finish(rebuilt) != ErrorCode::ok) return;  // e.g. a field over 9,999 bytes
    ParseOptions lenient;
    lenient.validate_text = false;
    ParsedRecord again;
    check(parse_record(rebuilt, lenient, again) == ErrorCode::ok, "a rebuilt record parses");
    const RecordView view2(rebuilt, again.entries);
    check(view2.size() == view.size(), "same number of fields");
    for (std::size_t i = 0; i < view.size(); ++i) {
        check(view2.field(i).tag() == view.field(i).tag(), "same tags");
        check(view2.field(i).data() == view.field(i).data(), "same field data");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rapidmarc;
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    ReaderOptions ro;
    ro.recover = flags & 1;
    ro.read_oversize = !(flags & 2);
    ro.chunk_size = 64 + (flags >> 4) * 97;  // small chunks exercise the reader's buffer refills
    ParseOptions po;
    po.validate_marc8 = flags & 4;
    po.detect_encoding = flags & 8;

    BatchReader sequential(std::make_unique<MemorySource>(input), ro, po);
    std::vector<Item> expected;
    std::string bytes;
    while (auto batch = sequential.next()) {
        for (std::size_t i = 0; i < batch->size(); ++i) {
            expected.push_back(
                {batch->frames[i].offset, batch->frames[i].size, batch->frames[i].error, batch->parsed[i].error});
            if (batch->frames[i].error == ErrorCode::ok && batch->parsed[i].error == ErrorCode::ok)
                exercise_record(batch->record(i), batch->parsed[i]);
            const Error error = batch->error(i);
            check(batch->readable(i) == !error, "Batch::error explains exactly the unreadable records");
            if (error) check(error.record_index == batch->frames[i].index, "an error names its record");
        }
        sequential.recycle(std::move(batch));
    }

    // The parallel engine, cut into the smallest ranges it allows, must agree exactly.
    ParallelOptions pa;
    pa.workers = 2;
    pa.range_bytes = 4096;
    pa.reader = ro;
    pa.reader.chunk_size = ReaderOptions{}.chunk_size;
    pa.parse = po;
    ParallelReader parallel(RangeInput::memory(input), pa);
    check(drain(parallel) == expected, "parallel reader == sequential reader");

    // Conversion, sequential and parallel: the same document, the same counts.
    const ConvertFormat format = static_cast<ConvertFormat>((flags >> 4) % 3);
    const auto convert = [&](BatchStream& stream, std::string& text) {
        return convert_stream(stream, format, false, [&](std::string_view piece) { text += piece; });
    };
    BatchOptions bo;
    bo.process = convert_hook(format);
    BatchReader sequential_convert(std::make_unique<MemorySource>(input), ro, po, bo);
    pa.process = convert_hook(format);
    ParallelReader parallel_convert(RangeInput::memory(input), pa);
    std::string a, b;
    const ConvertResult ra = convert(sequential_convert, a), rb = convert(parallel_convert, b);
    check(a == b, "parallel conversion == sequential conversion");
    check(ra.records == rb.records && ra.bad == rb.bad && ra.unconvertible == rb.unconvertible,
          "parallel conversion counts == sequential counts");
    return 0;
}
