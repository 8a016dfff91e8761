// Content-Type for a static file, by its extension. Used by the static file handler; uploads are
// typed by ContentSniffer instead, so a name never decides what a browser executes.
#pragma once
#include <string_view>

namespace chat::http {

class MimeTypes {
public:
    // Case-insensitive on the extension of the last path segment; text types carry
    // "; charset=utf-8". Unknown or missing extensions give application/octet-stream.
    static std::string_view forPath(std::string_view path);
};

}  // namespace chat::http
