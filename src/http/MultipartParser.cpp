// multipart/form-data parsing; see MultipartParser.hpp.
#include "http/MultipartParser.hpp"

#include <utility>

namespace chat::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits `value; a=b; c="d;e"` into the leading token and its parameters, in order. A quoted value
// runs to the next '"': browsers percent-encode quotes in names and never use backslash escapes.
// nullopt on an unterminated quote or junk after one.
std::optional<std::pair<std::string_view, Params>> splitParams(std::string_view s) {
    std::size_t semi = s.find(';');
    std::string_view head = trim(s.substr(0, semi));
    Params params;
    s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
    while (!trim(s).empty()) {
        std::size_t eq = s.find('=');
        std::size_t next = s.find(';');
        if (eq == std::string_view::npos || (next != std::string_view::npos && next < eq)) {
            // A parameter without a value: skip it.
            s = next == std::string_view::npos ? std::string_view{} : s.substr(next + 1);
            continue;
        }
        std::string_view name = trim(s.substr(0, eq));
        std::string_view rest = s.substr(eq + 1);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        std::string_view value;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t close = rest.find('"', 1);
            if (close == std::string_view::npos) return std::nullopt;
            value = rest.substr(1, close - 1);
            rest.remove_prefix(close + 1);
            next = rest.find(';');
            if (!trim(rest.substr(0, next)).empty()) return std::nullopt;  // junk after the quote
        } else {
            next = rest.find(';');
            value = trim(rest.substr(0, next));
        }
        params.emplace_back(std::string(name), std::string(value));
        s = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    }
    return std::make_pair(head, std::move(params));
}

const std::string* findParam(const Params& params, std::string_view name) {
    for (const auto& [key, value] : params) {
        if (iequals(key, name)) return &value;  // the first one wins
    }
    return nullptr;
}

// RFC 2046 bchars; a space may not end the boundary.
bool validBoundary(std::string_view b) {
    if (b.empty() || b.size() > MultipartParser::kMaxBoundary || b.back() == ' ') return false;
    for (char c : b) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos) return false;
    }
    return true;
}

std::optional<std::string> boundaryOf(std::string_view contentType) {
    auto split = splitParams(contentType);
    if (!split || !iequals(split->first, "multipart/form-data")) return std::nullopt;
    const std::string* boundary = findParam(split->second, "boundary");
    if (!boundary || !validBoundary(*boundary)) return std::nullopt;
    return *boundary;
}

// Fills name, filename and contentType from a part's header block (lines joined by CRLF).
bool parseHeaders(std::string_view block, MultipartPart& part) {
    bool disposition = false;
    while (!block.empty()) {
        std::size_t eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Disposition")) {
            if (disposition) return false;
            auto split = splitParams(value);
            if (!split || !iequals(split->first, "form-data")) return false;
            const std::string* fieldName = findParam(split->second, "name");
            if (!fieldName) return false;
            const std::string* filename = findParam(split->second, "filename");
            part.name = *fieldName;
            part.filename = filename ? *filename : std::string();
            disposition = true;
        } else if (iequals(name, "Content-Type")) {
            part.contentType = std::string(value);
        }
    }
    return disposition;
}

}  // namespace

std::optional<std::vector<MultipartPart>> MultipartParser::parse(std::string_view body, std::string_view contentType,
                                                                 std::size_t maxParts) {
    auto boundary = boundaryOf(contentType);
    if (!boundary) return std::nullopt;
    const std::string dash = "--" + *boundary;
    const std::string delimiter = "\r\n" + dash;

    // The first delimiter may follow a preamble; then it, like every later one, starts with CRLF.
    std::size_t pos;
    if (body.substr(0, dash.size()) == dash) {
        pos = dash.size();
    } else {
        std::size_t found = body.find(delimiter);
        if (found == std::string_view::npos) return std::nullopt;
        pos = found + delimiter.size();
    }

    std::vector<MultipartPart> parts;
    for (;;) {
        // After a delimiter: "--" closes the body; otherwise optional padding and CRLF open a part.
        if (body.substr(pos, 2) == "--") return parts;
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        if (body.substr(pos, 2) != "\r\n") return std::nullopt;
        pos += 2;

        if (parts.size() == maxParts) return std::nullopt;
        // The header block ends at an empty line; search no further than the limit allows.
        if (body.substr(pos, 2) == "\r\n") return std::nullopt;  // no headers, so no Content-Disposition
        std::size_t headersEnd = body.substr(pos, kMaxPartHeaders + 4).find("\r\n\r\n");
        if (headersEnd == std::string_view::npos || headersEnd > kMaxPartHeaders) return std::nullopt;

        MultipartPart part;
        if (!parseHeaders(body.substr(pos, headersEnd), part)) return std::nullopt;
        std::size_t dataStart = pos + headersEnd + 4;
        std::size_t dataEnd = body.find(delimiter, dataStart);
        if (dataEnd == std::string_view::npos) return std::nullopt;
        part.data = body.substr(dataStart, dataEnd - dataStart);
        parts.push_back(std::move(part));
        pos = dataEnd + delimiter.size();
    }
}

}  // namespace chat::http
