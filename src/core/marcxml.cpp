#include "rapidmarc/marcxml.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include "rapidmarc/compressed.hpp"
#include "rapidmarc/input.hpp"
#include "rapidmarc/marcxml_parallel.hpp"
#include "rapidmarc/record_view.hpp"

#include "marcxml_build.hpp"
#include "marcxml_scan.hpp"

#ifdef RAPIDMARC_HAVE_EXPAT
#include <expat.h>
#endif

namespace rapidmarc {

XmlError::XmlError(std::string reason, std::uint64_t line, std::uint64_t column, std::uint64_t record_index,
                   const std::string& name)
    : std::runtime_error(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason +
                         " (record " + std::to_string(record_index) + ")"),
      reason_(std::move(reason)),
      line_(line),
      column_(column),
      record_index_(record_index) {}

void XmlLeaderLog::add(std::uint64_t index, std::string leader) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.emplace_back(index, std::move(leader));
}

std::optional<std::string> XmlLeaderLog::take(std::uint64_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!entries_.empty() && entries_.front().first < index) entries_.pop_front();
    if (entries_.empty() || entries_.front().first != index) return std::nullopt;
    std::string leader = std::move(entries_.front().second);
    entries_.pop_front();
    return leader;
}

std::deque<std::pair<std::uint64_t, std::string>> XmlLeaderLog::drain() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(entries_, {});
}

bool looks_like_xml(std::string_view head) noexcept {
    if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
    const std::size_t i = head.find_first_not_of(" \t\r\n");
    return i != std::string_view::npos && head[i] == '<';
}

ReadOptions marcxml_read_options(ReadOptions options) {
    options.parse.force_utf8 = true;
    options.parse.detect_encoding = false;  // the text is UTF-8: there is nothing to detect
    return options;
}

bool marcxml_supported() noexcept {
#ifdef RAPIDMARC_HAVE_EXPAT
    return true;
#else
    return false;
#endif
}

#ifdef RAPIDMARC_HAVE_EXPAT

namespace {

using detail::MarcAttrs;
using detail::MarcRecordBuilder;
using detail::XmlElem;
using detail::XmlNs;

// The expat engine: expat's events, fed to the record builder.
class ExpatSource final : public ByteSource {
public:
    // Records with an index below `skip` are read but not handed out (the fast engine handed them
    // out before it gave the document to expat).
    ExpatSource(std::unique_ptr<ByteSource> in, const MarcXmlOptions& options, std::string name,
                std::uint64_t skip = 0)
        : in_(std::move(in)), names_(options.names), name_(std::move(name)),
          chunk_(std::max<std::size_t>(options.chunk_size, 4096)), builder_(out_, options.leaders, skip) {
        // Namespace processing with a blank separator, as Python's expat reader: names arrive as
        // "uri local" (or "local" in no namespace), prefixes resolved.
        parser_ = XML_ParserCreateNS(nullptr, ' ');
        if (!parser_) throw std::system_error(ENOMEM, std::generic_category(), name_ + ": cannot start expat");
        XML_SetUserData(parser_, this);
        XML_SetElementHandler(parser_, &ExpatSource::on_start, &ExpatSource::on_end);
        XML_SetCharacterDataHandler(parser_, &ExpatSource::on_text);
    }
    ~ExpatSource() override { XML_ParserFree(parser_); }
    ExpatSource(const ExpatSource&) = delete;
    ExpatSource& operator=(const ExpatSource&) = delete;

    std::size_t read(char* dst, std::size_t n) override {
        while (out_pos_ == out_.size()) {
            out_.clear();
            out_pos_ = 0;
            if (failure_) throw *failure_;  // after the records completed before the error
            if (done_) return 0;
            step();
        }
        const std::size_t k = std::min(n, out_.size() - out_pos_);
        std::memcpy(dst, out_.data() + out_pos_, k);
        out_pos_ += k;
        return k;
    }

    void cancel() noexcept override { in_->cancel(); }

private:
    // Parses one more chunk of XML (or the end of the document), appending records to out_.
    void step() {
        const std::size_t got = in_->read(chunk_.data(), chunk_.size());
        const bool final = got == 0;
        if (XML_Parse(parser_, chunk_.data(), static_cast<int>(got), final ? 1 : 0) == XML_STATUS_ERROR) {
            if (pending_) failure_.emplace(*pending_, pending_line_, pending_column_, builder_.emitted(), name_);
            else
                failure_.emplace(XML_ErrorString(XML_GetErrorCode(parser_)), XML_GetCurrentLineNumber(parser_),
                                 XML_GetCurrentColumnNumber(parser_), builder_.emitted(), name_);
            done_ = true;
            return;
        }
        if (final) done_ = true;
    }

    // The kind of the element named `name` ("uri local" or "local").
    XmlElem kind_of(const XML_Char* name) const noexcept {
        const std::string_view full(name);
        const std::size_t space = full.rfind(' ');
        if (space == std::string_view::npos) return detail::classify(XmlNs::none, full, names_);
        const std::string_view uri = full.substr(0, space);
        return detail::classify(uri == kMarcXmlNamespace ? XmlNs::slim : XmlNs::other, full.substr(space + 1), names_);
    }

    static void on_start(void* self, const XML_Char* name, const XML_Char** atts) {
        auto* me = static_cast<ExpatSource*>(self);
        const XmlElem kind = me->kind_of(name);
        if (kind == XmlElem::other) return;
        MarcAttrs marc;
        // An unprefixed attribute has no namespace: its bare name (a prefixed one has a blank).
        for (; *atts; atts += 2) {
            const std::string_view an(atts[0]);
            if (an == "tag") marc.tag = atts[1];
            else if (an == "ind1") marc.ind1 = atts[1];
            else if (an == "ind2") marc.ind2 = atts[1];
            else if (an == "code") marc.code = atts[1];
        }
        if (const char* refusal = me->builder_.start(kind, marc)) me->refuse(refusal);
    }
    static void on_end(void* self, const XML_Char* name) {
        auto* me = static_cast<ExpatSource*>(self);
        me->builder_.end(me->kind_of(name));
    }
    static void on_text(void* self, const XML_Char* s, int len) {
        static_cast<ExpatSource*>(self)->builder_.text(std::string_view(s, static_cast<std::size_t>(len)));
    }

    // Stops the parser with an error of our own (a C callback must not throw).
    void refuse(const char* reason) {
        if (pending_) return;
        pending_ = reason;
        pending_line_ = XML_GetCurrentLineNumber(parser_);
        pending_column_ = XML_GetCurrentColumnNumber(parser_);
        XML_StopParser(parser_, XML_FALSE);
    }

    std::unique_ptr<ByteSource> in_;
    MarcXmlNames names_;
    std::string name_;
    std::vector<char> chunk_;
    XML_Parser parser_ = nullptr;
    std::string out_;  // records handed out by read()
    std::size_t out_pos_ = 0;
    MarcRecordBuilder builder_;
    bool done_ = false;
    std::optional<XmlError> failure_;  // raised once the records before it are handed out
    std::optional<std::string> pending_;  // our own error, raised after XML_Parse returns
    std::uint64_t pending_line_ = 0, pending_column_ = 0;
};

// The fast engine: the hand-written scanner (marcxml_scan.hpp) while the document stays in its
// subset; at the first construct outside it (or error) the document goes to expat from its start
// (`reopen`), which reads it again and hands out the records after those handed out already. With
// no `reopen` (MarcXmlEngine::scanner) that point is an error instead.
class FastSource final : public ByteSource {
public:
    // Records with an index below `skip` are read but not handed out (the parallel reader handed
    // them out before it read the document again).
    FastSource(std::function<std::unique_ptr<ByteSource>()> reopen, std::unique_ptr<ByteSource> in,
               MarcXmlOptions options, std::string name, std::uint64_t skip = 0)
        : reopen_(std::move(reopen)), in_(std::move(in)), options_(std::move(options)), name_(std::move(name)),
          chunk_(std::max<std::size_t>(options_.chunk_size, 4096)), builder_(out_, options_.leaders, skip),
          scanner_(builder_, options_.names) {}

    // An input that can be read again (a regular file, memory) never waits: a read then fills all
    // of `dst` (up to the end), so that the record reader frames whole chunks and batches stay
    // large (one 64 KiB step yields only a few dozen records: a batch each, one hand-over between
    // threads each, was 4,000 hand-overs for 100,000 records). Over a stream, a read returns what
    // one step produced, so records that have arrived are handed out at once.
    std::size_t read(char* dst, std::size_t n) override {
        std::size_t total = 0;
        while (total < n) {
            if (out_pos_ == out_.size()) {
                out_.clear();
                out_pos_ = 0;
                if (total > 0 && (!reopen_ || expat_ || failure_ || done_)) break;
                if (expat_) return expat_->read(dst, n);
                if (failure_) throw *failure_;  // after the records completed before it
                if (done_) return 0;
                step();
                continue;
            }
            const std::size_t k = std::min(n - total, out_.size() - out_pos_);
            std::memcpy(dst + total, out_.data() + out_pos_, k);
            out_pos_ += k;
            total += k;
        }
        return total;
    }

    void cancel() noexcept override {
        if (in_) in_->cancel();  // none after the hand-over
        if (expat_) expat_->cancel();
    }

private:
    // Reads one more chunk (more when a construct is longer than what is buffered: the scanner starts
    // an incomplete construct again, so the buffer grows geometrically) and scans what is complete.
    void step() {
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
            len_ -= pos_;
            pos_ = 0;
        }
        const std::size_t pending = len_;
        if (pending > detail::kLongestXmlConstruct) return hand_over();
        const std::size_t want = std::max(chunk_, pending);
        if (buf_.size() < pending + want) buf_.resize(pending + want);
        const std::size_t got = in_->read(buf_.data() + pending, want);
        len_ = pending + got;
        const bool final = got == 0;
        detail::XmlScanner::Status status{};
        pos_ = scanner_.scan(buf_.data(), buf_.data() + len_, final, status);
        switch (status) {
            case detail::XmlScanner::Status::done:
                done_ = true;
                buf_ = std::vector<char>();
                break;
            case detail::XmlScanner::Status::fallback:
            case detail::XmlScanner::Status::boundary:  // not asked for (no stop offset): never
                hand_over();
                break;
            case detail::XmlScanner::Status::more:
                if (final) hand_over();
                break;
        }
    }

    void hand_over() {
        buf_ = std::vector<char>();
        if (!reopen_) {
            failure_.emplace("outside the MARCXML scanner's subset", 0, 0, builder_.emitted(), name_);
            return;
        }
        in_.reset();
        expat_ = std::make_unique<ExpatSource>(reopen_(), options_, name_, builder_.emitted());
    }


    std::function<std::unique_ptr<ByteSource>()> reopen_;
    std::unique_ptr<ByteSource> in_;
    MarcXmlOptions options_;
    std::string name_;
    std::size_t chunk_;
    std::string out_;  // records handed out by read()
    std::size_t out_pos_ = 0;
    MarcRecordBuilder builder_;
    detail::XmlScanner scanner_;
    std::vector<char> buf_;  // XML bytes read: len_ of them, scanned up to pos_
    std::size_t len_ = 0;
    std::size_t pos_ = 0;
    bool done_ = false;
    std::unique_ptr<ExpatSource> expat_;  // after the hand-over
    std::optional<XmlError> failure_;     // the scanner alone stopped (no hand-over)
};

}  // namespace

std::unique_ptr<ByteSource> detail::marcxml_source_skipping(std::function<std::unique_ptr<ByteSource>()> open,
                                                            MarcXmlOptions options, std::string name,
                                                            std::uint64_t skip, bool expat) {
    if (expat) return std::make_unique<ExpatSource>(open(), options, std::move(name), skip);
    auto first = open();
    return std::make_unique<FastSource>(std::move(open), std::move(first), std::move(options), std::move(name), skip);
}

std::unique_ptr<ByteSource> marcxml_source(std::unique_ptr<ByteSource> xml, MarcXmlOptions options, std::string name) {
    if (options.engine == MarcXmlEngine::scanner)
        return std::make_unique<FastSource>(nullptr, std::move(xml), std::move(options), std::move(name));
    return std::make_unique<ExpatSource>(std::move(xml), options, std::move(name));
}

std::unique_ptr<ByteSource> marcxml_source(std::function<std::unique_ptr<ByteSource>()> open, MarcXmlOptions options,
                                           std::string name) {
    switch (options.engine) {
        case MarcXmlEngine::expat:
            return std::make_unique<ExpatSource>(open(), options, std::move(name));
        case MarcXmlEngine::scanner:
            return std::make_unique<FastSource>(nullptr, open(), std::move(options), std::move(name));
        case MarcXmlEngine::fast:
            break;
    }
    auto first = open();
    return std::make_unique<FastSource>(std::move(open), std::move(first), std::move(options), std::move(name));
}

#else

std::unique_ptr<ByteSource> marcxml_source(std::unique_ptr<ByteSource>, MarcXmlOptions, std::string name) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            name + ": MARCXML, and this build of rapidmarc has no expat (read it with parse_xml_to_array)");
}

std::unique_ptr<ByteSource> marcxml_source(std::function<std::unique_ptr<ByteSource>()>, MarcXmlOptions,
                                           std::string name) {
    return marcxml_source(std::unique_ptr<ByteSource>(), {}, std::move(name));
}

#endif

namespace {

BatchOptions xml_batch_options(bool background, std::function<void(Batch&)> process) {
    BatchOptions bo;
    bo.background = background;
    bo.process = std::move(process);
    return bo;
}

}  // namespace

// True when a document that can be read by ranges is read on a pool (MarcXmlParallelReader).
static bool xml_in_parallel(const ReadOptions& options, const MarcXmlOptions& xml) noexcept {
    return wants_parallel(options) && xml.engine == MarcXmlEngine::fast && marcxml_supported();
}

std::unique_ptr<BatchStream> open_marcxml_batches(const std::filesystem::path& path, const ReadOptions& options,
                                                  std::function<void(Batch&)> process, MarcXmlOptions xml) {
    const ReadOptions read = marcxml_read_options(options);
    std::error_code regular_ec;
    if (xml_in_parallel(options, xml) && std::filesystem::is_regular_file(path, regular_ec)) {
        // A plain regular file is cut into byte ranges; a gzip one is decompressed in order (below).
        auto file = std::make_shared<FileSource>(path);
        char head[2] = {};
        const std::size_t got = file->seekable() && file->size() >= 2 ? file->read_at(head, 2, 0) : 0;
        if (file->seekable() && !is_gzip(std::string_view(head, got)))
            return std::make_unique<MarcXmlParallelReader>(RangeInput::file(std::move(file)),
                                                           parallel_options(read, std::move(process)), std::move(xml),
                                                           path.string());
    }
    auto open = [path]() -> std::unique_ptr<ByteSource> {
        return maybe_gunzip(std::make_unique<FileSource>(path), path.string());
    };
    // Only a regular file can be read again from its start (a named pipe, /dev/stdin: a stream).
    std::error_code ec;
    auto source = std::filesystem::is_regular_file(path, ec)
                      ? marcxml_source(std::move(open), std::move(xml), path.string())
                      : marcxml_source(open(), std::move(xml), path.string());
    return std::make_unique<BatchReader>(std::move(source),
                                         read.framing, read.parse,
                                         xml_batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_marcxml_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                         std::function<void(Batch&)> process, MarcXmlOptions xml) {
    const ReadOptions read = marcxml_read_options(options);
    if (xml_in_parallel(options, xml))
        return std::make_unique<MarcXmlParallelReader>(RangeInput::memory(bytes),
                                                       parallel_options(read, std::move(process)), std::move(xml));
    auto open = [bytes]() -> std::unique_ptr<ByteSource> { return std::make_unique<MemorySource>(bytes); };
    return std::make_unique<BatchReader>(marcxml_source(std::move(open), std::move(xml)),
                                         read.framing, read.parse,
                                         xml_batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_marcxml_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                                  std::function<void(Batch&)> process, MarcXmlOptions xml,
                                                  std::string name) {
    const ReadOptions read = marcxml_read_options(options);
    return std::make_unique<BatchReader>(marcxml_source(std::move(source), std::move(xml), std::move(name)),
                                         read.framing, read.parse, xml_batch_options(false, std::move(process)));
}

}  // namespace rapidmarc
