// The agent protocol (experiments/peer/protocol.hpp, ops.hpp): the bytes `wgopt __agent` reads from
// its stdin and the bytes the controller reads back, both fed the same fuzzed stream.
// Invariants beyond "no crash, no sanitizer report":
//   framing   LineFramer gives the lines a plain split on '\n' gives (a trailing '\r' dropped), a
//             line over the limit as one `oversized` entry and nothing of its bytes, whatever the
//             chunks the stream arrives in; has_partial() says whether bytes follow the last '\n';
//   agent     parse_request never throws; what it accepts has an id in 1..2^53 and an op of
//             [a-z0-9_]{1,32}, and encode_request gives it back equal; validate_args refuses bad
//             args only with ArgsError (the agent answers anything else as a runtime failure, which
//             the controller would take for a fault of the peer); the error reply the agent would
//             send is one line that parse_reply reads back with the same id and kind;
//   controller parse_reply never throws; what it accepts re-encodes to an equal reply; a result
//             every decode_result<T> either reads or refuses with an exception (the client turns any
//             std::exception into one Error), and what it reads re-encodes to a result that decodes
//             to the same JSON again.
#include <string>
#include <string_view>
#include <vector>

#include "experiments/peer/ops.hpp"
#include "experiments/peer/protocol.hpp"
#include "fuzz/check.hpp"

using namespace wgopt;
using namespace wgopt::peer;

namespace {
constexpr const char* kTarget = "agent";
constexpr size_t kSmallLine = 64;  // a second framer with a small limit reaches the oversized path

// The lines a plain split gives: what the framer must return for a stream and a line limit.
std::vector<LineFramer::Line> expected_lines(std::string_view s, size_t max_line) {
  std::vector<LineFramer::Line> out;
  size_t from = 0;
  for (size_t nl = s.find('\n'); nl != std::string_view::npos; nl = s.find('\n', from)) {
    std::string line(s.substr(from, nl - from));
    if (line.size() > max_line) out.push_back({.text = {}, .oversized = true});
    else {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.push_back({.text = std::move(line)});
    }
    from = nl + 1;
  }
  return out;
}

// Feeds the stream in chunks whose sizes come from the stream's own bytes (1..16).
std::vector<LineFramer::Line> framed_in_chunks(std::string_view s, size_t max_line, bool& partial) {
  LineFramer f(max_line);
  std::vector<LineFramer::Line> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t n = std::min<size_t>(s.size() - at, 1 + static_cast<unsigned char>(s[at]) % 16);
    for (auto& l : f.feed(s.substr(at, n))) out.push_back(std::move(l));
    at += n;
  }
  partial = f.has_partial();
  return out;
}

void check_framing(std::string_view s, size_t max_line) {
  bool partial = false;
  const auto got = framed_in_chunks(s, max_line, partial);
  const auto want = expected_lines(s, max_line);
  if (got.size() != want.size())
    fuzz::broken(kTarget, "LineFramer gave " + std::to_string(got.size()) + " lines, the split " + std::to_string(want.size()));
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].oversized != want[i].oversized || got[i].text != want[i].text)
      fuzz::broken(kTarget, "LineFramer line " + std::to_string(i) + " is '" + fuzz::shown(got[i].text) + "', the split's '" +
                                fuzz::shown(want[i].text) + "'");
  }
  const size_t last_nl = s.rfind('\n');
  const bool tail = last_nl == std::string_view::npos ? !s.empty() : last_nl + 1 < s.size();
  if (partial != tail) fuzz::broken(kTarget, "LineFramer::has_partial() is wrong at the end of the stream");
}

void check_error_reply(long long id, ErrorKind kind, const std::string& message) {
  const std::string line = encode_reply(error_reply(id, kind, message));
  if (line.find('\n') != std::string::npos) fuzz::broken(kTarget, "an error reply spans two lines: " + fuzz::shown(line));
  auto back = parse_reply(line);
  if (!back) fuzz::broken(kTarget, "parse_reply refuses the agent's own error reply (" + back.error() + "): " + fuzz::shown(line));
  if (back->id != id || back->ok || back->kind != kind) fuzz::broken(kTarget, "error reply changed across encode/parse: " + line);
}

// What the agent does with one line before it acts on anything.
void agent_side(const std::string& line) {
  auto req = parse_request(line);
  if (!req) {
    if (req.error().id < 0) fuzz::broken(kTarget, "a protocol error with a negative id");
    check_error_reply(req.error().id, ErrorKind::Protocol, req.error().message);
    return;
  }
  if (req->id <= 0 || req->id > (1LL << 53) || req->op.empty() || req->op.size() > 32 ||
      req->op.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos || !req->args.is_object())
    fuzz::broken(kTarget, "parse_request accepted a request outside its contract: " + fuzz::shown(line));
  const std::string again = encode_request(*req);
  auto back = parse_request(again);
  if (!back || back->id != req->id || back->op != req->op || back->args != req->args)
    fuzz::broken(kTarget, "encode_request does not give the request back: " + fuzz::shown(again));
  try {
    validate_args(req->op, req->args);
  } catch (const ArgsError& e) {
    check_error_reply(req->id, ErrorKind::Usage, e.what());
  } catch (const std::exception& e) {
    fuzz::broken(kTarget, "validate_args(" + req->op + ") threw " + fuzz::type_name(e) + " instead of ArgsError: " + e.what());
  }
}

template <typename T>
void check_result(const nlohmann::json& result) {
  T first;
  try {
    first = decode_result<T>(result);
  } catch (const std::exception&) {
    return;  // refused: the client reports "cannot read the answer"
  }
  const nlohmann::json once = encode(first);
  nlohmann::json twice;
  try {
    twice = encode(decode_result<T>(once));
  } catch (const std::exception& e) {
    fuzz::broken(kTarget, std::string("a result decoded once is refused after re-encoding: ") + e.what() + "\n" + once.dump());
  }
  if (once != twice) fuzz::broken(kTarget, "a result changes across encode/decode:\n" + once.dump() + "\n" + twice.dump());
}

// What the controller does with one line the agent sent.
void controller_side(const std::string& line) {
  auto r = parse_reply(line);
  if (!r) return;
  auto back = parse_reply(encode_reply(*r));
  if (!back || back->id != r->id || back->ok != r->ok || (r->ok && back->result != r->result) ||
      (!r->ok && (back->kind != r->kind || back->message != r->message)))
    fuzz::broken(kTarget, "a reply changes across encode_reply/parse_reply: " + fuzz::shown(line));
  if (!r->ok) return;
  check_result<HelloResult>(r->result);
  check_result<StatusResult>(r->result);
  check_result<DiscoverResult>(r->result);
  check_result<ReadResult>(r->result);
  check_result<ValidateResult>(r->result);
  check_result<EqualResult>(r->result);
  check_result<ApplyReply>(r->result);
  check_result<act::RestoreReport>(r->result);
  check_result<RollbackAllResult>(r->result);
  check_result<LeaseState>(r->result);
  check_result<ProbeResult>(r->result);
  check_result<Iperf3Result>(r->result);
  check_result<PingResult>(r->result);
}

void check(std::string_view stream) {
  check_framing(stream, kSmallLine);
  check_framing(stream, kMaxRequestBytes);
  LineFramer f(kMaxRequestBytes);
  for (const auto& line : f.feed(stream)) {
    if (line.oversized) continue;
    agent_side(line.text);
    controller_side(line.text);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded(kTarget, [&] { check(std::string_view(reinterpret_cast<const char*>(data), size)); });
}
