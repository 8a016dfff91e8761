// Robustness of the parsers that read bytes from the network: Datagram::decode,
// SeqRanges::decode, ChatPack::forEach and FrameParser::parse get 120,000 random and mutated
// inputs from a seeded generator, so any failure reproduces. Under ASan/UBSan (the Debug build) a read out
// of bounds or undefined behaviour aborts the test; the checks below require every answer to
// be either a well-formed result or a clean error, and compare with independent references.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "proto/ChatPack.hpp"
#include "proto/Datagram.hpp"
#include "proto/FrameParser.hpp"
#include "proto/SeqRanges.hpp"

using chat::proto::ChatPack;
using chat::proto::ClientFrame;
using chat::proto::Cmd;
using chat::proto::Datagram;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::DecodeError;
using chat::proto::FrameError;
using chat::proto::FrameParser;
using chat::proto::Media;
using chat::proto::PackedChat;
using chat::proto::SeqRange;
using chat::proto::SeqRanges;
using chat::proto::TargetKind;
using Json = nlohmann::json;

namespace {

constexpr int kDatagramRuns = 40000, kSeqRangeRuns = 30000, kPackRuns = 20000, kFrameRuns = 30000;  // 120,000

class Fuzzer {
public:
    explicit Fuzzer(std::uint64_t seed) : rng_(seed) {}

    std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
    bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
    std::uint64_t any64() { return rng_(); }
    char byte() { return static_cast<char>(below(256)); }

    std::string exactly(std::size_t n) {
        std::string s(n, '\0');
        for (auto& c : s) c = byte();
        return s;
    }
    std::string bytes(std::size_t maxLen) { return exactly(below(maxLen + 1)); }

    // A few byte-level edits of the kinds that break parsers: flips, overwrites, insertions,
    // deletions, truncation, duplication, and integers planted at random offsets.
    std::string mutate(std::string s) {
        for (auto edits = 1 + below(4); edits > 0; --edits) {
            auto pos = s.empty() ? 0 : below(s.size());
            switch (below(8)) {
                case 0:
                    if (!s.empty()) s[pos] = static_cast<char>(s[pos] ^ (1 << below(8)));
                    break;
                case 1:
                    if (!s.empty()) s[pos] = byte();
                    break;
                case 2:
                    s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), byte());
                    break;
                case 3:
                    if (!s.empty()) s.erase(pos, 1 + below(8));
                    break;
                case 4:
                    s.resize(below(s.size() + 1));
                    break;
                case 5:
                    if (!s.empty()) s.insert(pos, s.substr(pos, 1 + below(64)));
                    break;
                case 6:
                    s += bytes(16);
                    break;
                default:
                    plant(s, pos);
                    break;
            }
        }
        return s;
    }

private:
    void plant(std::string& s, std::size_t pos) {
        static constexpr std::uint64_t kInteresting[] = {
            0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF, 0x8000000000000000ull, ~0ull};
        auto v = kInteresting[below(std::size(kInteresting))];
        auto width = std::size_t{1} << below(4);  // 1, 2, 4 or 8 bytes, big-endian
        for (std::size_t i = 0; i < width && pos + i < s.size(); ++i)
            s[pos + i] = static_cast<char>(v >> (8 * (width - 1 - i)));
    }

    std::mt19937_64 rng_;
};

std::string hex(std::string_view s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s.substr(0, 200)) {
        out += digits[c >> 4];
        out += digits[c & 0x0F];
    }
    return out;
}

// Counts inputs by outcome and keeps the first violation for the failure message.
struct Tally {
    int accepted = 0, refused = 0, violations = 0;
    std::string first;
    void check(bool ok, const std::string& what, std::string_view input) {
        if (ok) return;
        if (violations++ == 0) first = what + " for input " + hex(input);
    }
};

// --- Datagram::decode

std::string validDatagram(Fuzzer& f) {
    DatagramHeader h;
    h.kind = static_cast<DatagramKind>(1 + f.below(8));
    h.targetKind = static_cast<TargetKind>(f.below(3));
    h.keyId = static_cast<std::uint8_t>(f.below(256));
    h.origin = static_cast<std::uint32_t>(f.any64());
    h.incarnation = f.any64();
    h.seq = f.any64();
    h.fragCount = static_cast<std::uint16_t>(1 + f.below(0xFFFF));
    h.fragIndex = static_cast<std::uint16_t>(f.below(h.fragCount));
    h.target = static_cast<std::int64_t>(f.any64());
    h.sender = static_cast<std::int64_t>(f.any64());
    h.pos = f.any64();
    auto payload = f.bytes(f.chance(80) ? 64 : chat::proto::kMaxFragmentPayload);
    h.length = static_cast<std::uint32_t>(payload.size());
    Datagram::HeaderBytes head{};
    Datagram::encodeHeader(h, head);
    return std::string(reinterpret_cast<const char*>(head.data()), head.size()) + payload + f.exactly(32);
}

void checkDatagram(std::string_view in, Tally& t) {
    auto r = Datagram::decode(in);
    if (!r.datagram) {
        ++t.refused;
        t.check(r.error >= DecodeError::TooShort && r.error <= DecodeError::BadFragment, "unknown error", in);
        return;
    }
    ++t.accepted;
    const auto& d = *r.datagram;
    const auto& h = d.header;
    const std::size_t len = h.length;
    constexpr std::size_t kHead = chat::proto::kDatagramHeaderSize;
    t.check(in.size() == kHead + len + 32, "size does not match length", in);
    t.check(d.payload.data() == in.data() + kHead && d.payload.size() == len, "payload view", in);
    t.check(d.signedBytes.data() == in.data() && d.signedBytes.size() == kHead + len, "signed view", in);
    t.check(d.mac.data() == in.data() + kHead + len && d.mac.size() == 32, "mac view", in);
    t.check(h.fragCount > 0 && h.fragIndex < h.fragCount, "fragment fields", in);
    auto kind = static_cast<int>(h.kind), targetKind = static_cast<int>(h.targetKind);
    t.check(kind >= 1 && kind <= 9 && targetKind >= 0 && targetKind <= 2, "kind out of range", in);
    // Encoding the decoded header gives back the input, reserved bytes aside.
    Datagram::HeaderBytes again{};
    Datagram::encodeHeader(h, again);
    for (std::size_t i = 0; i < kHead; ++i) {
        if (i == 7 || (i >= 9 && i <= 11)) continue;
        t.check(again[i] == static_cast<std::uint8_t>(in[i]),
                "header does not re-encode at offset " + std::to_string(i), in);
    }
}

// --- SeqRanges::decode

std::string validRanges(Fuzzer& f) {
    std::vector<SeqRange> ranges(f.below(SeqRanges::kMaxRanges + 1));
    for (auto& r : ranges) {
        r.first = f.chance(50) ? 1 + f.below(1000) : 1 + f.below(~0ull - 1);
        r.last = r.first + f.below(f.chance(90) ? 100 : ~0ull - r.first + 1);
    }
    return SeqRanges::encode(ranges);
}

std::uint64_t be64(std::string_view s) {
    std::uint64_t v = 0;
    for (unsigned char c : s.substr(0, 8)) v = (v << 8) | c;
    return v;
}

// An independent reading of the format, to compare decode's verdicts with.
bool wellFormedRanges(std::string_view s) {
    if (s.size() % 16 != 0 || s.size() / 16 > SeqRanges::kMaxRanges) return false;
    for (std::size_t off = 0; off < s.size(); off += 16) {
        auto first = be64(s.substr(off)), last = be64(s.substr(off + 8));
        if (first == 0 || last < first) return false;
    }
    return true;
}

void checkRanges(std::string_view in, Tally& t) {
    auto r = SeqRanges::decode(in);
    t.check(r.has_value() == wellFormedRanges(in), "verdict differs from the reference", in);
    if (!r) {
        ++t.refused;
        return;
    }
    ++t.accepted;
    t.check(r->size() <= SeqRanges::kMaxRanges, "too many ranges", in);
    t.check(SeqRanges::encode(*r) == in, "does not re-encode to the input", in);
}

// --- ChatPack::forEach

std::string validPack(Fuzzer& f) {
    std::string payload;
    for (auto n = 1 + f.below(6); n > 0; --n) {
        auto frame = f.exactly(1 + f.below(100));
        ChatPack::append(
            payload, {f.chance(50) ? TargetKind::User : TargetKind::Group, static_cast<std::int64_t>(f.any64() >> 1),
                      static_cast<std::int64_t>(f.any64() >> 1), 1 + f.below(1u << 30), frame});
    }
    return payload;
}

// An independent reading of the format: entries of kind 1 or 2, a position, and a frame of
// at least one byte, tiling the payload exactly.
bool wellFormedPack(std::string_view s) {
    if (s.empty()) return false;
    for (std::size_t off = 0; off < s.size();) {
        if (s.size() - off < ChatPack::kEntryOverhead) return false;
        auto kind = static_cast<unsigned char>(s[off]);
        auto length = be64(s.substr(off + 25, 4));  // the 4-byte length alone
        if ((kind != 1 && kind != 2) || be64(s.substr(off + 17)) == 0 || length == 0) return false;
        off += ChatPack::kEntryOverhead;
        if (length > s.size() - off) return false;
        off += length;
    }
    return true;
}

void checkPack(std::string_view in, Tally& t) {
    std::string again;
    bool inside = true;
    bool whole = ChatPack::forEach(in, [&](const PackedChat& c) {
        inside = inside && c.frame.data() >= in.data() && c.frame.data() + c.frame.size() <= in.data() + in.size();
        ChatPack::append(again, c);
    });
    t.check(whole == wellFormedPack(in), "verdict differs from the reference", in);
    if (!whole) {
        ++t.refused;
        t.check(again.empty(), "a refused pack visited an entry", in);
        return;
    }
    ++t.accepted;
    t.check(inside, "a frame points outside the payload", in);
    t.check(again == in, "does not re-encode to the input", in);
}

// --- FrameParser::parse

Json randomValue(Fuzzer& f, int depth = 0) {
    switch (f.below(depth > 2 ? 7 : 9)) {
        case 0:
            return nullptr;
        case 1:
            return f.chance(50);
        case 2:
            return static_cast<std::int64_t>(f.any64());
        case 3:
            return f.any64();
        case 4:
            return static_cast<double>(static_cast<std::int64_t>(f.any64())) / 1e3;
        case 5:
            return std::string(f.chance(90) ? f.below(100) : 8190 + f.below(5), 'x');  // around the limit
        case 6: {
            static const char* texts[] = {"",
                                          "1",
                                          "-1",
                                          "9007199254740992",
                                          "https://a.b/c",
                                          "/mnt/x.png",
                                          "javascript:alert(1)",
                                          "/mnt/../etc",
                                          "\xC3\xA9t\xC3\xA9",
                                          "0x10"};
            return texts[f.below(std::size(texts))];
        }
        case 7:
            return Json::array({randomValue(f, depth + 1), randomValue(f, depth + 1)});
        default:
            return Json{{"k", randomValue(f, depth + 1)}};
    }
}

Json seedFrame(Fuzzer& f) {
    static const Json seeds[] = {
        {{"cmd", 10}, {"dstid", 2}, {"media", 1}, {"content", "hello"}, {"id", 7}},
        {{"cmd", 11}, {"dstid", "100"}, {"media", 4}, {"url", "/mnt/a.png"}, {"cid", "c-1"}},
        {{"cmd", 10}, {"dstid", 3}, {"media", 5}, {"amount", 100}, {"memo", "gift"}},
        {{"cmd", 10}, {"dstid", 3}, {"media", 3}, {"url", "https://x.y/v.mp3"}, {"amount", 12}},
        {{"cmd", 10},
         {"dstid", 3},
         {"media", 2},
         {"content", "news"},
         {"url", "http://n.example/1"},
         {"pic", "/asset/p.png"}},
        {{"cmd", 0}},
    };
    Json j = seeds[f.below(std::size(seeds))];
    static const char* keys[] = {"cmd",  "dstid",  "media", "content", "url",  "pic",
                                 "memo", "amount", "id",    "cid",     "extra"};
    for (auto edits = f.below(4); edits > 0; --edits) {
        const char* key = keys[f.below(std::size(keys))];
        if (f.chance(20))
            j.erase(key);
        else
            j[key] = randomValue(f);
    }
    return j;
}

std::string frameInput(Fuzzer& f) {
    switch (f.below(4)) {
        case 0:
            return f.bytes(256);
        case 1:
            return seedFrame(f).dump();
        default:
            return f.mutate(seedFrame(f).dump());
    }
}

bool isJsonIdText(const std::string& cid) {
    if (cid.empty()) return true;
    auto j = Json::parse(cid, nullptr, false);
    return !j.is_discarded() && (j.is_string() || j.is_number_integer());
}

void checkFrame(std::string_view in, Tally& t) {
    auto result = FrameParser::parse(in);
    if (const auto* e = std::get_if<FrameError>(&result)) {
        ++t.refused;
        t.check(e->code == 400 || e->code == 413, "error code " + std::to_string(e->code), in);
        t.check(!e->msg.empty() && e->msg.size() < 200, "error message", in);
        t.check(isJsonIdText(e->cid), "error cid is not an id", in);
        return;
    }
    ++t.accepted;
    const auto& frame = std::get<ClientFrame>(result);
    const auto& m = frame.message;
    t.check(isJsonIdText(frame.cid), "cid is not an id", in);
    t.check(m.cmd == Cmd::Heartbeat || m.cmd == Cmd::Single || m.cmd == Cmd::Group || m.cmd == Cmd::Sync ||
                m.cmd == Cmd::Watch,
            "cmd", in);
    t.check(frame.watch.size() <= FrameParser::kMaxWatch, "watch size", in);
    t.check(frame.since <= (std::uint64_t{1} << 53) - 1, "since", in);
    if (m.cmd == Cmd::Heartbeat || m.cmd == Cmd::Sync || m.cmd == Cmd::Watch) return;
    t.check(m.dstid > 0 && m.dstid <= (std::int64_t{1} << 53) - 1, "dstid", in);
    auto media = static_cast<int>(m.media);
    t.check((media >= 1 && media <= 9) || media == 100, "media", in);
    t.check(!m.content || m.content->size() <= 4 * FrameParser::kMaxContentChars, "content length", in);
    t.check(!m.url || FrameParser::isSafeUrl(*m.url), "unsafe url", in);
    t.check(!m.pic || FrameParser::isSafeUrl(*m.pic), "unsafe pic", in);
    t.check(!m.amount || (*m.amount > 0 && *m.amount <= FrameParser::kMaxAmount), "amount", in);
}

}  // namespace

TEST(ParserFuzz, DatagramDecodeAnswersEveryInputWithAValidDatagramOrAnError) {
    Fuzzer f(0xDA7A6A4D);
    Tally t;
    for (int i = 0; i < kDatagramRuns; ++i) {
        std::string in;
        switch (f.below(5)) {
            case 0:
                in = f.bytes(1600);
                break;
            case 1:
                in = std::string("CHAT\x02", 5) + f.bytes(1500);
                break;  // past magic and version
            case 2:
                in = validDatagram(f);
                break;
            default:
                in = f.mutate(validDatagram(f));
                break;
        }
        checkDatagram(in, t);
    }
    EXPECT_EQ(t.violations, 0) << t.first;
    // Both outcomes are reached often, or the generator explores too little.
    EXPECT_GT(t.accepted, kDatagramRuns / 5);
    EXPECT_GT(t.refused, kDatagramRuns / 5);
}

TEST(ParserFuzz, SeqRangesDecodeAgreesWithAnIndependentReadingOfTheFormat) {
    Fuzzer f(0x5E0AA6E5);
    Tally t;
    for (int i = 0; i < kSeqRangeRuns; ++i) {
        std::string in;
        switch (f.below(4)) {
            case 0:
                in = f.bytes(16 * (SeqRanges::kMaxRanges + 2));
                break;
            case 1:
                in = validRanges(f);
                break;
            default:
                in = f.mutate(validRanges(f));
                break;
        }
        checkRanges(in, t);
    }
    EXPECT_EQ(t.violations, 0) << t.first;
    EXPECT_GT(t.accepted, kSeqRangeRuns / 5);
    EXPECT_GT(t.refused, kSeqRangeRuns / 5);
}

TEST(ParserFuzz, ChatPackAgreesWithAnIndependentReadingOfTheFormatAndVisitsNothingItRefuses) {
    Fuzzer f(0xC4A79AC6);
    Tally t;
    for (int i = 0; i < kPackRuns; ++i) {
        std::string in;
        switch (f.below(4)) {
            case 0:
                in = f.bytes(400);
                break;
            case 1:
                in = validPack(f);
                break;
            default:
                in = f.mutate(validPack(f));
                break;
        }
        checkPack(in, t);
    }
    EXPECT_EQ(t.violations, 0) << t.first;
    EXPECT_GT(t.accepted, kPackRuns / 5);
    EXPECT_GT(t.refused, kPackRuns / 5);
}

TEST(ParserFuzz, FrameParserAnswersEveryInputWithAValidFrameOrAnError) {
    Fuzzer f(0xF4A3E);
    Tally t;
    for (int i = 0; i < kFrameRuns; ++i) {
        auto in = frameInput(f);
        checkFrame(in, t);
    }
    EXPECT_EQ(t.violations, 0) << t.first;
    EXPECT_GT(t.accepted, kFrameRuns / 20);
    EXPECT_GT(t.refused, kFrameRuns / 5);
}
