#include "probes/wireguard.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

std::optional<int64_t> WgPeer::handshake_age(int64_t now) const {
  if (latest_handshake <= 0) return std::nullopt;
  return now > latest_handshake ? now - latest_handshake : 0;
}

std::vector<WgInterface> parse_wg_dump(const std::string& text, const std::string& source) {
  std::vector<WgInterface> out;
  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]).empty()) continue;
    const auto f = split(lines[i], '\t');
    auto num = [&](const std::string& s, const char* what) -> uint64_t {
      if (s == "off") return 0;
      auto v = detail::parse_u64(s);
      if (!v) detail::malformed(source, i + 1, fmt::format("{} '{}' is not a number", what, s));
      return *v;
    };
    if (f.size() == 5) {
      WgInterface w;
      w.name = f[0];
      w.public_key = f[2] == "(none)" ? "" : f[2];
      w.listen_port = static_cast<int>(num(f[3], "listen port"));
      w.fwmark = f[4];
      out.push_back(std::move(w));
    } else if (f.size() == 9) {
      if (out.empty() || out.back().name != f[0])
        detail::malformed(source, i + 1, fmt::format("peer of '{}' before its interface line", f[0]));
      WgPeer p;
      p.public_key = f[1];
      p.endpoint = f[3] == "(none)" ? "" : f[3];
      if (f[4] != "(none)")
        for (const auto& a : split(f[4], ','))
          if (!a.empty()) p.allowed_ips.push_back(a);
      p.latest_handshake = static_cast<int64_t>(num(f[5], "latest handshake"));
      p.rx_bytes = num(f[6], "transfer rx");
      p.tx_bytes = num(f[7], "transfer tx");
      p.persistent_keepalive = static_cast<int>(num(f[8], "persistent keepalive"));
      out.back().peers.push_back(std::move(p));
    } else {
      detail::malformed(source, i + 1, fmt::format("{} tab-separated fields, expected 5 or 9", f.size()));
    }
  }
  return out;
}

std::vector<WgInterface> read_wg_dump(CommandRunner& runner, const Place& place) {
  Command c{.argv = place.wrap({"wg", "show", "all", "dump"}), .timeout = std::chrono::seconds(10)};
  auto r = runner.run(c);
  if (r.not_found) throw Error("wg is not installed: run scripts/install-deps.sh (apt-get install wireguard-tools)");
  if (!r.ok()) throw Error(fmt::format("`wg show all dump` in {} failed: {}", place.describe(), r.brief()));
  return parse_wg_dump(r.out);
}

const char* to_string(WgMode m) {
  switch (m) {
    case WgMode::Kernel: return "kernel";
    case WgMode::Userspace: return "userspace";
    case WgMode::NotWireGuard: return "not-wireguard";
  }
  return "not-wireguard";
}

bool is_userspace_wg_comm(const std::string& comm) {
  return comm == "wireguard-go" || comm == "boringtun" || comm == "boringtun-cli" || comm == "netbird";
}

WgMode classify_wg_mode(const WgModeFacts& f) {
  if (f.info_kind == "wireguard") return WgMode::Kernel;
  if (f.info_kind == "tun" && (f.uapi_socket || !f.userspace_process.empty())) return WgMode::Userspace;
  return WgMode::NotWireGuard;
}

std::string parse_link_kind(const std::string& ip_json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ip_json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("`ip -d -j link show` printed something that is not JSON: {}", e.what()));
  }
  if (!j.is_array() || j.empty() || !j[0].is_object())
    throw Error("`ip -d -j link show` printed no interface object");
  const auto& link = j[0];
  if (!link.contains("linkinfo") || !link["linkinfo"].is_object()) return "";
  const auto& info = link["linkinfo"];
  return info.contains("info_kind") && info["info_kind"].is_string() ? info["info_kind"].get<std::string>() : "";
}

WgModeFacts detect_wg_facts(CommandRunner& runner, const Place& place, const std::string& iface,
                            const std::string& root) {
  require_valid_ifname(iface);
  WgModeFacts f;
  Command c{.argv = place.wrap({"ip", "-d", "-j", "link", "show", "dev", iface}), .timeout = std::chrono::seconds(10)};
  auto r = runner.run(c);
  if (!r.ok())
    throw Error(fmt::format("interface {} not found in {} ({}): check the name with `ip link`", iface,
                            place.describe(), r.brief()));
  f.info_kind = parse_link_kind(r.out);
  RootedFiles files(root);
  // wireguard-go keeps one UAPI socket per interface in a directory shared by all namespaces.
  f.uapi_socket = files.exists("/var/run/wireguard/" + iface + ".sock");
  f.kernel_module = files.exists("/sys/module/wireguard");
  for (const auto& pid : files.list("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto comm = files.read("/proc/" + pid + "/comm");
    if (comm && is_userspace_wg_comm(trim(*comm))) {
      f.userspace_process = trim(*comm);
      break;
    }
  }
  return f;
}

}  // namespace wgopt::probes
