// Compressed input: gzip (RFC 1952) decompressed on the fly with zlib, so a .mrc.gz is read as
// the records it holds, by every front door (open_batches on a path, and so the Python package
// and the command line).
//
// A gzip stream can only be decompressed in order, so a compressed file is read in one sequential
// pass: decompression and framing run on one worker thread, one batch ahead of the consumer
// (parsing, conversion or Python objects), never as byte ranges on a pool.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "rapidmarc/source.hpp"

namespace rapidmarc {

// True when this build has zlib (CMake found it); without it gunzip() throws.
bool gzip_supported() noexcept;

// True when `head` (the first bytes of an input, at least 2 of them) starts a gzip member.
constexpr bool is_gzip(std::string_view head) noexcept {
    return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b;
}

// A source that decompresses `compressed`, whose first bytes `already_read` have been taken from
// it already (to look at them). Members follow one another as `gzip -d` reads them (`cat a.gz
// b.gz` is one stream). Corrupt data, a checksum mismatch, or input that ends inside a member
// throw std::system_error (EIO) naming `name`: a damaged .gz is an error, never a quiet end of the
// records. cancel() reaches the compressed source.
std::unique_ptr<ByteSource> gunzip(std::unique_ptr<ByteSource> compressed, std::string_view already_read = {},
                                   std::string name = "gzip input");

// A source that reads `source` as it is, or decompressed when its first two bytes are gzip's:
// decided at the first read (so a quiet pipe is waited for by whoever reads, cancellably, not by
// the caller that opens it).
std::unique_ptr<ByteSource> maybe_gunzip(std::unique_ptr<ByteSource> source, std::string name);

}  // namespace rapidmarc
