#include "proto/FrameParser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace chat::proto {

namespace {

using Json = nlohmann::json;

// Thrown only inside this file and turned into a FrameError at parse()'s boundary.
struct Invalid {
    std::string msg;
};

constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

// Limits are in characters, not bytes; the JSON parser has already checked the UTF-8.
std::size_t utf8Chars(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string cidOf(const Json& j) {
    auto it = j.find("id");
    if (it == j.end() || it->is_null()) it = j.find("cid");
    if (it == j.end() || it->is_null()) return {};
    if (it->is_string() && utf8Chars(it->get_ref<const std::string&>()) <= FrameParser::kMaxCidChars) return it->dump();
    if (it->is_number_integer()) return it->dump();
    throw Invalid{"id must be a string of at most 64 characters or an integer"};
}

std::int64_t positiveId(const Json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) throw Invalid{std::string(name) + " is required"};
    std::int64_t v = 0;
    if (it->is_number_integer()) {
        v = it->get<std::int64_t>();
    } else if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size())
            throw Invalid{std::string(name) + " must be a positive integer"};
    } else {
        throw Invalid{std::string(name) + " must be a positive integer"};
    }
    if (v <= 0 || v > kMaxSafeInteger) throw Invalid{std::string(name) + " must be a positive integer"};
    return v;
}

std::optional<std::string> text(const Json& j, const char* name, std::size_t maxChars) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw Invalid{std::string(name) + " must be a string"};
    const auto& s = it->get_ref<const std::string&>();
    if (utf8Chars(s) > maxChars) throw Invalid{std::string(name) + " is too long"};
    return s;
}

std::optional<std::string> link(const Json& j, const char* name) {
    auto s = text(j, name, FrameParser::kMaxUrlChars);
    if (s && !FrameParser::isSafeUrl(*s))
        throw Invalid{std::string(name) + " must be an http(s) URL or a path on this server"};
    return s;
}

std::optional<std::int64_t> amount(const Json& j) {
    auto it = j.find("amount");
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) throw Invalid{"amount must be a positive integer"};
    auto v = it->get<std::int64_t>();
    if (v <= 0 || v > FrameParser::kMaxAmount) throw Invalid{"amount must be a positive integer"};
    return v;
}

void require(bool present, const char* what) {
    if (!present) throw Invalid{what};
}

// The fields each media needs to be rendered as what it claims to be.
void checkMediaFields(const ChatMessage& m) {
    switch (m.media) {
        case Media::Text:
            require(m.content && !m.content->empty(), "text needs content");
            break;
        case Media::News:
            require(m.content && m.url, "news needs content (title) and url");
            break;
        case Media::Voice:
            require(m.url && m.amount, "voice needs url and amount (seconds)");
            break;
        case Media::Image:
            require(m.url.has_value(), "image needs url");
            break;
        case Media::RedPacket:
            require(m.amount.has_value(), "red packet needs amount (cents)");
            break;
        case Media::Emoji:
            require(m.content || m.url, "emoji needs content or url");
            break;
        case Media::Link:
            require(m.url.has_value(), "link needs url");
            break;
        case Media::Video:
            require(m.url.has_value(), "video needs url");
            break;
        case Media::Card:
            require(m.content && !m.content->empty(), "contact card needs content (user id)");
            break;
        case Media::Custom:
            require(m.content.has_value(), "custom needs content");
            break;
    }
}

Media mediaOf(const Json& j) {
    auto it = j.find("media");
    if (it == j.end() || !it->is_number_integer()) throw Invalid{"media must be one of 1-9 or 100"};
    auto v = it->get<std::int64_t>();
    if ((v >= 1 && v <= 9) || v == 100) return static_cast<Media>(v);
    throw Invalid{"media must be one of 1-9 or 100"};
}

Cmd cmdOf(const Json& j) {
    auto it = j.find("cmd");
    if (it == j.end() || !it->is_number_integer()) throw Invalid{"cmd must be 0, 10, 11, 12 or 16"};
    auto v = it->get<std::int64_t>();
    if (v == 0) return Cmd::Heartbeat;
    if (v == 10) return Cmd::Single;
    if (v == 11) return Cmd::Group;
    if (v == 12) return Cmd::Sync;
    if (v == 16) return Cmd::Watch;
    throw Invalid{"cmd must be 0, 10, 11, 12 or 16"};
}

std::vector<std::int64_t> watchOf(const Json& j) {
    auto it = j.find("watch");
    if (it == j.end() || !it->is_array()) throw Invalid{"watch must be an array of user ids"};
    if (it->size() > FrameParser::kMaxWatch) throw Invalid{"watch holds at most 1000 user ids"};
    std::vector<std::int64_t> ids;
    ids.reserve(it->size());
    for (const auto& v : *it) {
        if (!v.is_number_integer() || v.get<std::int64_t>() <= 0 || v.get<std::int64_t>() > kMaxSafeInteger)
            throw Invalid{"watch must be an array of user ids"};
        ids.push_back(v.get<std::int64_t>());
    }
    return ids;
}

std::uint64_t sinceOf(const Json& j) {
    auto it = j.find("since");
    if (it == j.end() || it->is_null()) return 0;
    std::optional<std::uint64_t> pos;
    if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
        pos = FrameParser::position(std::to_string(it->get<std::int64_t>()));
    } else if (it->is_string()) {
        pos = FrameParser::position(it->get_ref<const std::string&>());
    }
    if (!pos) throw Invalid{"since must be a stream position (a whole number)"};
    return *pos;
}

ChatMessage messageOf(const Json& j) {
    ChatMessage m;
    m.cmd = cmdOf(j);
    if (m.cmd == Cmd::Heartbeat || m.cmd == Cmd::Sync || m.cmd == Cmd::Watch) return m;
    m.dstid = positiveId(j, "dstid");
    m.media = mediaOf(j);
    m.content = text(j, "content", FrameParser::kMaxContentChars);
    m.memo = text(j, "memo", FrameParser::kMaxMemoChars);
    m.url = link(j, "url");
    m.pic = link(j, "pic");
    m.amount = amount(j);
    checkMediaFields(m);
    return m;
}

// `prefix` is lower case; URL schemes are case-insensitive (RFC 3986).
bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), s.begin(), [](char p, char c) {
               return std::tolower(static_cast<unsigned char>(c)) == p;
           });
}

}  // namespace

bool FrameParser::isSafeUrl(std::string_view url) {
    if (url.empty() || url.size() > kMaxUrlChars) return false;
    for (unsigned char c : url)
        if (c <= 0x20 || c == 0x7f || c == '\\' || c == '"' || c == '<' || c == '>') return false;
    if (startsWithNoCase(url, "https://")) return url.size() > 8;
    if (startsWithNoCase(url, "http://")) return url.size() > 7;
    bool local = url.starts_with("/mnt/") || url.starts_with("/asset/");
    return local && url.find("..") == std::string_view::npos && url.find("//") == std::string_view::npos;
}

std::optional<std::uint64_t> FrameParser::position(std::string_view text) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    if (v > static_cast<std::uint64_t>(kMaxSafeInteger)) return std::nullopt;
    return v;
}

std::variant<ClientFrame, FrameError> FrameParser::parse(std::string_view text) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) return FrameError{400, "malformed JSON", {}};
    if (!j.is_object()) return FrameError{400, "a frame must be a JSON object", {}};
    ClientFrame frame;
    try {
        frame.cid = cidOf(j);
    } catch (const Invalid& e) {
        return FrameError{400, e.msg, {}};
    }
    try {
        frame.message = messageOf(j);
        if (frame.message.cmd == Cmd::Sync) frame.since = sinceOf(j);
        if (frame.message.cmd == Cmd::Watch) frame.watch = watchOf(j);
    } catch (const Invalid& e) {
        return FrameError{400, e.msg, frame.cid};
    }
    return frame;
}

}  // namespace chat::proto
