#pragma once
// How text reaches an exported file safely: the one place every renderer (export.cpp,
// export_script.cpp, and the coming Ansible renderer) takes its encoders and checks from.
//
// Exported files are read by root at boot (sh, systemd, systemd-sysctl, udev, TuneD), so no byte of
// a profile or an option may end a line, start a key or become code. Three kinds of positions:
//  - Comment lines (the header every file starts with, "not expressible" lists, the script's
//    "# ID = VALUE" notes): comment_line(). Free text (host facts, evidence strings, the profile's
//    file name) is shown on one line with control characters written visibly (\n, \x00, \u2028),
//    so a header stays one line per fact in every format, YAML included.
//  - Values a consumer parses that come from free text: an encoder for that format. TuneD's
//    summary= takes ini_text() (no ${...} expansion, no inline # comment, plain ASCII).
//  - Values in executable or parsed positions that come from options or knobs: validated against
//    a strict character set, never encoded: knob values are canonical forms (export_model.cpp),
//    interface names are [A-Za-z0-9_.-]{1,15}, unit paths pass require_unit_path(); sh arguments
//    are then single-quoted with sh_quote().
// For Ansible: YAML comments take comment_line("#", ...) (it escapes U+0085/U+2028/U+2029 too,
// which PyYAML reads as line breaks). Values go through yaml-cpp's Emitter as double-quoted scalars
// with YAML::EscapeNonAscii, never pasted into YAML text; free text in a value must also be kept
// from Jinja (Ansible evaluates `{{`, `{%`, `{#` in variables): tag it `!unsafe` or leave it out.
// A template (.j2) interpolates only validated values, never free text.
#include <string>
#include <string_view>

namespace wgopt::experiments::exportfmt {

// `text` as one visible line (common/util.hpp one_line()): \ as \\, \n \r \t, other C0 and DEL
// as \xNN, C1 and U+2028/U+2029 as \uNNNN, bytes that are not UTF-8 as \xNN.
std::string comment_text(std::string_view text);
// comment + " " + comment_text(text) + "\n".
std::string comment_line(const std::string& comment, std::string_view text);
// Free text kept readable in a header or comment: over `max` bytes, the first `max` and
// "... (N bytes)" (so no line nears systemd's 1 MB line limit).
std::string cut(std::string_view text, size_t max = 256);

// Free text for an INI value TuneD reads: letters, digits, space and ./_:,+@()=- as they are; any
// other byte (control, $, %, #, ;, quotes, \, backtick, braces, non-ASCII) as \xNN.
std::string ini_text(std::string_view text);

// Single-quoted for sh: 'a b', with ' written as '\''. Only for validated values (no NUL).
std::string sh_quote(const std::string& s);
// One word of a suggested shell command in a comment: as it is when it is only [A-Za-z0-9/._+-],
// else single-quoted, double-quoted when it holds a ' and nothing that expands there, else the
// placeholder PROFILE.yaml (a profile named `my best.yaml` or `$(x).yaml` must not read as two words
// or code when the line is pasted; comments show a backslash doubled, so none is used).
std::string shell_word(const std::string& s);

// systemd-escape of one path component: [A-Za-z0-9:_.] as they are (a leading '.' as \x2e), any
// other byte as \xNN ('-' is \x2d). A unit name built from it needs no more quoting in a unit file.
// `whole`: NAME is a whole unit name's start (a leading '.' is escaped); false for a path's last part.
std::string systemd_escape(std::string_view name, bool whole = true);

// A path that goes into a unit file as is (ExecStart's arguments): absolute, under 4096 bytes, no
// "..", and only [A-Za-z0-9/._+-], so nothing systemd reads as a specifier (%), a variable ($),
// a separator, a quote or an escape. Throws UsageError naming `option` and the fix.
void require_unit_path(const std::string& path, const std::string& option);

}  // namespace wgopt::experiments::exportfmt
