#include "http/StaticFiles.hpp"

#include <algorithm>
#include <system_error>

#include "http/MimeTypes.hpp"

namespace chat::http {

namespace fs = std::filesystem;

namespace {

bool safeComponent(const std::string& c) {
    if (c.empty() || c == "." || c == "..") return false;
    for (unsigned char ch : c)
        if (ch < 0x20 || ch == '\\' || ch == 0x7f) return false;
    return true;
}

Response fileResponse(const fs::path& file) {
    Response r;
    r.contentType = std::string(MimeTypes::forPath(file.string()));
    r.file = file;
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
}

Response notFound() {
    return Response::json(404, R"({"code":-1,"msg":"not found"})");
}

// The root as resolve() compares it, element by element, with canonical file paths. A trailing
// separator would leave an empty last element that no file path has; weakly_canonical keeps it
// for a folder that does not exist yet (uploads create theirs later), and every request under
// it would 404 for good.
fs::path normalisedRoot(const fs::path& root) {
    std::error_code ec;
    fs::path normal = root.lexically_normal();
    if (!normal.has_filename() && normal.has_relative_path()) normal = normal.parent_path();
    auto canonical = fs::weakly_canonical(normal, ec);
    return ec ? normal : canonical;
}

}  // namespace

StaticFiles::StaticFiles(fs::path root, std::string prefix) : root_(normalisedRoot(root)), prefix_(std::move(prefix)) {}

std::optional<fs::path> StaticFiles::resolve(const std::string& path) const {
    if (!path.starts_with(prefix_)) return std::nullopt;
    std::string rest = path.substr(prefix_.size());
    fs::path relative;
    std::size_t start = 0;
    while (start <= rest.size()) {
        auto slash = rest.find('/', start);
        std::string part = rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!safeComponent(part)) return std::nullopt;
        relative /= part;
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    std::error_code ec;
    fs::path full = fs::canonical(root_ / relative, ec);
    if (ec) return std::nullopt;
    // A symlink inside the folder must not lead outside it.
    auto [rootEnd, fullIt] = std::mismatch(root_.begin(), root_.end(), full.begin(), full.end());
    if (rootEnd != root_.end()) return std::nullopt;
    if (!fs::is_regular_file(full, ec)) return std::nullopt;
    return full;
}

Handler StaticFiles::handler() const {
    return [this](const Request& request, const Respond& respond) {
        auto file = resolve(request.path);
        respond(file ? fileResponse(*file) : notFound());
    };
}

Handler StaticFiles::file(fs::path path) {
    return [path = std::move(path)](const Request&, const Respond& respond) {
        std::error_code ec;
        respond(fs::is_regular_file(path, ec) ? fileResponse(path) : notFound());
    };
}

}  // namespace chat::http
