#include "experiments/export/export_escape.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments::exportfmt {

std::string comment_text(std::string_view text) { return one_line(text); }

std::string comment_line(const std::string& comment, std::string_view text) {
  return comment + " " + comment_text(text) + "\n";
}

std::string cut(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return fmt::format("{}... ({} bytes)", text.substr(0, max), text.size());
}

std::string ini_text(std::string_view text) {
  static const std::string_view plain = " ./_:,+@()=-";
  std::string out;
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    const bool alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
    if (alnum || plain.find(ch) != std::string_view::npos) out += ch;
    else out += fmt::format("\\x{:02x}", b);
  }
  return out;
}

std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-") == std::string::npos;
  if (plain) return s;
  // A comment shows a backslash doubled, so sh_quote's '\'' would paste wrong: a name with a single
  // quote goes in double quotes when nothing in it expands there, else a placeholder stands for it.
  const bool control = std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (!control && s.find('\'') == std::string::npos) return "'" + s + "'";
  if (!control && s.find_first_of("$`\\\"!") == std::string::npos) return "\"" + s + "\"";
  return "PROFILE.yaml";
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') out += "'\\''";
    else out += ch;
  }
  return out + "'";
}

std::string systemd_escape(std::string_view name, bool whole) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto b = static_cast<unsigned char>(name[i]);
    const bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == ':' || b == '_' ||
                       (b == '.' && (i > 0 || !whole));
    if (plain) out += name[i];
    else out += fmt::format("\\x{:02x}", b);
  }
  return out;
}

void require_unit_path(const std::string& path, const std::string& option) {
  const bool ok = path.starts_with("/") && path.size() < 4096 && path.find("..") == std::string::npos &&
                  path.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") ==
                      std::string::npos;
  if (!ok) {
    throw UsageError(fmt::format("{} '{}' is not usable in a unit file: use an absolute path of [A-Za-z0-9/._+-]", option,
                                 one_line(path)));
  }
}

}  // namespace wgopt::experiments::exportfmt
