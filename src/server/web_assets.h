// The web console's files (web/ui/*) and the OpenAPI document (docs/openapi.json),
// built into the binary: cmake/embed_assets.cmake writes the definition of
// find_web_asset into a generated .cpp at build time, so `ferry server` needs no
// file beside it at run time. The bodies are static storage; lookups are thread-safe.
#pragma once
#include <string_view>

namespace ferry {

struct WebAsset {
  std::string_view path;          // file name: "index.html", "app.js", ..., "openapi.json"
  std::string_view content_type;  // from the extension
  std::string_view body;
};

// nullptr when there is no such file.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace ferry
