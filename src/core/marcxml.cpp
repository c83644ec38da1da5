#include "rapidmarc/marcxml.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include "rapidmarc/compressed.hpp"
#include "rapidmarc/record_view.hpp"

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

// pymarc's Record() leader, for a record without a <leader> element.
constexpr std::string_view kDefaultLeader = "          22        4500";

// Writes `value` as `width` decimal digits, saturated at the largest such number.
void put_number(char* dst, std::size_t width, std::size_t value) {
    std::size_t max = 1;
    for (std::size_t i = 0; i < width; ++i) max *= 10;
    value = std::min(value, max - 1);
    for (std::size_t i = width; i-- > 0;) {
        dst[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

bool all_ascii(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool holds_delimiter(std::string_view s) noexcept {
    return s.find_first_of("\x1d\x1e\x1f") != std::string_view::npos;
}

class MarcXmlSource final : public ByteSource {
public:
    MarcXmlSource(std::unique_ptr<ByteSource> in, MarcXmlOptions options, std::string name)
        : in_(std::move(in)), options_(std::move(options)), name_(std::move(name)),
          chunk_(std::max<std::size_t>(options_.chunk_size, 4096)) {
        // Namespace processing with a blank separator, as Python's expat reader: names arrive as
        // "uri local" (or "local" in no namespace), prefixes resolved.
        parser_ = XML_ParserCreateNS(nullptr, ' ');
        if (!parser_) throw std::system_error(ENOMEM, std::generic_category(), name_ + ": cannot start expat");
        XML_SetUserData(parser_, this);
        XML_SetElementHandler(parser_, &MarcXmlSource::on_start, &MarcXmlSource::on_end);
        XML_SetCharacterDataHandler(parser_, &MarcXmlSource::on_text);
    }
    ~MarcXmlSource() override { XML_ParserFree(parser_); }
    MarcXmlSource(const MarcXmlSource&) = delete;
    MarcXmlSource& operator=(const MarcXmlSource&) = delete;

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
            if (pending_) failure_.emplace(*pending_, pending_line_, pending_column_, emitted_, name_);
            else
                failure_.emplace(XML_ErrorString(XML_GetErrorCode(parser_)), XML_GetCurrentLineNumber(parser_),
                                 XML_GetCurrentColumnNumber(parser_), emitted_, name_);
            done_ = true;
            return;
        }
        if (final) done_ = true;
    }

    // Stops the parser with an error of our own (a C callback must not throw).
    void refuse(std::string reason) {
        if (pending_) return;
        pending_ = std::move(reason);
        pending_line_ = XML_GetCurrentLineNumber(parser_);
        pending_column_ = XML_GetCurrentColumnNumber(parser_);
        XML_StopParser(parser_, XML_FALSE);
    }

    // The local name of a MARC element, or empty for an element of another namespace.
    std::string_view marc_name(const XML_Char* name) const noexcept {
        const std::string_view full(name);
        const std::size_t space = full.rfind(' ');
        if (space == std::string_view::npos) return options_.names == MarcXmlNames::slim_only ? std::string_view() : full;
        const std::string_view uri = full.substr(0, space);
        if (options_.names != MarcXmlNames::any && uri != kMarcXmlNamespace) return {};
        return full.substr(space + 1);
    }

    static const XML_Char* attribute(const XML_Char** atts, std::string_view name) noexcept {
        for (; *atts; atts += 2)
            if (name == atts[0]) return atts[1];  // an unprefixed attribute has no namespace: its bare name
        return nullptr;
    }

    static void on_start(void* self, const XML_Char* name, const XML_Char** atts) {
        static_cast<MarcXmlSource*>(self)->start(name, atts);
    }
    static void on_end(void* self, const XML_Char* name) { static_cast<MarcXmlSource*>(self)->end(name); }
    static void on_text(void* self, const XML_Char* s, int len) {
        auto* me = static_cast<MarcXmlSource*>(self);
        if (me->in_record_) me->text_.append(s, static_cast<std::size_t>(len));
    }

    void start(const XML_Char* raw, const XML_Char** atts) {
        const std::string_view name = marc_name(raw);
        if (name.empty()) return;
        text_.clear();
        if (name == "record") {
            if (in_record_) return refuse("a record element inside a record");
            in_record_ = true;
            leader_.reset();
            problem_.clear();
            data_.clear();
            directory_.clear();
            in_datafield_ = in_control_ = in_subfield_ = long_field_ = false;
            return;
        }
        if (!in_record_) return;
        if (name == "controlfield") {
            const XML_Char* tag = attribute(atts, "tag");
            if (!tag) return refuse("a controlfield without a tag attribute");
            tag_ = tag;
            in_control_ = true;
        } else if (name == "datafield") {
            const XML_Char* tag = attribute(atts, "tag");
            if (!tag) return refuse("a datafield without a tag attribute");
            tag_ = tag;
            const XML_Char* ind1 = attribute(atts, "ind1");
            const XML_Char* ind2 = attribute(atts, "ind2");
            const std::string_view i1 = ind1 ? ind1 : " ", i2 = ind2 ? ind2 : " ";
            field_start_ = data_.size();
            in_datafield_ = true;
            if (i1.size() != 1 || i2.size() != 1 || !all_ascii(i1) || !all_ascii(i2) || holds_delimiter(i1) ||
                holds_delimiter(i2))
                note("bad indicator");
            data_.append(i1.substr(0, 1)).append(i2.substr(0, 1));
        } else if (name == "subfield") {
            if (!in_datafield_) return;
            const XML_Char* code = attribute(atts, "code");
            if (!code) return refuse("a subfield without a code attribute");
            code_ = code;
            in_subfield_ = true;
        }
    }

    void end(const XML_Char* raw) {
        const std::string_view name = marc_name(raw);
        if (name.empty()) return;
        if (!in_record_) return;
        if (name == "record") {
            in_record_ = false;
            finish_record();
        } else if (name == "leader") {
            leader_ = text_;
        } else if (name == "controlfield" && std::exchange(in_control_, false)) {
            field_start_ = data_.size();
            if (holds_delimiter(text_)) note("delimiter in data");
            data_.append(text_);
            end_field(true);
        } else if (name == "datafield" && in_datafield_) {
            in_datafield_ = false;
            end_field(false);
        } else if (name == "subfield" && std::exchange(in_subfield_, false) && in_datafield_) {
            if (code_.size() != 1 || !all_ascii(code_) || holds_delimiter(code_)) note("bad subfield code");
            if (holds_delimiter(text_)) note("delimiter in data");
            data_.push_back('\x1f');
            data_.append(code_.substr(0, 1));
            data_.append(text_);
        }
        text_.clear();
    }

    void note(const char* problem) {
        if (problem_.empty()) problem_ = problem;
    }

    void end_field(bool control) {
        if (tag_.size() != 3 || !all_ascii(tag_) || holds_delimiter(tag_)) note("bad tag");
        else if (is_control_tag(tag_) != control) note(control ? "controlfield tag" : "datafield tag");
        data_.push_back(kFieldTerminator);
        const std::size_t length = data_.size() - field_start_;
        if (length > 9999) long_field_ = true;
        char entry[12];
        std::memcpy(entry, tag_.data(), std::min<std::size_t>(tag_.size(), 3));
        if (tag_.size() < 3) std::fill(entry + tag_.size(), entry + 3, ' ');
        put_number(entry + 3, 4, length);
        put_number(entry + 7, 5, field_start_);
        directory_.append(entry, sizeof entry);
    }

    void finish_record() {
        const std::size_t base = kLeaderLength + directory_.size() + 1;
        const std::size_t total = base + data_.size() + 1;
        std::string_view xml_leader = leader_ ? std::string_view(*leader_) : kDefaultLeader;
        if (xml_leader.size() != kLeaderLength || !all_ascii(xml_leader)) note("bad leader");
        if (long_field_ && total <= kMaxRecordLength) note("field>9999 bytes");
        long_field_ = false;
        const std::uint64_t index = emitted_++;
        if (!problem_.empty()) {
            // Fewer bytes than a leader: framed as one record, parsed as leader_invalid.
            std::string stub = "00000" + problem_.substr(0, kLeaderLength - 7) + '\x1d';
            put_number(stub.data(), 5, stub.size());
            out_.append(stub);
            return;
        }
        const std::size_t mark = out_.size();
        out_.append(xml_leader);
        put_number(out_.data() + mark, 5, total);
        put_number(out_.data() + mark + 12, 5, base);
        out_[mark + 9] = 'a';  // the bytes are UTF-8, whatever the XML's leader says
        if (options_.leaders && std::string_view(out_).substr(mark, kLeaderLength) != xml_leader)
            options_.leaders->add(index, std::string(leader_ ? std::string_view(*leader_) : kDefaultLeader));
        out_.append(directory_);
        out_.push_back(kFieldTerminator);
        out_.append(data_);
        out_.push_back(kRecordTerminator);
    }

    std::unique_ptr<ByteSource> in_;
    MarcXmlOptions options_;
    std::string name_;
    std::vector<char> chunk_;
    XML_Parser parser_ = nullptr;
    std::string out_;  // records handed out by read()
    std::size_t out_pos_ = 0;
    bool done_ = false;
    std::uint64_t emitted_ = 0;
    std::optional<XmlError> failure_;  // raised once the records before it are handed out
    std::optional<std::string> pending_;  // our own error, raised after XML_Parse returns
    std::uint64_t pending_line_ = 0, pending_column_ = 0;

    // The record being read.
    bool in_record_ = false;
    bool in_datafield_ = false;
    bool long_field_ = false;
    std::optional<std::string> leader_;
    std::string directory_;
    std::string data_;  // field data, each field terminated
    std::size_t field_start_ = 0;
    std::string tag_;
    std::string code_;
    std::string problem_;  // why ISO 2709 cannot hold the record (empty: it can)
    bool in_control_ = false;
    bool in_subfield_ = false;
    std::string text_;  // the characters since the last start or end of a MARC element (pymarc's rule)
};

}  // namespace

std::unique_ptr<ByteSource> marcxml_source(std::unique_ptr<ByteSource> xml, MarcXmlOptions options, std::string name) {
    return std::make_unique<MarcXmlSource>(std::move(xml), std::move(options), std::move(name));
}

#else

std::unique_ptr<ByteSource> marcxml_source(std::unique_ptr<ByteSource>, MarcXmlOptions, std::string name) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            name + ": MARCXML, and this build of rapidmarc has no expat (read it with parse_xml_to_array)");
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

std::unique_ptr<BatchStream> open_marcxml_batches(const std::filesystem::path& path, const ReadOptions& options,
                                                  std::function<void(Batch&)> process, MarcXmlOptions xml) {
    const ReadOptions read = marcxml_read_options(options);
    auto source = maybe_gunzip(std::make_unique<FileSource>(path), path.string());
    return std::make_unique<BatchReader>(marcxml_source(std::move(source), std::move(xml), path.string()),
                                         read.framing, read.parse,
                                         xml_batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_marcxml_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                         std::function<void(Batch&)> process, MarcXmlOptions xml) {
    const ReadOptions read = marcxml_read_options(options);
    return std::make_unique<BatchReader>(marcxml_source(std::make_unique<MemorySource>(bytes), std::move(xml)),
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
