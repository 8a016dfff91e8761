// Whether bytes are well-formed UTF-8: what WebSocket text frames must be (RFC 6455 8.1) and
// what MariaDB's utf8mb4 columns take. Pure; used by the frame reader and the API's params.
#pragma once
#include <string_view>

namespace chat::proto {

// True if `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool validUtf8(std::string_view bytes);

}  // namespace chat::proto
