#include "api/system/console_assets.h"

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "common/file_util.h"
#include "spdlog/spdlog.h"

namespace cinfer::api {
namespace {

// React and Ant Design inject <style> elements at run time, so styles need
// 'unsafe-inline'; scripts never do. Images may be data:/blob: URLs (the
// playground shows the chosen file and the annotated result).
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool AcceptsGzip(std::string_view accept_encoding) {
  // "gzip" listed, without a zero q-value ("gzip;q=0" refuses it).
  size_t pos = accept_encoding.find("gzip");
  if (pos == std::string_view::npos) return false;
  std::string_view params = accept_encoding.substr(pos + 4);
  params = params.substr(0, params.find(','));
  size_t q = params.find("q=");
  if (q == std::string_view::npos) return true;
  return std::strtod(std::string(params.substr(q + 2)).c_str(), nullptr) > 0;
}

}  // namespace

std::string_view MimeTypeFor(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

void AddConsoleSecurityHeaders(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

bool IsClientRoute(std::string_view path) {
  for (std::string_view reserved : {"/api/", "/health/", "/docs/", "/assets/"}) {
    if (path.starts_with(reserved)) return false;
  }
  if (path == "/api" || path == "/health" || path == "/docs" || path == "/openapi.yaml" ||
      path == "/metrics") {
    return false;
  }
  const size_t slash = path.rfind('/');
  return path.substr(slash == std::string_view::npos ? 0 : slash).find('.') ==
         std::string_view::npos;
}

ConsoleAssets ConsoleAssets::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  ConsoleAssets assets;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    spdlog::warn("console not installed ({} missing): / shows a placeholder", dir);
    return assets;
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || rel.ends_with(".gz")) continue;
    auto content = ReadFileToString(it->path().string());
    if (!content.ok()) continue;
    File f{*std::move(content), "", std::string(MimeTypeFor(rel))};
    if (auto gz = ReadFileToString(it->path().string() + ".gz"); gz.ok()) f.gzip = *std::move(gz);
    assets.files_.emplace(rel, std::move(f));
  }
  spdlog::info("console: {} files from {}", assets.files_.size(), dir);
  return assets;
}

const ConsoleAssets::File* ConsoleAssets::Find(std::string_view relative) const {
  auto it = files_.find(relative);
  return it == files_.end() ? nullptr : &it->second;
}

http::Response ConsoleAssets::Serve(const File& file, bool immutable,
                                    std::string_view accept_encoding) {
  const bool gzip = !file.gzip.empty() && AcceptsGzip(accept_encoding);
  http::Response r = http::Response::Text(200, file.content_type, gzip ? file.gzip : file.content);
  if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
  if (!file.gzip.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  AddConsoleSecurityHeaders(r);
  return r;
}

}  // namespace cinfer::api
