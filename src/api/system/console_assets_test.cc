#include "api/system/console_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "testing/temp_dir.h"

namespace cinfer::api {
namespace {

void Write(const testing::TempDir& dir, const std::string& rel, const std::string& content) {
  const std::filesystem::path p = std::filesystem::path(dir.path()) / rel;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

// The value of the header `name`; nullopt when absent. Fails on duplicates.
std::optional<std::string> HeaderOf(const http::Response& r, const std::string& name) {
  std::optional<std::string> found;
  for (const auto& [k, v] : r.headers) {
    if (k != name) continue;
    EXPECT_FALSE(found.has_value()) << "duplicate header " << name;
    found = v;
  }
  return found;
}

class ConsoleAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(dir_, "index.html", "<html>console</html>");
    Write(dir_, "assets/app-abc.js", "console.log(1)");
    Write(dir_, "assets/app-abc.js.gz", "GZ-JS");
    Write(dir_, "assets/style-1.css", "body{}");
    Write(dir_, "locales/zh/common.json", R"({"k":"v"})");
    Write(dir_, "favicon.ico", "ICO");
    assets_ = ConsoleAssets::Load(dir_.path());
  }
  const ConsoleAssets::File& Get(std::string_view rel) {
    const ConsoleAssets::File* f = assets_.Find(rel);
    EXPECT_NE(f, nullptr) << rel;
    static const ConsoleAssets::File kEmpty;
    return f != nullptr ? *f : kEmpty;
  }
  testing::TempDir dir_;
  ConsoleAssets assets_;
};

TEST_F(ConsoleAssetsTest, LoadsEveryFileRecursivelyWithGzipTwinsAttached) {
  EXPECT_TRUE(assets_.installed());
  // The .gz twin is not a file of its own.
  EXPECT_EQ(assets_.size(), 5u);
  EXPECT_EQ(assets_.Find("assets/app-abc.js.gz"), nullptr);
  EXPECT_EQ(Get("index.html").content, "<html>console</html>");
  EXPECT_TRUE(Get("index.html").gzip.empty());
  EXPECT_EQ(Get("assets/app-abc.js").content, "console.log(1)");
  EXPECT_EQ(Get("assets/app-abc.js").gzip, "GZ-JS");
  EXPECT_EQ(Get("locales/zh/common.json").content, R"({"k":"v"})");
  EXPECT_EQ(assets_.Find("nope.js"), nullptr);
  EXPECT_EQ(assets_.Find("/index.html"), nullptr);
}

TEST_F(ConsoleAssetsTest, ContentTypesComeFromTheExtension) {
  EXPECT_EQ(Get("index.html").content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Get("assets/app-abc.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("assets/style-1.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("locales/zh/common.json").content_type, "application/json");
  EXPECT_EQ(Get("favicon.ico").content_type, "image/x-icon");

  EXPECT_EQ(MimeTypeFor("a/b.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("x.js.map"), "application/json");
  EXPECT_EQ(MimeTypeFor("logo.svg"), "image/svg+xml");
  EXPECT_EQ(MimeTypeFor("p.png"), "image/png");
  EXPECT_EQ(MimeTypeFor("p.jpg"), "image/jpeg");
  EXPECT_EQ(MimeTypeFor("f.woff2"), "font/woff2");
  EXPECT_EQ(MimeTypeFor("f.woff"), "font/woff");
  EXPECT_EQ(MimeTypeFor("robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("data.bin"), "application/octet-stream");
  EXPECT_EQ(MimeTypeFor("Makefile"), "application/octet-stream");
}

TEST_F(ConsoleAssetsTest, GzipTwinIsServedOnlyWhenAccepted) {
  const ConsoleAssets::File& js = Get("assets/app-abc.js");
  struct Case {
    std::string accept_encoding;
    bool gzip;
  };
  for (const Case& c : {Case{"gzip", true}, Case{"br, gzip", true}, Case{"gzip, deflate", true},
                        Case{"deflate, gzip;q=0.5", true}, Case{"gzip;q=0", false},
                        Case{"gzip; q=0.000, br", false}, Case{"identity", false},
                        Case{"br", false}, Case{"", false}}) {
    SCOPED_TRACE("Accept-Encoding: " + c.accept_encoding);
    http::Response r = ConsoleAssets::Serve(js, true, c.accept_encoding);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(r.body, c.gzip ? "GZ-JS" : "console.log(1)");
    EXPECT_EQ(HeaderOf(r, "Content-Encoding"),
              c.gzip ? std::optional<std::string>("gzip") : std::nullopt);
    // Either way the response depends on the header, so caches must key on it.
    EXPECT_EQ(HeaderOf(r, "Vary"), "Accept-Encoding");
  }
}

TEST_F(ConsoleAssetsTest, FilesWithoutTwinIgnoreAcceptEncodingAndHaveNoVary) {
  http::Response r = ConsoleAssets::Serve(Get("index.html"), false, "gzip");
  EXPECT_EQ(r.body, "<html>console</html>");
  EXPECT_FALSE(HeaderOf(r, "Content-Encoding").has_value());
  EXPECT_FALSE(HeaderOf(r, "Vary").has_value());
}

TEST_F(ConsoleAssetsTest, CachingAndSecurityHeaders) {
  http::Response hashed = ConsoleAssets::Serve(Get("assets/app-abc.js"), true, "");
  EXPECT_EQ(HeaderOf(hashed, "Cache-Control"), "public, max-age=31536000, immutable");
  http::Response index = ConsoleAssets::Serve(Get("index.html"), false, "");
  EXPECT_EQ(HeaderOf(index, "Cache-Control"), "no-cache");

  for (const http::Response* r : {&hashed, &index}) {
    auto csp = HeaderOf(*r, "Content-Security-Policy");
    ASSERT_TRUE(csp.has_value());
    EXPECT_NE(csp->find("default-src 'self'"), std::string::npos) << *csp;
    EXPECT_NE(csp->find("script-src 'self';"), std::string::npos) << *csp;
    EXPECT_NE(csp->find("frame-ancestors 'none'"), std::string::npos) << *csp;
    EXPECT_NE(csp->find("object-src 'none'"), std::string::npos) << *csp;
    EXPECT_EQ(HeaderOf(*r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(HeaderOf(*r, "X-Frame-Options"), "DENY");
    EXPECT_EQ(HeaderOf(*r, "Referrer-Policy"), "no-referrer");
  }
}

TEST(ConsoleAssetsLoadTest, MissingDirectoryMeansNotInstalled) {
  testing::TempDir dir;
  ConsoleAssets assets = ConsoleAssets::Load(dir.File("does-not-exist"));
  EXPECT_FALSE(assets.installed());
  EXPECT_EQ(assets.size(), 0u);
  EXPECT_EQ(assets.Find("index.html"), nullptr);
}

TEST(ConsoleAssetsLoadTest, DirectoryWithoutIndexIsNotInstalled) {
  testing::TempDir dir;
  Write(dir, "assets/app.js", "x");
  ConsoleAssets assets = ConsoleAssets::Load(dir.path());
  EXPECT_FALSE(assets.installed());
  EXPECT_EQ(assets.size(), 1u);
  EXPECT_NE(assets.Find("assets/app.js"), nullptr);
}

TEST(ConsoleClientRouteTest, ConsolePagesAreClientRoutes) {
  EXPECT_TRUE(IsClientRoute("/models/x"));
  EXPECT_TRUE(IsClientRoute("/models"));
  EXPECT_TRUE(IsClientRoute("/tokens/t1/usage"));
  EXPECT_TRUE(IsClientRoute("/v1.2/models"));  // a dot outside the last segment
  EXPECT_TRUE(IsClientRoute("/apix"));         // only the /api prefix segment is reserved
}

TEST(ConsoleClientRouteTest, ServerPathsAndFilesAreNot) {
  EXPECT_FALSE(IsClientRoute("/api/v1/x"));
  EXPECT_FALSE(IsClientRoute("/api"));
  EXPECT_FALSE(IsClientRoute("/health/live"));
  EXPECT_FALSE(IsClientRoute("/metrics"));  // 404 when metrics are off, never the console
  EXPECT_FALSE(IsClientRoute("/health"));
  EXPECT_FALSE(IsClientRoute("/docs/x"));
  EXPECT_FALSE(IsClientRoute("/docs"));
  EXPECT_FALSE(IsClientRoute("/openapi.yaml"));
  EXPECT_FALSE(IsClientRoute("/assets/x.js"));
  EXPECT_FALSE(IsClientRoute("/assets/chunk"));
  EXPECT_FALSE(IsClientRoute("/favicon.ico"));
  EXPECT_FALSE(IsClientRoute("/models/x/logo.png"));
}

}  // namespace
}  // namespace cinfer::api
