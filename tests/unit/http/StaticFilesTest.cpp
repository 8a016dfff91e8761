#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "http/StaticFiles.hpp"

using chat::http::Request;
using chat::http::Response;
using chat::http::StaticFiles;
namespace fs = std::filesystem;

namespace {

// base/asset/{a.txt, style.css, sub/b.png, dir/, inner -> a.txt, escape -> ../secret.txt, sibling -> ../asset2/c.txt}
// base/secret.txt and base/asset2/c.txt lie outside the served folder.
class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        base_ =
            fs::temp_directory_path() / (std::string("chat-static-") + info->name() + "-" + std::to_string(::getpid()));
        root_ = base_ / "asset";
        fs::create_directories(root_ / "sub");
        fs::create_directories(root_ / "dir");
        fs::create_directories(base_ / "asset2");
        write(root_ / "a.txt", "hello");
        write(root_ / "style.css", "body{}");
        write(root_ / "sub" / "b.png", "png");
        write(base_ / "secret.txt", "secret");
        write(base_ / "asset2" / "c.txt", "sibling");
        fs::create_symlink("a.txt", root_ / "inner");
        fs::create_symlink("../secret.txt", root_ / "escape");
        fs::create_symlink("../asset2/c.txt", root_ / "sibling");
        fs::create_directory_symlink("..", root_ / "up");
    }
    void TearDown() override { fs::remove_all(base_); }

    static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

    Response get(const StaticFiles& files, const std::string& path) {
        Request request;
        request.method = "GET";
        request.path = path;
        std::optional<Response> answer;
        files.handler()(request, [&](Response r) { answer = std::move(r); });
        if (!answer) {
            ADD_FAILURE() << path << " got no answer";
            return Response::text(0, "");
        }
        return *answer;
    }

    fs::path base_, root_;
};

}  // namespace

TEST_F(StaticFilesTest, ResolvesAFileBelowThePrefix) {
    StaticFiles files(root_, "/asset/");
    EXPECT_EQ(files.resolve("/asset/a.txt"), fs::canonical(root_ / "a.txt"));
    EXPECT_EQ(files.resolve("/asset/sub/b.png"), fs::canonical(root_ / "sub" / "b.png"));
}

TEST_F(StaticFilesTest, ServesAFileWithItsContentTypeAndNosniff) {
    StaticFiles files(root_, "/asset/");
    auto r = get(files, "/asset/style.css");
    EXPECT_EQ(r.status, 200);
    ASSERT_TRUE(r.file);
    EXPECT_EQ(*r.file, fs::canonical(root_ / "style.css"));
    EXPECT_EQ(r.contentType, "text/css; charset=utf-8");
    bool nosniff = false;
    for (const auto& [k, v] : r.headers) nosniff |= k == "X-Content-Type-Options" && v == "nosniff";
    EXPECT_TRUE(nosniff);
}

TEST_F(StaticFilesTest, AnswersAMissingFileWith404Json) {
    StaticFiles files(root_, "/asset/");
    auto r = get(files, "/asset/missing.txt");
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(r.file);
    EXPECT_EQ(r.body, R"({"code":-1,"msg":"not found"})");
}

TEST_F(StaticFilesTest, RefusesDotDotSegments) {
    StaticFiles files(root_, "/asset/");
    for (const char* path :
         {"/asset/../secret.txt", "/asset/sub/../a.txt", "/asset/..", "/asset/sub/..", "/asset/../asset/a.txt"}) {
        EXPECT_FALSE(files.resolve(path)) << path;
        EXPECT_EQ(get(files, path).status, 404) << path;
    }
}

TEST_F(StaticFilesTest, RefusesDotAndEmptySegments) {
    StaticFiles files(root_, "/asset/");
    for (const char* path : {"/asset/./a.txt", "/asset/.", "/asset//a.txt", "/asset/sub//b.png", "/asset/a.txt/",
                             "/asset/", "/asset/sub/"}) {
        EXPECT_FALSE(files.resolve(path)) << path;
    }
}

TEST_F(StaticFilesTest, RefusesAbsolutePaths) {
    StaticFiles files(root_, "/asset/");
    EXPECT_FALSE(files.resolve("/asset//etc/passwd"));
    EXPECT_FALSE(files.resolve("/asset/" + (base_ / "secret.txt").string()));
}

TEST_F(StaticFilesTest, RefusesBackslashesAndControlCharacters) {
    StaticFiles files(root_, "/asset/");
    EXPECT_FALSE(files.resolve("/asset/sub\\b.png"));
    EXPECT_FALSE(files.resolve("/asset/..\\secret.txt"));
    EXPECT_FALSE(files.resolve(std::string("/asset/a.txt\0.png", 17)));
    EXPECT_FALSE(files.resolve("/asset/a\n.txt"));
}

TEST_F(StaticFilesTest, RefusesASymlinkLeadingOutOfTheFolder) {
    StaticFiles files(root_, "/asset/");
    EXPECT_FALSE(files.resolve("/asset/escape"));
    EXPECT_FALSE(files.resolve("/asset/up/secret.txt"));
    // A folder whose name merely starts with the served folder's name is outside too.
    EXPECT_FALSE(files.resolve("/asset/sibling"));
    EXPECT_EQ(get(files, "/asset/escape").status, 404);
}

TEST_F(StaticFilesTest, FollowsASymlinkThatStaysInside) {
    StaticFiles files(root_, "/asset/");
    EXPECT_EQ(files.resolve("/asset/inner"), fs::canonical(root_ / "a.txt"));
}

TEST_F(StaticFilesTest, RefusesADirectory) {
    StaticFiles files(root_, "/asset/");
    EXPECT_FALSE(files.resolve("/asset/dir"));
    EXPECT_FALSE(files.resolve("/asset/sub"));
    EXPECT_EQ(get(files, "/asset/dir").status, 404);
}

TEST_F(StaticFilesTest, RefusesAPathOutsideThePrefix) {
    StaticFiles files(root_, "/asset/");
    EXPECT_FALSE(files.resolve("/mnt/a.txt"));
    EXPECT_FALSE(files.resolve("/asset"));
    EXPECT_FALSE(files.resolve("a.txt"));
}

TEST_F(StaticFilesTest, ServesFromARootGivenWithATrailingSlashOrDotDot) {
    StaticFiles trailing(root_.string() + "/", "/asset/");
    EXPECT_TRUE(trailing.resolve("/asset/a.txt"));
    EXPECT_FALSE(trailing.resolve("/asset/escape"));
    StaticFiles roundabout(root_ / ".." / "asset", "/asset/");
    EXPECT_TRUE(roundabout.resolve("/asset/a.txt"));
    EXPECT_FALSE(roundabout.resolve("/asset/escape"));
}

TEST_F(StaticFilesTest, ServesFilesOnceARootGivenWithATrailingSlashIsCreatedAfterStartUp) {
    // Uploads create their folder on first use, after the server has started.
    const fs::path later = base_ / "upload";
    StaticFiles files(later.string() + "/", "/mnt/");
    EXPECT_FALSE(files.resolve("/mnt/a.txt"));
    fs::create_directories(later / "sub");
    write(later / "a.txt", "uploaded");
    write(later / "sub" / "b.png", "png");
    EXPECT_EQ(files.resolve("/mnt/a.txt"), fs::canonical(later / "a.txt"));
    EXPECT_EQ(files.resolve("/mnt/sub/b.png"), fs::canonical(later / "sub" / "b.png"));
    EXPECT_EQ(get(files, "/mnt/a.txt").status, 200);
}

TEST_F(StaticFilesTest, ServesFilesOnceARootGivenWithSeveralTrailingSlashesIsCreated) {
    const fs::path later = base_ / "upload";
    StaticFiles files(later.string() + "//", "/mnt/");
    fs::create_directories(later);
    write(later / "a.txt", "uploaded");
    EXPECT_EQ(files.resolve("/mnt/a.txt"), fs::canonical(later / "a.txt"));
}

TEST_F(StaticFilesTest, ServesFromARootReachedThroughASymlink) {
    fs::create_directory_symlink(root_, base_ / "link-to-asset");
    StaticFiles viaLink(base_ / "link-to-asset", "/asset/");
    EXPECT_TRUE(viaLink.resolve("/asset/a.txt"));
    EXPECT_FALSE(viaLink.resolve("/asset/escape"));
}

TEST_F(StaticFilesTest, FixedFileHandlerServesThatFileWhateverThePath) {
    auto handler = StaticFiles::file(root_ / "a.txt");
    std::optional<Response> answer;
    Request request;
    request.path = "/anything";
    handler(request, [&](Response r) { answer = std::move(r); });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->file, root_ / "a.txt");
    EXPECT_EQ(answer->contentType, "text/plain; charset=utf-8");
}

TEST_F(StaticFilesTest, FixedFileHandlerAnswers404WhenTheFileIsMissing) {
    auto handler = StaticFiles::file(root_ / "gone.html");
    std::optional<Response> answer;
    handler(Request{}, [&](Response r) { answer = std::move(r); });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 404);
    EXPECT_FALSE(answer->file);
}
