// A Python source (a path, a bytes-like object or a binary file object) as a native batch stream
// (input.hpp of the core), opened with the reading options.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "binding.hpp"
#include "options.hpp"

namespace rapidmarc::binding {

// How rapidmarc.options classifies a source (its _PATH, _BYTES, _FILE).
enum SourceKind { kPath = 0, kBytes = 1, kFile = 2 };
// Bits over the kind (rapidmarc.options): the source is MARCXML, and which elements are MARC
// elements (marcxml.hpp: MarcXmlNames; neither bit: the slim namespace or none).
// kJson: the source is MARC-in-JSON (marcjson.hpp).
enum SourceFlags { kKindMask = 3, kXml = 4, kXmlSlimOnly = 8, kXmlAnyNamespace = 16, kJson = 32 };

struct NativeInput {
    nb::object keep;                     // the bytes object or file object the stream reads
    std::unique_ptr<std::string> owned;  // a copy of a mutable buffer
    std::unique_ptr<BatchStream> stream;
    std::shared_ptr<XmlLeaderLog> xml_leaders;  // MARCXML or JSON read for Records: the leaders as written there
    std::shared_ptr<XmlLeaderLog> json_originals;  // JSON read for Records: the text of records not built natively
};

// Raises OSError for a system error about `path`.
[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path);

// The bytes of a bytes-like object, to be read without the GIL: a bytes object's own buffer (it
// is immutable; the caller keeps the object alive), or a copy in `owned` of a mutable buffer,
// taken while the buffer is still exported, since other threads could resize it once the GIL goes.
std::string_view borrow_bytes(nb::handle source, std::string& owned);

// Opens `source` as options.core.workers says (input.hpp): a path or bytes on worker threads, a
// file object always in the caller's thread (read with readinto() under the GIL, parsed without).
// `process` runs on every batch on the thread that parsed it.
// With the kXml bit, `source` is MARCXML (marcxml.hpp), read in one sequential pass; with
// `keep_xml_leaders`, NativeInput::xml_leaders is set. With the kJson bit, `source` is MARC-in-JSON
// (marcjson.hpp), read the same way; `keep_xml_leaders` also sets NativeInput::json_originals.
NativeInput open_input(nb::object source, int kind, const PyReadOptions& options,
                       std::function<void(Batch&)> process = {}, bool keep_xml_leaders = false);

// Every item of a read as ReadTally counts it, as a dict: good, bad, end (one past the last framed
// byte), first_error and stop (exception objects, or None). `stop` is the framing error reading
// stopped at (the last item; without recover nothing after it is read). `first_error` overrides
// the tally's when a Python codec failed first. (bulk.cpp)
nb::dict tally_dict(const ReadTally& t, const PyReadOptions& o, nb::object first_error = nb::none());
// At most this many bad items' exceptions are kept with an account (its counts are always exact):
// extract_arrow's summary and a Dask partition's alike.
inline constexpr std::size_t kKeptErrors = 100;

// Runs the Python signal handlers (with the GIL, briefly), so that Ctrl-C stops a long native
// loop between batches: raises what a handler raised (KeyboardInterrupt).
void check_signals();

// Strict mode stops at a bad record. First the input behind it is checked
// (BatchStream::check_rest): its damage (a corrupt .gz member whose garbage made the record bad) is
// raised instead. Then the record's error is raised. `calls_python`: the source is a Python file
// object (the GIL stays held).
[[noreturn]] void raise_strict(NativeInput& in, nb::handle error, bool calls_python);

// Hands every batch of `in` to on_batch(batch) in order, without the GIL (the core's drain), and
// lets Python's signal handlers run before each batch. In strict mode the first unreadable record
// stops it before its batch is handed out, and its exception is raised; on_batch may acquire the
// GIL and throw.
template <typename OnBatch>
void drain_batches(NativeInput& in, bool strict, OnBatch&& on_batch) {
    std::optional<Error> bad;
    {
        nb::gil_scoped_release release;
        try {
            drain(*in.stream, strict, [&](Batch& batch) {
                check_signals();
                on_batch(batch);
            });
        } catch (const ParseError& e) {
            bad = e.error();
        }
    }
    if (bad) raise_error_object(make_error(*bad));
}

}  // namespace rapidmarc::binding
