#pragma once
// The wire between the controller and the peer agent: one JSON object per line, both ways, over the
// SSH session's stdin/stdout (the agent's stderr carries its logs, never protocol).
//
//   controller -> agent   {"id": 7, "op": "apply", "args": {...}}
//   agent -> controller   {"id": 7, "ok": true, "result": {...}}
//                         {"id": 7, "ok": false, "error": {"kind": "usage", "message": "..."}}
//
// Ids are positive integers chosen by the controller; a reply carries the id of its request (0 when
// the request had none that could be read: a line that is not JSON, or is too long). The first
// exchange is `hello`, in which each side checks the other's kProtocolVersion. Lines are bounded
// (kMaxRequestBytes for what the agent reads, kMaxReplyBytes for what the controller reads): a
// longer line is dropped whole and answered with one protocol error, never buffered without limit.
// Everything here is pure (no I/O) so a fuzzer can drive it: see LineFramer and parse_request.
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace wgopt::peer {

// Bumped whenever a request or reply changes shape. Both sides must speak the same one.
inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxRequestBytes = size_t{1} << 20;  // 1 MiB: knob ids and values
inline constexpr size_t kMaxReplyBytes = size_t{32} << 20;   // 32 MiB: a long run's per-second series

// Splits a byte stream into lines ('\n'; a trailing '\r' is dropped). A line longer than max_line is
// discarded as it streams (memory stays bounded by max_line) and reported once as `oversized`.
class LineFramer {
 public:
  explicit LineFramer(size_t max_line) : max_(max_line) {}

  struct Line {
    std::string text;        // empty when oversized
    bool oversized = false;  // the line exceeded max_line and was dropped
  };
  // Appends `bytes`; returns the lines they completed, in order.
  std::vector<Line> feed(std::string_view bytes);
  // True when bytes of an unfinished line are buffered (at EOF: the sender died mid-line).
  bool has_partial() const { return !buf_.empty() || skipping_; }

 private:
  size_t max_;
  std::string buf_;
  bool skipping_ = false;  // inside an oversized line: dropping bytes until its '\n'
};

// What went wrong with a request, as the agent reports it.
enum class ErrorKind {
  Usage,     // the request asked for something invalid (bad or unknown argument, id, value): nothing changed
  Runtime,   // the peer could not do it (a write failed, a command is missing)
  Protocol,  // the line was not a request (not JSON, too long, no id, an unknown op)
  Version,   // the two ends speak different protocol versions
};
const char* to_string(ErrorKind k);
ErrorKind error_kind_from_string(const std::string& s);  // unknown names read as Runtime

struct Request {
  long long id = 0;
  std::string op;
  nlohmann::json args = nlohmann::json::object();
};

struct ProtocolError {
  long long id = 0;  // the request's id when it could be read, else 0
  std::string message;
};

// One request line -> Request: an object with a positive integer "id", a string "op" of
// [a-z0-9_]{1,32}, and "args" an object (absent = {}). Never throws.
std::expected<Request, ProtocolError> parse_request(std::string_view line);
std::string encode_request(const Request& r);  // one line, no '\n'

struct Reply {
  long long id = 0;
  bool ok = true;
  nlohmann::json result = nlohmann::json::object();  // when ok
  ErrorKind kind = ErrorKind::Runtime;               // when !ok
  std::string message;                               // when !ok: one line for people
};
std::string encode_reply(const Reply& r);  // one line, no '\n'
// One reply line -> Reply. Never throws; the error names what is wrong with the line.
std::expected<Reply, std::string> parse_reply(std::string_view line);

// A reply for a failed request.
Reply error_reply(long long id, ErrorKind kind, std::string message);

}  // namespace wgopt::peer
