// The fake host's implementation (no test cases here); see test_knobs_fake.hpp.
#include "tests/actuators/test_knobs_fake.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "actuators/catalog.hpp"
#include "actuators/cpumask.hpp"
#include "actuators/ethtool_parse.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace fs = std::filesystem;

namespace wgopt::test {

namespace {
const std::string kFixtures = std::string(WGOPT_FIXTURES_DIR) + "/actuators";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult ok(std::string out = {}) {
  CommandResult r;
  r.exit_code = 0;
  r.out = std::move(out);
  return r;
}
CommandResult fail(int code, std::string err) {
  CommandResult r;
  r.exit_code = code;
  r.err = std::move(err);
  return r;
}

// Replaces the value of `key` in the "Current hardware settings" section of ethtool -l/-g text.
bool set_current(std::string& text, const std::string& key, long long v) {
  auto cur = text.find("Current hardware settings:");
  if (cur == std::string::npos) return false;
  auto pos = text.find("\n" + key + ":", cur);
  if (pos == std::string::npos) return false;
  auto value_start = text.find_first_not_of(" \t", pos + key.size() + 2);
  auto eol = text.find('\n', value_start);
  text.replace(value_start, eol - value_start, std::to_string(v));
  return true;
}

std::string feature_row(const std::string& name) {
  if (name == "gro") return "generic-receive-offload";
  if (name == "gso") return "generic-segmentation-offload";
  if (name == "tso") return "tcp-segmentation-offload";
  return name;
}

std::string render_table(const std::string& dev, int rings, const std::vector<int>& t, const std::string& tail) {
  std::string out = fmt::format("RX flow hash indirection table for {} with {} RX ring(s):\n", dev, rings);
  for (size_t i = 0; i < t.size(); i += 8) {
    out += fmt::format("{:5}: ", i);
    for (size_t j = i; j < i + 8 && j < t.size(); ++j) out += fmt::format("{:6}", t[j]);
    out += "\n";
  }
  return out + tail;
}
}  // namespace

std::map<std::string, std::string> snapshot_tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = slurp(e.path().string());
    else if (e.is_directory()) out[fs::relative(e.path(), root).string() + "/"] = "";
  }
  return out;
}

KernelLikeFiles::KernelLikeFiles(std::string root, int nproc) : inner_(std::move(root)), nproc_(nproc) {}

void KernelLikeFiles::write(const std::string& path, const std::string& value) {
  ++writes;
  const std::string v = trim(value);
  auto refuse = [&](const char* why) { throw Error(fmt::format("cannot write '{}' to {}: {}", v, path, why)); };
  std::string stored = v + "\n";
  if (read_only.count(path)) refuse("Permission denied");
  if (fail_next_write) {
    const std::string why = *fail_next_write;
    fail_next_write.reset();
    refuse(why.c_str());
  }
  if (path.ends_with("/rps_cpus") || path.ends_with("/smp_affinity")) {
    act::CpuMask m;
    try {
      m = act::CpuMask::parse(v, nproc_);
    } catch (const UsageError&) {
      refuse("Value too large for defined data type");
    }
    if (path.ends_with("/smp_affinity") && m.empty()) refuse("Invalid argument");
    stored = m.kernel_format() + "\n";
  } else if (path.ends_with("/rps_flow_cnt") || path.ends_with("/rps_sock_flow_entries")) {
    long long n = std::stoll(v), p = n > 0 ? 1 : 0;
    if (n == 1 && path.ends_with("/rps_flow_cnt")) refuse("Invalid argument");  // kernel 6.18: no table of 1
    while (p > 0 && p < n) p <<= 1;
    stored = std::to_string(p) + "\n";
  } else if (path.ends_with("/tcp_rmem") || path.ends_with("/tcp_wmem")) {
    auto w = split_ws(v);
    if (w.size() != 3) refuse("Invalid argument");
    stored = fmt::format("{}\t{}\t{}\n", w[0], w[1], w[2]);
  } else if (path.ends_with("/tcp_congestion_control")) {
    auto avail = split_ws(inner_.read("/proc/sys/net/ipv4/tcp_available_congestion_control").value_or(""));
    if (std::find(avail.begin(), avail.end(), v) == avail.end()) refuse("No such file or directory");
  }
  inner_.write(path, stored);
}

FakeTools::FakeTools(std::string root, int nproc) : root_(std::move(root)), nproc_(nproc) {
  const std::string t = kFixtures + "/tools/";
  auto dev = [&](const std::string& name, const std::string& drv, const std::string& qdisc_file) {
    FakeDevice d;
    for (const std::string flag : {"-l", "-g", "-k", "-i", "-x", "-n"}) {
      std::string file = t + "ethtool_" + (flag == "-n" ? std::string("n_udp4") : flag.substr(1)) + "_" + drv + ".txt";
      if (!fs::exists(file)) {
        d.err[flag] = "netlink error: Operation not supported\n";
        continue;
      }
      std::string text = slurp(file);
      // The captures of unsupported operations hold the tool's error text.
      if (act::says_not_supported(text) && text.find("RX flow hash indirection") == std::string::npos) d.err[flag] = text;
      else d.out[flag] = text;
    }
    d.qdisc_default_line = qdisc_file.empty() ? "qdisc mq 0: root \n" : slurp(t + qdisc_file);
    auto q = act::parse_root_qdisc(d.qdisc_default_line);
    d.qdisc_kind = d.qdisc_default_kind = q.kind;
    d.qdisc_handle = q.handle;
    devices[name] = d;
  };
  dev("eth0", "virtio", "tc_qdisc_virtio.txt");
  dev("veth0", "veth", "tc_qdisc_veth.txt");
  dev("wg0", "tun", "tc_qdisc_tun.txt");
  dev("enp1s0", "mlx5", "");  // written: mlx5's default root is mq
  devices["enp1s0"].irq_base = 61;
}

void FakeTools::set_irqs(const std::string& dev, int n) {
  const FakeDevice& d = devices[dev];
  if (d.irqs == FakeDevice::Irqs::Fixed) return;
  const std::string bus = act::parse_driver_info(d.out.at("-i")).bus_info;
  const fs::path root(root_);
  auto lines = split_lines(slurp((root / "proc/interrupts").string()));
  for (int k = 0; k < 64; ++k) {
    const int irq = d.irq_base + k;
    const std::string row_start = fmt::format("{:>3}:", irq);
    auto row = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(row_start); });
    const bool want = k < n || (d.irqs == FakeDevice::Irqs::Keep && row != lines.end());
    if (!want && row != lines.end()) {
      lines.erase(row);
      fs::remove(root / "sys/bus/pci/devices" / bus / "msi_irqs" / std::to_string(irq));
      fs::remove_all(root / "proc/irq" / std::to_string(irq));
    } else if (want && d.irqs == FakeDevice::Irqs::Recreate) {
      std::ofstream(root / "proc/irq" / std::to_string(irq) / "smp_affinity") << act::CpuMask::all(nproc_).kernel_format() << "\n";
    }
    if (want && row == lines.end()) {
      // After the row of the IRQ before it, in the kernel's column layout.
      auto prev = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(fmt::format("{:>3}:", irq - 1)); });
      lines.insert(prev == lines.end() ? lines.end() : prev + 1,
                   fmt::format("{:>3}: {:>10} {:>10} PCI-MSIX-{} {:>3}-edge      mlx5_comp{}@pci:{}", irq, 0, 0, bus, k + 1, k, bus));
      std::ofstream(root / "sys/bus/pci/devices" / bus / "msi_irqs" / std::to_string(irq));
      fs::create_directories(root / "proc/irq" / std::to_string(irq));
      std::ofstream(root / "proc/irq" / std::to_string(irq) / "smp_affinity") << act::CpuMask::all(nproc_).kernel_format() << "\n";
    }
  }
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  std::ofstream(root / "proc/interrupts") << text;
}

CommandResult FakeTools::modprobe(const std::vector<std::string>& a) {
  // modprobe NAME: loads it when modules.dep lists it; a congestion control module adds its name.
  const fs::path root(root_);
  const std::string release = trim(slurp((root / "proc/sys/kernel/osrelease").string()));
  const std::string dep = slurp((root / "lib/modules" / release / "modules.dep").string());
  if (a.size() != 2 || dep.find("/" + a[1] + ".ko") == std::string::npos) {
    return fail(1, fmt::format("modprobe: FATAL: Module {} not found in directory /lib/modules/{}\n", a.size() > 1 ? a[1] : "", release));
  }
  if (a[1].starts_with("tcp_")) {
    const fs::path avail = root / "proc/sys/net/ipv4/tcp_available_congestion_control";
    std::string now = trim(slurp(avail.string()));
    std::ofstream(avail) << now << " " << a[1].substr(4) << "\n";
  }
  return ok();
}

std::string FakeTools::state() const {
  std::string s = "irqbalance=" + irqbalance + "\n";
  for (const auto& [name, d] : devices) {
    s += "== " + name + " qdisc " + d.qdisc_kind + " " + d.qdisc_handle + "\n";
    for (const auto& [f, text] : d.out) s += f + "\n" + text;
  }
  return s;
}

void FakeTools::set_queues(const std::string& dev, int n) {
  const fs::path q = fs::path(root_) / "sys/class/net" / dev / "queues";
  for (int i = 0; fs::exists(q / fmt::format("rx-{}", i)) || i < n; ++i) {
    for (const char* kind : {"rx", "tx"}) {
      const fs::path dir = q / fmt::format("{}-{}", kind, i);
      if (i >= n) {
        fs::remove_all(dir);
        continue;
      }
      if (fs::exists(dir)) continue;
      fs::create_directories(dir);
      if (std::string(kind) == "rx") {
        std::ofstream(dir / "rps_cpus") << act::CpuMask(nproc_).kernel_format() << "\n";
        std::ofstream(dir / "rps_flow_cnt") << "0\n";
      }
    }
  }
}

CommandResult FakeTools::ethtool(const std::vector<std::string>& a) {
  if (a.size() < 3 || !devices.count(a[2])) return fail(1, "netlink error: no device matches name (offset 24)\n");
  FakeDevice& d = devices[a[2]];
  const std::string flag = a[1];
  if (flag == "-l" || flag == "-g" || flag == "-k" || flag == "-i" || flag == "-x" ||
      (flag == "-n" && a.size() == 5 && a[3] == "rx-flow-hash" && a[4] == "udp4")) {
    if (d.err.count(flag)) return fail(1, d.err[flag]);
    return ok(d.out[flag]);
  }
  const std::string read_flag = flag == "-L" ? "-l" : flag == "-G" ? "-g" : flag == "-K" ? "-k" : flag == "-N" ? "-n" : flag == "-X" ? "-x" : "";
  if (read_flag.empty() || a.size() < 5) {
    unexpected.push_back(render_argv(a));
    return fail(1, "unknown\n");
  }
  if (d.err.count(read_flag)) return fail(1, d.err[read_flag]);
  std::string& text = d.out[read_flag];
  if (flag == "-L" || flag == "-G") {
    const std::string key = a[3] == "combined" ? "Combined" : a[3] == "rx" ? "RX" : "TX";
    auto pc = act::parse_preset_current(text);
    auto pair = pc.get(key);
    const long long v = std::stoll(a[4]);
    if (!pair) return fail(1, "netlink error: Invalid argument\n");
    if (v > pair->first || v < 1) return fail(1, "netlink error: requested channel count exceeds maximum (offset 36)\nnetlink error: Invalid argument\n");
    if (v == pair->second) return fail(1, fmt::format("netlink error: no {} parameters changed\n", flag == "-L" ? "channel" : "ring"));
    set_current(text, key, v);
    if (flag == "-L" && (key == "Combined" || key == "RX")) {
      set_queues(a[2], static_cast<int>(v));
      set_irqs(a[2], static_cast<int>(v));
    }
    return ok();
  }
  if (flag == "-K") {
    const std::string row = feature_row(a[3]) + ": ";
    auto pos = text.find("\n" + row);
    if (pos == std::string::npos) return fail(1, "ethtool: bad command line argument(s)\n");
    auto eol = text.find('\n', pos + 1);
    std::string line = text.substr(pos + 1, eol - pos - 1);
    if (line.find("[fixed]") != std::string::npos) return fail(1, "Could not change any device features\n");
    text.replace(pos + 1, eol - pos - 1, row + a[4]);
    return ok();
  }
  if (flag == "-N") {
    std::string out = "UDP over IPV4 flows use these fields for computing Hash flow key:\n";
    const std::vector<std::pair<char, std::string>> names = {{'m', "L2DA"}, {'v', "VLAN tag"}, {'t', "L3 proto"}, {'s', "IP SA"},
                                                             {'d', "IP DA"}, {'f', "L4 bytes 0 & 1 [TCP/UDP src port]"}, {'n', "L4 bytes 2 & 3 [TCP/UDP dst port]"}};
    for (const auto& [c, n] : names) {
      if (a[5].find(c) != std::string::npos) out += n + "\n";
    }
    text = out + "\n";
    return ok();
  }
  // -X equal N | weight W...: ethtool's fill_indir_table.
  auto ind = act::parse_indirection(text);
  const std::string tail = text.substr(text.find("RSS hash key:"));
  std::vector<int> table(ind.table.size());
  if (a[3] == "equal") {
    const int n = std::stoi(a[4]);
    if (n < 1 || n > ind.rx_rings) return fail(1, "Cannot set RX flow hash configuration: Invalid argument\n");
    for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int>(i % static_cast<size_t>(n));
  } else if (a[3] == "weight") {
    std::vector<unsigned> w;
    unsigned sum = 0;
    for (size_t i = 4; i < a.size(); ++i) w.push_back(static_cast<unsigned>(std::stoul(a[i]))), sum += w.back();
    unsigned partial = 0;
    int j = -1;
    for (size_t i = 0; i < table.size(); ++i) {
      while (i >= table.size() * partial / sum) partial += w[static_cast<size_t>(++j)];
      table[i] = j;
    }
  } else {
    unexpected.push_back(render_argv(a));
    return fail(1, "unknown\n");
  }
  text = render_table(a[2], ind.rx_rings, table, tail);
  return ok();
}

CommandResult FakeTools::tc(const std::vector<std::string>& a) {
  // tc qdisc show|del|replace dev DEV [root KIND ARGS...], tc class show dev DEV (no classes)
  if (a.size() == 5 && (a[1] == "class" || a[1] == "filter") && a[2] == "show" && a[3] == "dev" && devices.count(a[4])) return ok();
  if (a.size() < 5 || a[1] != "qdisc" || a[3] != "dev" || !devices.count(a[4])) {
    unexpected.push_back(render_argv(a));
    return fail(1, "Cannot find device\n");
  }
  FakeDevice& d = devices[a[4]];
  if (a[2] == "show") {
    if (d.qdisc_kind == d.qdisc_default_kind && d.qdisc_handle == "0:") return ok(d.qdisc_default_line);
    return ok(fmt::format("qdisc {} {} root refcnt 2 \n", d.qdisc_kind, d.qdisc_handle));
  }
  if (a[2] == "del") {
    if (d.qdisc_handle == "0:") return fail(2, "Error: Cannot delete qdisc with handle of zero.\n");
    d.qdisc_kind = d.qdisc_default_kind;
    d.qdisc_handle = "0:";
    return ok();
  }
  if (a[2] == "replace" && a.size() >= 7 && a[5] == "root") {
    const std::string kind = a[6];
    if (kind != "pfifo_fast" && kind != "htb" && kind != "tbf") return fail(2, "Error: Specified qdisc kind is unknown.\n");
    if (kind == "tbf" && a.size() < 13) return fail(1, "tbf: need \"rate\", \"burst\" and \"limit\" or \"latency\"\n");
    d.qdisc_kind = kind;
    d.qdisc_handle = fmt::format("{:x}:", d.next_handle++);
    return ok();
  }
  unexpected.push_back(render_argv(a));
  return fail(1, "unknown\n");
}

CommandResult FakeTools::ip(const std::vector<std::string>& a) {
  const fs::path net = fs::path(root_) / "sys/class/net";
  if (a.size() == 7 && a[1] == "link" && a[2] == "set" && a[3] == "dev" && (a[5] == "mtu" || a[5] == "txqueuelen")) {
    if (!fs::exists(net / a[4])) return fail(1, fmt::format("Cannot find device \"{}\"\n", a[4]));
    const long long v = std::stoll(a[6]);
    if (a[5] == "mtu" && (v < 68 || v > 65535)) return fail(2, "Error: mtu greater than device maximum.\n");
    std::ofstream(net / a[4] / (a[5] == "mtu" ? "mtu" : "tx_queue_len")) << v << "\n";
    return ok();
  }
  if (a.size() == 7 && a[1] == "-d" && a[2] == "-j" && a[3] == "link" && a[4] == "show" && a[5] == "dev") {
    if (!fs::exists(net / a[6])) return fail(1, fmt::format("Device \"{}\" does not exist.\n", a[6]));
    return ok(fmt::format("[{{\"ifname\":\"{}\",\"mtu\":{},\"txqlen\":{},\"min_mtu\":68,\"max_mtu\":65535}}]\n", a[6],
                          trim(slurp((net / a[6] / "mtu").string())), trim(slurp((net / a[6] / "tx_queue_len").string()))));
  }
  unexpected.push_back(render_argv(a));
  return fail(1, "unknown\n");
}

CommandResult FakeTools::run(const Command& cmd) {
  std::vector<std::string> a = cmd.argv;
  log.push_back(a);
  // Place::wrap of a namespace: the fake host is the namespace.
  if (a.size() > 4 && a[0] == "ip" && a[1] == "netns" && a[2] == "exec") a.erase(a.begin(), a.begin() + 4);
  if (a.empty()) return fail(1, "");
  if (a[0] == "ethtool") return ethtool(a);
  if (a[0] == "tc") return tc(a);
  if (a[0] == "ip") return ip(a);
  if (a[0] == "zcat" && a.size() == 2 && a[1] == "/proc/config.gz") return ok(slurp(kFixtures + "/tools/config_net_sch.txt"));
  if (a[0] == "modprobe") return modprobe(a);
  if (a[0] == "tuned-adm") {
    if (!tuned_adm) return CommandResult{.not_found = true};
    if (a.size() == 2 && a[1] == "active") return ok(*tuned_adm);
  }
  if (a[0] == "/etc/init.d/irqbalance" && a.size() == 2 && fs::exists(root_ + "/etc/init.d/irqbalance")) {
    // Debian's init script: start-stop-daemon starts /usr/sbin/irqbalance or stops every one.
    const fs::path proc = fs::path(root_) / "proc/812";
    if (a[1] == "stop") return fs::remove_all(proc), irqbalance = "inactive", ok();
    if (a[1] == "start") {
      fs::create_directories(proc);
      std::ofstream(proc / "comm") << "irqbalance\n";
      std::ofstream(proc / "cmdline") << std::string("/usr/sbin/irqbalance\0--pid=/run/irqbalance.pid\0", 47);
      return irqbalance = "active", ok();
    }
  }
  if (a[0] == "systemctl" && !systemd) {
    return fail(1, "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n");
  }
  if (a[0] == "systemctl" && a.size() == 5 && a[1] == "show") return ok("loaded\n");
  if (a[0] == "systemctl" && a.size() == 3 && a[2] == "irqbalance") {
    if (a[1] == "is-active") return irqbalance == "active" ? ok("active\n") : CommandResult{.exit_code = 3, .out = "inactive\n"};
    if (a[1] == "start") return irqbalance = "active", ok();
    if (a[1] == "stop") return irqbalance = "inactive", ok();
  }
  unexpected.push_back(render_argv(a));
  return fail(1, "unknown\n");
}

FakeHost::FakeHost(int nproc) {
  char tmpl[] = "/tmp/wgopt-knobs-XXXXXX";
  root = ::mkdtemp(tmpl);
  fs::copy(kFixtures + "/tree", root, fs::copy_options::recursive);
  // Git keeps no empty directory, so the fixture's empty ones (tx-N queues, a virtio device dir)
  // hold a .gitkeep; the fake host is the tree without those markers.
  std::vector<fs::path> markers;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() == ".gitkeep") markers.push_back(e.path());
  }
  for (const auto& m : markers) fs::remove(m);
  files = std::make_shared<KernelLikeFiles>(root.string(), nproc);
  tools = std::make_shared<FakeTools>(root.string(), nproc);
  host.place = Place::host();
  host.files = files;
  host.runner = tools;
  host.nproc = nproc;
}

void FakeHost::overlay(const std::string& dir) {
  fs::copy(kFixtures + "/" + dir, root, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

FakeSession::FakeSession(FakeHost& fake, const std::string& journal_from) {
  char tmpl[] = "/tmp/wgopt-fake-state-XXXXXX";
  dir = ::mkdtemp(tmpl);
  if (!journal_from.empty()) fs::copy_file(journal_from, dir / "journal.json");
  session = std::make_unique<act::ChangeSession>(
      dir.string(), [&fake](const Place&, const std::string& id) { return act::find_knob(fake.host, id); },
      act::SessionOptions{.run_dir = (dir / "run").string(), .proc_root = (fake.root / "proc").string()});
}

FakeSession::~FakeSession() {
  session.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

FakeHost::~FakeHost() {
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace wgopt::test
