// Percent-decoding and form parsing; see UrlCodec.hpp.
#include "http/UrlCodec.hpp"

namespace chat::http {
namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> UrlCodec::decode(std::string_view s, bool plusAsSpace) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (s.size() - i < 3) return std::nullopt;  // truncated escape
            int hi = hexValue(s[i + 1]);
            int lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plusAsSpace) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> UrlCodec::parseForm(std::string_view s) {
    std::map<std::string, std::string> form;
    std::size_t pairs = 0;
    while (!s.empty()) {
        std::size_t amp = s.find('&');
        std::string_view pair = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
        if (++pairs > kMaxFormPairs) return std::nullopt;

        std::size_t eq = pair.find('=');
        auto key = decode(pair.substr(0, eq), true);
        auto value = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value) return std::nullopt;
        form.try_emplace(std::move(*key), std::move(*value));
    }
    return form;
}

std::pair<std::string_view, std::string_view> UrlCodec::splitTarget(std::string_view target) {
    std::size_t q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

}  // namespace chat::http
