// Decides an uploaded file's type from its leading bytes, never from its name or the client's
// Content-Type. Used by the upload handler: whatever it does not recognise is refused, so nothing
// a browser could run (HTML, SVG, scripts) is ever served back from the upload folder.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace chat::http {

struct SniffedType {
    std::string mime;       // "image/png"
    std::string extension;  // ".png"; the stored file's name uses this, never the client's
    std::string kind;       // "image" | "audio" | "video"
};

class ContentSniffer {
public:
    // png, jpeg, gif, webp, ogg, mp3, wav, m4a, mp4, webm; anything else is nullopt.
    static std::optional<SniffedType> sniff(std::string_view bytes);
};

}  // namespace chat::http
