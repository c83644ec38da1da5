// MARCXML input: a ByteSource that reads MARCXML from another ByteSource and hands out the ISO 2709
// bytes of each record, so the framing, parsing, batching and every consumer built on them
// (BatchReader, count, extract, Arrow columns, convert, the Python MARCReader) read XML unchanged.
//
// The XML layer is expat (when CMake found it; marcxml_supported() says), which checks
// well-formedness, decodes entities, character references and CDATA, resolves namespace prefixes
// and reports errors with line and column, exactly as Python's SAX parser (which is expat too)
// reports them; or, by default for an input that can be opened again, a hand-written scanner for
// the XML MARCXML files use, which hands the document to expat at anything outside its subset or
// any error, so that the result is expat's byte for byte (MarcXmlEngine; docs/formats.md, "The
// MARCXML scanner"). A document is streamed in chunks: memory is bounded by the chunk size plus
// the largest record (and the longest construct, for the scanner), whatever the length of the file.
//
// What is a MARC element: by default an element named record, leader, controlfield, datafield or
// subfield in the MARC 21 slim namespace (http://www.loc.gov/MARC21/slim), with or without a
// prefix, or in no namespace; elements in other namespaces (an OAI-PMH envelope) are skipped, their
// MARC descendants read. Text is what pymarc's XmlHandler collects: the characters since the last
// start or end of a MARC element.
//
// The records' bytes: the XML's leader (24 ASCII characters) with its record length (00-04) and
// base address (12-16) computed and leader/09 'a'; fields in document order; text in UTF-8, as the
// XML holds it, so the bytes are a consistent UTF-8 ISO 2709 record whatever the XML's leader/09
// said (a MARC-8 record written as MARCXML keeps its blank leader/09 over Unicode text). A
// consumer that wants the leader exactly as the XML wrote it (pymarc's parse_xml_to_array keeps
// it) takes it from an XmlLeaderLog. A record over 99,999 bytes is written as ISO 2709 frames such records in
// real files: record length 99999 and saturated directory numbers, which the reader frames by the
// record terminator and the parser reads by the field terminators (reader.hpp, read_oversize). A
// record that ISO 2709 cannot hold (a leader that is not 24 ASCII characters, a field of more than
// 9,999 bytes in a record under 100,000 bytes, a tag that is not 3 ASCII characters, an indicator
// or subfield code that is not one ASCII character, a controlfield with a data field's tag or a
// datafield with a control field's tag) is handed out as a short stub, "000NN" + the reason +
// record terminator, fewer bytes than a leader: the parser reports it as leader_invalid
// (pymarc's RecordLeaderInvalid), a bad record in its place, never a dropped one.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rapidmarc/input.hpp"
#include "rapidmarc/source.hpp"

namespace rapidmarc {

inline constexpr std::string_view kMarcXmlNamespace = "http://www.loc.gov/MARC21/slim";

// True when this build has expat (CMake found it); without it marcxml_source() throws.
bool marcxml_supported() noexcept;

// True when `head` (the first bytes of an input) looks like XML: '<' after an optional UTF-8 byte
// order mark and XML whitespace. ISO 2709 starts with a digit, so the two never meet.
bool looks_like_xml(std::string_view head) noexcept;

// A well-formedness error of the XML (or a structure the reader refuses), with where it is.
// `line` is 1-based and `column` 0-based, as expat and Python's xml.sax report them;
// `record_index` is the index of the record being read (the number of records handed out before).
class XmlError : public std::runtime_error {
public:
    XmlError(std::string reason, std::uint64_t line, std::uint64_t column, std::uint64_t record_index,
             const std::string& name);
    const std::string& reason() const noexcept { return reason_; }
    std::uint64_t line() const noexcept { return line_; }
    std::uint64_t column() const noexcept { return column_; }
    std::uint64_t record_index() const noexcept { return record_index_; }

private:
    std::string reason_;
    std::uint64_t line_;
    std::uint64_t column_;
    std::uint64_t record_index_;
};

// Which elements are MARC elements.
enum class MarcXmlNames : std::uint8_t {
    marc,       // the MARC 21 slim namespace or none (the default)
    slim_only,  // the MARC 21 slim namespace only (pymarc's XmlHandler(strict=True))
    any,        // any namespace, by local name (pymarc's XmlHandler(strict=False))
};

// The XML leaders that differ from the leaders of the bytes handed out (record length, base
// address and leader/09 set, or the default leader of a record without one), by record index, for a
// consumer that wants the leader exactly as the XML wrote it (pymarc's parse_xml_to_array keeps
// it). Filled by the source's thread, taken in order by the consumer's: thread-safe.
class XmlLeaderLog {
public:
    void add(std::uint64_t index, std::string leader);
    // The XML leader of record `index` if it differs; drops the entries of earlier records.
    std::optional<std::string> take(std::uint64_t index);
    // Every entry, in the order added; the log is empty afterwards.
    std::deque<std::pair<std::uint64_t, std::string>> drain();

private:
    std::mutex mutex_;
    std::deque<std::pair<std::uint64_t, std::string>> entries_;
};

// Which XML parser reads the document (docs/formats.md, "The MARCXML scanner").
enum class MarcXmlEngine : std::uint8_t {
    // A hand-written scanner for the XML that MARCXML files use, which checks what it reads and
    // hands the document to expat at the first construct outside its subset or error: the records,
    // stubs, leader log and errors are expat's, byte for byte. The hand-over reads the document
    // again from its start, so it needs an input that can be opened again (a path, memory:
    // marcxml_source(open, ...)); over a stream this engine is expat.
    fast,
    expat,    // expat throughout
    scanner,  // the scanner alone: where `fast` would hand over, an XmlError "outside the MARCXML
              // scanner's subset" at line 0 (tests and benchmarks)
};

struct MarcXmlOptions {
    MarcXmlNames names = MarcXmlNames::marc;
    MarcXmlEngine engine = MarcXmlEngine::fast;
    std::size_t chunk_size = std::size_t{1} << 16;  // XML bytes parsed per step
    std::shared_ptr<XmlLeaderLog> leaders;           // if set, filled (see XmlLeaderLog)
};

// A source of the ISO 2709 records of the MARCXML `xml`. Throws XmlError (message: "name:line:
// column: reason (record N)") for XML that is not well-formed, including input that ends before
// the document does, a nested record, and a controlfield, datafield or subfield without its tag
// or code attribute. Exceptions of `xml` propagate. cancel() reaches `xml`.
std::unique_ptr<ByteSource> marcxml_source(std::unique_ptr<ByteSource> xml, MarcXmlOptions options = {},
                                           std::string name = "<MARCXML>");
// The same over an input `open` can open again from its start (each call a new source of the same
// bytes), which lets the fast engine hand the document over to expat.
std::unique_ptr<ByteSource> marcxml_source(std::function<std::unique_ptr<ByteSource>()> open,
                                           MarcXmlOptions options = {}, std::string name = "<MARCXML>");

// `options` for reading what marcxml_source() hands out: text as UTF-8 (force_utf8, which changes
// nothing for its own bytes and keeps it so for a leader a consumer restores from XmlLeaderLog).
ReadOptions marcxml_read_options(ReadOptions options);

// Batch streams over MARCXML, as open_batches() over ISO 2709 (input.hpp). XML is read in one
// sequential pass: on a worker thread, one batch ahead, unless options.workers == 0 (any other
// value is taken as 1). A path may be gzip-compressed. The parse options are marcxml_read_options().
std::unique_ptr<BatchStream> open_marcxml_batches(const std::filesystem::path& path, const ReadOptions& options,
                                                  std::function<void(Batch&)> process = {},
                                                  MarcXmlOptions xml = {});
// `bytes` stays alive while the stream exists.
std::unique_ptr<BatchStream> open_marcxml_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                         std::function<void(Batch&)> process = {},
                                                         MarcXmlOptions xml = {});
// A sequential source read in the caller's thread (a callback into a language runtime).
std::unique_ptr<BatchStream> open_marcxml_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                                  std::function<void(Batch&)> process = {},
                                                  MarcXmlOptions xml = {}, std::string name = "<MARCXML>");

}  // namespace rapidmarc
