#include "experiments/peer/protocol.hpp"

#include <fmt/format.h>

namespace wgopt::peer {

using nlohmann::json;

std::vector<LineFramer::Line> LineFramer::feed(std::string_view bytes) {
  std::vector<Line> out;
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const std::string_view chunk = bytes.substr(0, nl);
    if (!skipping_) {
      if (buf_.size() + chunk.size() > max_) {
        buf_.clear();
        buf_.shrink_to_fit();
        skipping_ = true;
      } else {
        buf_.append(chunk);
      }
    }
    if (nl == std::string_view::npos) break;
    if (skipping_) {
      out.push_back({.text = {}, .oversized = true});
      skipping_ = false;
    } else {
      if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
      out.push_back({.text = std::move(buf_)});
      buf_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
  return out;
}

const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::Runtime: return "runtime";
    case ErrorKind::Protocol: return "protocol";
    case ErrorKind::Version: return "version";
  }
  return "runtime";
}

ErrorKind error_kind_from_string(const std::string& s) {
  for (ErrorKind k : {ErrorKind::Usage, ErrorKind::Runtime, ErrorKind::Protocol, ErrorKind::Version}) {
    if (s == to_string(k)) return k;
  }
  return ErrorKind::Runtime;
}

namespace {
bool valid_op(const std::string& op) {
  if (op.empty() || op.size() > 32) return false;
  for (char c : op) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// A positive integer id that survives a round trip through a double-free reader.
std::optional<long long> read_id(const json& j) {
  auto it = j.find("id");
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  const long long id = it->get<long long>();
  if (id <= 0 || id > (1LL << 53)) return std::nullopt;
  return id;
}
}  // namespace

std::expected<Request, ProtocolError> parse_request(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::unexpected(ProtocolError{0, "the request is not JSON"});
  if (!j.is_object()) return std::unexpected(ProtocolError{0, "the request is not a JSON object"});
  auto id = read_id(j);
  if (!id) return std::unexpected(ProtocolError{0, "the request has no positive integer \"id\""});
  auto op = j.find("op");
  if (op == j.end() || !op->is_string() || !valid_op(op->get<std::string>())) {
    return std::unexpected(ProtocolError{*id, "the request has no \"op\" of [a-z0-9_]{1,32}"});
  }
  Request r{.id = *id, .op = op->get<std::string>()};
  if (auto a = j.find("args"); a != j.end()) {
    if (!a->is_object()) return std::unexpected(ProtocolError{*id, "\"args\" is not a JSON object"});
    r.args = *a;
  }
  return r;
}

std::string encode_request(const Request& r) {
  return json{{"id", r.id}, {"op", r.op}, {"args", r.args}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_reply(const Reply& r) {
  json j{{"id", r.id}, {"ok", r.ok}};
  if (r.ok) j["result"] = r.result;
  else j["error"] = {{"kind", to_string(r.kind)}, {"message", r.message}};
  // Invalid UTF-8 in a message (a command's output) must not make the reply unsendable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::expected<Reply, std::string> parse_reply(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::unexpected("the line is not a JSON object");
  Reply r;
  auto id = j.find("id");
  if (id == j.end() || !id->is_number_integer() || id->get<long long>() < 0) {
    return std::unexpected("the reply has no non-negative integer \"id\"");
  }
  r.id = id->get<long long>();
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return std::unexpected("the reply has no boolean \"ok\"");
  r.ok = ok->get<bool>();
  if (r.ok) {
    auto res = j.find("result");
    if (res == j.end() || !res->is_object()) return std::unexpected("the reply has no \"result\" object");
    r.result = std::move(*res);
    return r;
  }
  auto err = j.find("error");
  if (err == j.end() || !err->is_object()) return std::unexpected("the failed reply has no \"error\" object");
  auto kind = err->find("kind");
  auto msg = err->find("message");
  if (kind == err->end() || !kind->is_string() || msg == err->end() || !msg->is_string()) {
    return std::unexpected("the reply's \"error\" lacks a string \"kind\" or \"message\"");
  }
  r.kind = error_kind_from_string(kind->get<std::string>());
  r.message = msg->get<std::string>();
  return r;
}

Reply error_reply(long long id, ErrorKind kind, std::string message) {
  return Reply{.id = id, .ok = false, .result = json::object(), .kind = kind, .message = std::move(message)};
}

}  // namespace wgopt::peer
