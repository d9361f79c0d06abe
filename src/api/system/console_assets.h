// The web console's built files (web/dist, installed as <assets_dir>/console),
// loaded into memory once at start and served with the headers a browser app
// needs: a strict Content-Security-Policy, nosniff, no framing, immutable
// caching for the content-hashed files under assets/, no-cache for index.html,
// and the pre-compressed .gz twin when the client accepts gzip.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "http/request.h"

namespace cinfer::api {

class ConsoleAssets {
 public:
  struct File {
    std::string content;
    std::string gzip;  // empty when there is no .gz twin
    std::string content_type;
  };

  // Loads every file under `dir` (recursively); a missing directory gives an
  // empty set (the console is then not installed).
  static ConsoleAssets Load(const std::string& dir);

  bool installed() const { return files_.contains("index.html"); }
  size_t size() const { return files_.size(); }
  // `relative` is the path inside the console directory, e.g. "assets/x.js".
  const File* Find(std::string_view relative) const;

  // The response for one file; `accept_encoding` is the request's header.
  static http::Response Serve(const File& file, bool immutable, std::string_view accept_encoding);

 private:
  std::map<std::string, File, std::less<>> files_;
};

// The MIME type for a file name, by extension ("application/octet-stream" when unknown).
std::string_view MimeTypeFor(std::string_view name);
// Headers every console page carries (CSP, nosniff, frame denial, referrer policy).
void AddConsoleSecurityHeaders(http::Response& r);
// True for GET paths the console's client-side router owns: not the API, health,
// docs or the contract, and without a file extension in the last segment.
bool IsClientRoute(std::string_view path);

}  // namespace cinfer::api
