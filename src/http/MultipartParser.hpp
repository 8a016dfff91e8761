// multipart/form-data (RFC 7578) body parser for uploads. Pure: no I/O, no copies of part data.
// Used by the upload handler, which then sniffs each part's bytes with ContentSniffer.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::http {

struct MultipartPart {
    std::string name;
    // Client-supplied and untrusted: use it for logging only, never for paths, names or types.
    std::string filename;
    std::string contentType;  // as sent; likewise untrusted
    std::string_view data;    // points into the body passed to parse()
};

class MultipartParser {
public:
    static constexpr std::size_t kMaxBoundary = 70;          // RFC 2046
    static constexpr std::size_t kMaxPartHeaders = 8 << 10;  // a part's header block, in bytes

    // contentType is the request's Content-Type header value (multipart/form-data; boundary=...;
    // the boundary may be quoted). Returns nullopt for anything malformed: missing or oversized
    // boundary, no closing delimiter, a part without Content-Disposition: form-data and a name,
    // more than maxParts parts, a part's headers over kMaxPartHeaders.
    // The returned views point into body, which must outlive them.
    static std::optional<std::vector<MultipartPart>> parse(std::string_view body, std::string_view contentType,
                                                           std::size_t maxParts = 16);
};

}  // namespace chat::http
