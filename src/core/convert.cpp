#include "rapidmarc/convert.hpp"

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "rapidmarc/export.hpp"
#include "rapidmarc/text.hpp"

namespace rapidmarc {

namespace {

// One batch converted by the thread that parsed it; the consumer only writes `text`.
struct ConvertPayload final : BatchPayload {
    ConvertFormat format = ConvertFormat::marc;  // what the hook wrote, checked by the consumer
    std::string text;                 // JSON: each record preceded by "," (the consumer drops the first)
    std::uint64_t written = 0;        // records converted
    std::uint64_t bad = 0;            // unreadable records
    std::uint64_t unconvertible = 0;  // readable records whose text did not convert (skipped)
};

void convert_batch(ConvertFormat format, const ParseOptions& parse, bool utf8_leader, Batch& batch) {
    auto payload = std::make_unique<ConvertPayload>();
    payload->format = format;
    std::string leader;  // a rewritten leader/09, when asked for
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!batch.readable(i)) {
            ++payload->bad;
            continue;
        }
        const ParsedRecord& parsed = batch.parsed[i];
        const std::string_view bytes = batch.record(i);
        if (format == ConvertFormat::marc) {
            payload->text.append(bytes);
            ++payload->written;
            continue;
        }
        ExportOptions options;
        options.encoding = text_encoding(parsed, parse);
        const RecordView view(bytes, parsed.entries);
        if (utf8_leader && view.leader().size() > 9 && view.leader()[9] != 'a') {
            leader.clear();
            append_text(view.leader(), TextEncoding::latin1, leader);
            leader[9] = 'a';  // a readable record's leader is ASCII (pymarc decodes it so), one byte each
            options.leader = leader;
        }
        const std::size_t mark = payload->text.size();
        ErrorCode rc;
        if (format == ConvertFormat::json) {
            payload->text.push_back(',');
            rc = append_json(view, options, JsonStyle::compact, payload->text);
        } else {
            rc = append_marcxml(view, options, XmlCharset::utf8, payload->text);
        }
        if (rc == ErrorCode::ok) {
            ++payload->written;
        } else {
            payload->text.resize(mark);  // the partial record goes; the document stays well-formed
            ++payload->unconvertible;
        }
    }
    batch.payload = std::move(payload);
}

std::string_view header(ConvertFormat format) noexcept {
    switch (format) {
        case ConvertFormat::json: return "[";
        case ConvertFormat::xml: return kMarcXmlCollectionStart;
        case ConvertFormat::marc: break;
    }
    return {};
}

std::string_view trailer(ConvertFormat format) noexcept {
    switch (format) {
        case ConvertFormat::json: return "]";
        case ConvertFormat::xml: return kMarcXmlCollectionEnd;
        case ConvertFormat::marc: break;
    }
    return {};
}

}  // namespace

std::optional<ConvertFormat> parse_convert_format(std::string_view name) noexcept {
    if (name == "json") return ConvertFormat::json;
    if (name == "xml") return ConvertFormat::xml;
    if (name == "marc") return ConvertFormat::marc;
    return std::nullopt;
}

std::function<void(Batch&)> convert_hook(ConvertFormat format, const ParseOptions& parse, bool utf8_leader) {
    if (format != ConvertFormat::marc && !parse.validate_text)
        throw std::invalid_argument("MARC-in-JSON and MARCXML need text: convert with ParseOptions::validate_text");
    return [format, parse, utf8_leader](Batch& batch) { convert_batch(format, parse, utf8_leader, batch); };
}

ConvertResult convert_stream(BatchStream& stream, ConvertFormat format, bool strict,
                             const std::function<void(std::string_view)>& write,
                             const std::function<void(std::uint64_t)>& progress) {
    const auto emit = [&](std::string_view text) {
        if (!text.empty()) write(text);
    };
    ConvertResult result;
    bool first = true;  // no record written yet (JSON: no "," before it)
    emit(header(format));
    drain(stream, strict, [&](Batch& batch) {
        if (batch.size() == 0) return;
        const auto* payload = dynamic_cast<const ConvertPayload*>(batch.payload.get());
        if (payload == nullptr || payload->format != format)
            throw std::invalid_argument("convert_stream: the stream was not opened with convert_hook(format)");
        result.read.add(batch);
        result.records += payload->written;
        result.bad += payload->bad;
        result.unconvertible += payload->unconvertible;
        std::string_view text = payload->text;
        if (format == ConvertFormat::json && first && !text.empty()) text.remove_prefix(1);
        if (!text.empty()) first = false;
        emit(text);
        if (progress) {
            const FramedRecord& last = batch.frames.back();
            progress(last.offset + last.size);
        }
    });
    emit(trailer(format));
    return result;
}

ConvertResult convert_file(const std::filesystem::path& input, std::FILE* out, ConvertFormat format,
                           const ReadOptions& options) {
    const auto fail = [] {
        throw std::system_error(errno != 0 ? errno : EIO, std::generic_category(), "cannot write the converted output");
    };
    std::unique_ptr<BatchStream> stream = open_batches(input, options, convert_hook(format, options.parse));
    const ConvertResult result = convert_stream(*stream, format, options.strict, [&](std::string_view text) {
        errno = 0;
        if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) fail();
    });
    errno = 0;
    if (std::fflush(out) != 0) fail();
    return result;
}

}  // namespace rapidmarc
