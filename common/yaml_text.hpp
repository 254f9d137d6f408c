#pragma once
// What yaml-cpp does not tell about a YAML text, found from the text itself (header-only: the pure
// optimizer's SPACE.yaml reader uses it as well as the profile reader).
#include <string>
#include <string_view>

namespace wgopt {

// Whether `text` holds a YAML document after its first: a "---" line (column 0, alone or followed by
// a space) with content before it and content on it or after it. Comments, blank lines, directives
// and "..." are not content. A "---" at column 0 cannot be inside a scalar (YAML ends the document
// there). yaml-cpp's Load reads the first document and drops the rest silently, and its LoadAll
// never returned on a 371-byte input the profile fuzzer made (fuzz/seeds/profile-loadall-hang.yaml).
inline bool holds_second_document(std::string_view text) {
  auto trimmed = [](std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return std::string_view{};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
  };
  bool content = false, marker = false;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    const bool is_marker = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
    if (is_marker) {
      if (content) marker = true;
      const std::string_view rest = trimmed(line.substr(3));
      if (!rest.empty() && !rest.starts_with("#")) {
        if (marker) return true;
        content = true;
      }
      continue;
    }
    const std::string_view t = trimmed(line);
    if (t.empty() || t.starts_with("#") || t.starts_with("%") || line.starts_with("...")) continue;
    if (marker) return true;
    content = true;
  }
  return false;
}

}  // namespace wgopt
