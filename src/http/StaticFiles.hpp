// Serves files below one folder under a URL prefix (/asset/, /mnt/, /web/). Only regular
// files strictly inside the folder are served: no "..", no absolute paths, no symlink
// escapes, no directory listings.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "http/Request.hpp"

namespace chat::http {

class StaticFiles {
public:
    StaticFiles(std::filesystem::path root, std::string prefix);

    Handler handler() const;
    // The file a decoded request path names, if it is a safe, existing regular file.
    std::optional<std::filesystem::path> resolve(const std::string& path) const;
    // One fixed file (a page), whatever the request path.
    static Handler file(std::filesystem::path path);

private:
    std::filesystem::path root_;
    std::string prefix_;
};

}  // namespace chat::http
