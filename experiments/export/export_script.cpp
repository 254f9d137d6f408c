// --format systemd: a oneshot unit and the sh script it runs for every knob sysctl cannot hold.
// Each step does what the knob's apply() does (actuators/knobs_*.cpp), so `wgopt apply` and the
// script leave the same state: the same ethtool/ip/tc argv, RPS values written to every rx queue,
// the qdisc restored by deleting the root, the offload read back. The script decides nothing the
// profile does not say; the one thing it must look up at run time is which IRQs are the NIC's
// queue IRQs, because IRQ numbers change across boots.
#include <fmt/format.h>

#include <optional>
#include <set>

#include "actuators/irq_placement.hpp"
#include "actuators/knobs_common.hpp"
#include "common/util.hpp"
#include "experiments/export/export_model.hpp"

namespace wgopt::experiments::exportfmt {

namespace {

const char* kScriptPath = "usr/local/sbin/wgopt-tuning.sh";

// How long the script waits for a missing interface (NetBird creates wt0 some seconds after boot),
// unless WGOPT_TUNING_WAIT says otherwise; the units' TimeoutStartSec leaves room for it.
constexpr int kWaitSeconds = 60;

// Which interfaces a run applies, after waiting for them. Every name in it was validated
// ([A-Za-z0-9_.-]) and is single-quoted.
const char* kSelect = R"SH(
# Which interfaces this run applies: every one (the boot unit), or the one of `--interface IF`
# (the unit bound to IF, each time IF appears). A missing one is waited for, up to
# WGOPT_TUNING_WAIT seconds in all (default %WAIT%); still missing, the run stops before anything changes.
wait_s=${WGOPT_TUNING_WAIT:-%WAIT%}
case $wait_s in '' | *[!0-9]*) fail "WGOPT_TUNING_WAIT='$wait_s' is not a whole number of seconds" ;; esac
only=
case $# in
  0) ;;
  2) [ "$1" = --interface ] || fail "usage: $0 [--interface IF]"; only=$2 ;;
  *) fail "usage: $0 [--interface IF]" ;;
esac
if [ -n "$only" ]; then
  case " $devices " in
    *" $only "*) ;;
    *) fail "the profile has no settings for interface $only (it has:$devices)" ;;
  esac
fi
waited=0
selected=
for dev in $devices; do
  if [ -n "$only" ] && [ "$dev" != "$only" ]; then continue; fi
  while [ ! -e "/sys/class/net/$dev" ]; do
    if [ "$waited" -ge "$wait_s" ]; then
      fail "interface $dev does not exist here (waited $wait_s s; see ip link): nothing was changed"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  selected="$selected $dev"
done

# on DEV CMD...: CMD when this run applies DEV. everything CMD...: CMD only in the full run.
on() {
  case " $selected " in
    *" $1 "*) shift; "$@" ;;
  esac
}
everything() {
  if [ -z "$only" ]; then "$@"; fi
}
)SH";

// Helpers, emitted only when a step uses them. Names are the knob kinds they serve.
const char* kFail = R"SH(fail() {
  echo "wgopt-tuning: $*" >&2
  exit 1
}

# run CMD...: runs it; a failure names the command and stops the script.
run() {
  "$@" || fail "\`$*\` failed (exit $?)"
}

# write_sys FILE VALUE: one write to /sys or /proc; the kernel refuses bad values here.
write_sys() {
  printf '%s\n' "$2" > "$1" || fail "cannot write '$2' to $1"
}
)SH";

const char* kRps = R"SH(
# rx_queues DEV: the device's receive queues in number order (rx-2 before rx-10).
rx_queues() {
  for q in "/sys/class/net/$1/queues"/rx-*; do
    if [ -e "$q" ]; then echo "${q##*/}"; fi
  done | sort -t- -k2 -n
}

# set_rx_queues DEV FILE VALUE...: one value for every receive queue, or one per queue in rx-N
# order (what wgopt's rps_cpus / rps_flow_cnt knobs write).
set_rx_queues() {
  dev=$1 file=$2
  shift 2
  queues=$(rx_queues "$dev")
  [ -n "$queues" ] || fail "$dev has no receive queues in /sys/class/net/$dev/queues"
  n=$(printf '%s\n' "$queues" | wc -l)
  if [ $# -ne 1 ] && [ $# -ne "$n" ]; then
    fail "$dev has $n receive queues but the profile gives $# values for $file"
  fi
  for q in $queues; do
    write_sys "/sys/class/net/$dev/queues/$q/$file" "$1"
    if [ $# -gt 1 ]; then shift; fi
  done
}
)SH";

const char* kCount = R"SH(
# ethtool_count DEV -l|-g ROW WORD VALUE: `ethtool -L|-G DEV WORD VALUE` unless the current
# hardware setting ROW already is VALUE (ethtool fails when nothing changes).
ethtool_count() {
  current=$(ethtool "$2" "$1" | awk -v row="$3:" '/^Current hardware settings/ { c = 1 } c && $1 == row { print $2; exit }')
  if [ "$current" = "$5" ]; then return 0; fi
  if [ "$2" = -l ]; then flag=-L; else flag=-G; fi
  run ethtool "$flag" "$1" "$4" "$5"
}
)SH";

const char* kOffload = R"SH(
# set_offload DEV FEATURE ROW on|off: `ethtool -K`, then read back, since ethtool can exit 0
# while a feature the driver ties it to keeps it from changing.
set_offload() {
  run ethtool -K "$1" "$2" "$4"
  now=$(ethtool -k "$1" | awk -v row="$3:" '$1 == row { print $2; exit }')
  [ "$now" = "$4" ] || fail "$1 kept $2 ${now:-unknown} after ethtool -K $1 $2 $4 (a feature it depends on is off?)"
}
)SH";

const char* kQdisc = R"SH(
root_qdisc() {
  tc qdisc show dev "$1" | awk '$1 == "qdisc" && $4 == "root" { print $2; exit }'
}

# set_qdisc DEV KIND [ARGS...]: deleting the root gives the device its default qdisc back (how
# pfifo_fast, noqueue or mq return); any other kind replaces the root.
set_qdisc() {
  dev=$1 kind=$2
  shift 2
  if [ "$(root_qdisc "$dev")" = "$kind" ]; then return 0; fi
  tc qdisc del dev "$dev" root 2>/dev/null || true
  if [ "$(root_qdisc "$dev")" = "$kind" ]; then return 0; fi
  run tc qdisc replace dev "$dev" root "$kind" "$@"
}
)SH";

const char* kIrq = R"SH(
# data_path_irqs DEV: the NIC's queue IRQs, ascending, found the way wgopt finds them: the MSI
# IRQs of its PCI function (bus-info of ethtool -i) whose /proc/interrupts name is a queue's
# (virtioN-input.K, mlx5_compK, DEV-TxRx-K ...), never its control IRQs.
data_path_irqs() {
  bus=$(ethtool -i "$1" | awk '$1 == "bus-info:" { print $2; exit }')
  if [ -z "$bus" ] || [ ! -d "/sys/bus/pci/devices/$bus/msi_irqs" ]; then
    fail "$1 has no PCI MSI IRQs (bus-info '$bus'): its IRQ affinity cannot be set"
  fi
  msi=" "
  for f in "/sys/bus/pci/devices/$bus/msi_irqs"/*; do msi="$msi${f##*/} "; done
  awk -v dev="$1" -v msi="$msi" '
    $1 ~ /^[0-9]+:$/ {
      irq = substr($1, 1, length($1) - 1); name = $NF; lname = tolower(name)
      if (index(msi, " " irq " ") == 0) next
      if (lname ~ /async|config|ctrl|control|mgmnt|event|misc/) next
      if (name ~ /^mlx5_comp/ || index(name, "-input.") || index(name, "-output.") ||
          (index(name, dev "-") == 1 && lname ~ /rx|tx/)) print irq
    }' /proc/interrupts | sort -n
}

# cpus_off_rps DEV NPROC: the CPUs (one per line) in none of DEV's rx queues' rps_cpus; every CPU
# when RPS is off or takes them all.
cpus_off_rps() {
  for q in "/sys/class/net/$1/queues"/rx-*; do
    if [ -e "$q/rps_cpus" ]; then cat "$q/rps_cpus"; fi
  done | awk -v n="$2" '
    {
      gsub(/[, \t]/, ""); len = length($0)
      for (i = len; i >= 1; i--) {
        d = index("0123456789abcdef", tolower(substr($0, i, 1))) - 1
        for (b = 0; b < 4; b++) {
          if (d % 2 == 1) rps[(len - i) * 4 + b] = 1
          d = int(d / 2)
        }
      }
    }
    END {
      for (c = 0; c < n; c++) if (!(c in rps)) { print c; free++ }
      if (!free) for (c = 0; c < n; c++) print c
    }'
}

# place_irqs DEV PLACEMENT NPROC: the k-th queue IRQ on the k-th CPU of a list, round robin:
# every CPU for spread (the field guide's loop), CPU 0 for one-core, the CPUs outside DEV's RPS
# CPUs for off-rps (cpus_off_rps). RPS is written before this, as wgopt writes it.
place_irqs() {
  irqs=$(data_path_irqs "$1")
  [ -n "$irqs" ] || fail "no queue IRQs of $1 in /proc/interrupts"
  case $2 in
    spread) cpus=$(awk -v n="$3" 'BEGIN { for (c = 0; c < n; c++) print c }') ;;
    one-core) cpus=0 ;;
    off-rps) cpus=$(cpus_off_rps "$1" "$3") ;;
    *) fail "unknown IRQ placement '$2' for $1" ;;
  esac
  ncpus=$(printf '%s\n' "$cpus" | wc -l)
  k=0
  for irq in $irqs; do
    cpu=$(printf '%s\n' "$cpus" | sed -n "$((k % ncpus + 1))p")
    write_sys "/proc/irq/$irq/smp_affinity_list" "$cpu"
    k=$((k + 1))
  done
}

# pin_irqs DEV MASK...: one CPU mask for every queue IRQ, or one per IRQ in IRQ order; fewer masks
# than IRQs place the first IRQs and leave the others as they are.
pin_irqs() {
  dev=$1
  shift
  irqs=$(data_path_irqs "$dev")
  [ -n "$irqs" ] || fail "no queue IRQs of $dev in /proc/interrupts"
  n=$(printf '%s\n' "$irqs" | wc -l)
  if [ $# -gt "$n" ]; then fail "$dev has $n queue IRQs but the profile gives $# masks"; fi
  each=$#
  for irq in $irqs; do
    if [ $# -eq 0 ]; then break; fi
    write_sys "/proc/irq/$irq/smp_affinity" "$1"
    if [ "$each" -gt 1 ]; then shift; fi
  done
}
)SH";

// ethtool -k prints these rows for the features -K takes by their short names.
std::string feature_row(const std::string& feature) {
  if (feature == "gro") return "generic-receive-offload";
  if (feature == "gso") return "generic-segmentation-offload";
  if (feature == "tso") return "tcp-segmentation-offload";
  return feature;
}

std::string words(const std::string& value) {
  std::string out;
  for (const auto& w : split_ws(value)) out += " " + sh_quote(w);
  return out;
}

// The script line(s) for one knob, or "" for a knob the script does not hold (sysctls).
std::string device_step(const Knob& k, const Model& m) {
  const std::string dev = sh_quote(k.device);
  const std::string leaf = k.name.substr(k.name.find('/') + 1);
  if (k.kind == "service") return fmt::format("everything run systemctl {} irqbalance\n", k.value == "active" ? "start" : "stop");
  if (k.kind == "channels") return fmt::format("ethtool_count {} -l {} {} {}\n", dev, leaf == "combined" ? "Combined" : leaf == "rx" ? "RX" : "TX", leaf, sh_quote(k.value));
  if (k.kind == "rings") return fmt::format("ethtool_count {} -g {} {} {}\n", dev, leaf == "rx" ? "RX" : "TX", leaf, sh_quote(k.value));
  if (k.kind == "offload") return fmt::format("set_offload {} {} {} {}\n", dev, sh_quote(leaf), sh_quote(feature_row(leaf)), sh_quote(k.value));
  if (k.kind == "rss_hash") return fmt::format("run ethtool -N {} rx-flow-hash udp4 {}\n", dev, sh_quote(k.value));
  if (k.kind == "rss_equal") {
    if (k.value.starts_with("weight:")) {
      std::string ws;
      for (const auto& w : split(k.value.substr(7), ',')) ws += " " + sh_quote(w);
      return fmt::format("run ethtool -X {} weight{}\n", dev, ws);
    }
    return fmt::format("run ethtool -X {} equal {}\n", dev, sh_quote(k.value));
  }
  if (k.kind == "rps_cpus" || k.kind == "rps_flow_cnt") return fmt::format("set_rx_queues {} {}{}\n", dev, k.kind, words(k.value));
  if (k.kind == "irq_affinity") {
    if (act::is_irq_placement_name(k.value)) {
      const std::string name = sh_quote(k.value);
      return m.nproc ? fmt::format("place_irqs {} {} {}\n", dev, name, sh_quote(std::to_string(*m.nproc)))
                     : fmt::format("place_irqs {} {} \"$(nproc)\"  # the profile does not say its CPU count\n", dev, name);
    }
    return fmt::format("pin_irqs {}{}\n", dev, words(k.value));
  }
  if (k.kind == "qdisc") {
    // The arguments the qdisc knob gives the kinds that need them (a tbf that never throttles).
    std::string args;
    for (const auto& a : act::qdisc_create_args(k.value)) args += " " + sh_quote(a);
    return fmt::format("set_qdisc {} {}{}\n", dev, sh_quote(k.value), args);
  }
  if (k.kind == "txqueuelen" || k.kind == "mtu") return fmt::format("run ip link set dev {} {} {}\n", dev, k.kind, sh_quote(k.value));
  return "";
}

// One knob's line: a device knob runs when its interface is among this run's (`on DEV`), a host
// knob only in the full run (`everything`).
std::string step(const Knob& k, const Model& m) {
  if (k.device.empty()) return device_step(k, m);
  const std::string line = device_step(k, m);
  return line.empty() ? line : "on " + sh_quote(k.device) + " " + line;
}

// NetBird (and wg-quick) delete and create the WireGuard interface again on restart and upgrade,
// which drops its MTU, RPS, qdisc and txqueuelen: a unit bound to the interface's device re-applies
// them each time udev announces it (systemd tags every net device, so sys-subsystem-net-devices-IF
// .device comes and goes with it). BindsTo stops the unit when the device goes, WantedBy starts it
// again when it comes back. None when the profile has no setting of the WireGuard interface.
std::optional<ExportFile> device_unit(const act::Profile& profile, const Model& m, const ExportOptions& o,
                                      const std::vector<const Knob*>& held) {
  const std::string& dev = m.roles.wireguard;
  if (dev.empty()) return std::nullopt;
  bool has = false;
  for (const Knob* k : held) has = has || k->device == dev;
  if (!has) return std::nullopt;
  const std::string device = device_unit_name(dev);
  const std::string file = reapply_unit_file(dev);
  const std::string name = file.substr(file.rfind('/') + 1);
  std::string unit = header(profile, o, "#",
                            fmt::format("install -m 0644 {} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable {}",
                                        name, name));
  unit += captured_note(m, "#", "for the namespace, run the script in it: ip netns exec NAME /" + std::string(kScriptPath));
  unit += "\n[Unit]\n";
  unit += fmt::format("Description=wgopt tuning of {}: its settings again each time the interface appears (NetBird recreates it)\n", dev);
  unit += fmt::format("BindsTo={}\nAfter={}\n\n", device, device);
  unit += "[Service]\nType=oneshot\n";
  unit += fmt::format("ExecStart=/{} --interface {}\n", kScriptPath, dev);
  unit += "RemainAfterExit=yes\n";
  unit += fmt::format("TimeoutStartSec={}\n\n", kWaitSeconds + 60);
  unit += fmt::format("[Install]\nWantedBy={}\n", device);
  return ExportFile{file, unit, 0644};
}

}  // namespace

std::vector<ExportFile> render_systemd(const act::Profile& profile, const Model& m, const ExportOptions& o) {
  std::vector<const Knob*> held, sysctls;
  std::set<std::string> kinds;
  for (const auto& k : m.knobs) {
    if (k.kind == "sysctl") {
      sysctls.push_back(&k);
    } else {
      held.push_back(&k);
      kinds.insert(k.kind);
    }
  }
  // A unit and script that set nothing would still run at every boot and claim "applied 0
  // setting(s)"; sysctls are sysctl.d's.
  if (held.empty()) {
    throw NothingToHold(fmt::format("systemd: profile {} has only sysctls, which --format sysctl holds: no unit or script needed",
                                    label(o)));
  }
  const std::string script_abs = std::string("/") + kScriptPath;

  std::string unit = header(profile, o, "#",
                            fmt::format("install -m 0644 wgopt-tuning.service /etc/systemd/system/ && install -m 0755 "
                                        "wgopt-tuning.sh {} && systemctl daemon-reload && systemctl enable --now wgopt-tuning.service",
                                        script_abs));
  unit += captured_note(m, "#", "for the namespace, run the script in it: ip netns exec NAME " + script_abs);
  unit += "\n[Unit]\n";
  unit += "Description=wgopt tuning: interface settings sysctl cannot hold (RPS, IRQs, channels, rings, offloads, qdisc, MTU)\n";
  unit += kinds.count("service") ? "After=network-online.target netbird.service irqbalance.service\n"
                                 : "After=network-online.target netbird.service\n";
  unit += "Wants=network-online.target\n\n";
  unit += "[Service]\nType=oneshot\n";
  unit += "ExecStart=" + script_abs + "\n";
  unit += "RemainAfterExit=yes\n";
  unit += fmt::format("# The script waits up to {} s for an interface NetBird has not created yet.\n", kWaitSeconds);
  unit += fmt::format("TimeoutStartSec={}\n\n", kWaitSeconds + 60);
  unit += "[Install]\nWantedBy=multi-user.target\n";

  std::string sh = "#!/bin/sh\n";
  sh += header(profile, o, "#", "run by wgopt-tuning.service; by hand: sh " + script_abs);
  sh += captured_note(m, "#", "for the namespace, run it there: ip netns exec NAME sh " + script_abs);
  sh += not_expressible(sysctls, "#", "sysctls; use --format sysctl");
  sh += "set -eu\n\n";
  sh += kFail;
  if (kinds.count("rps_cpus") || kinds.count("rps_flow_cnt")) sh += kRps;
  if (kinds.count("channels") || kinds.count("rings")) sh += kCount;
  if (kinds.count("offload")) sh += kOffload;
  if (kinds.count("qdisc")) sh += kQdisc;
  if (kinds.count("irq_affinity")) sh += kIrq;
  {
    // The names go into the script unquoted inside one single-quoted list: each is [A-Za-z0-9_.-].
    std::string list;
    for (const auto& d : m.devices) list += " " + d;
    sh += "\n# Every interface first, so a missing one stops the script before anything changes.\n";
    sh += "devices=" + sh_quote(list) + "\n";
    std::string select = kSelect;
    for (auto at = select.find("%WAIT%"); at != std::string::npos; at = select.find("%WAIT%")) {
      select.replace(at, 6, std::to_string(kWaitSeconds));
    }
    sh += select;
  }
  sh += "\n# In the order `wgopt apply` writes them: channels before the masks of the queues they create, MTU last.\n";
  for (const Knob* k : held) {
    sh += comment_line("#", fmt::format("{} = {}", k->id, k->value));
    sh += step(*k, m);
  }
  sh += "if [ -n \"$only\" ]; then\n  echo \"wgopt-tuning: applied the settings of $only\"\nelse\n";
  sh += "  echo \"wgopt-tuning: applied " + std::to_string(held.size()) + " setting(s)\"\nfi\n";

  std::vector<ExportFile> files{{"etc/systemd/system/wgopt-tuning.service", unit, 0644}, {kScriptPath, sh, 0755}};
  if (auto u = device_unit(profile, m, o, held)) files.push_back(std::move(*u));
  return files;
}

// The path's last part: a leading '.' is escaped only at the start of the whole name (systemd-escape
// --path /sys/subsystem/net/devices/.wg gives ...-devices-.wg; \x2ewg would name a unit never pulled in).
std::string device_unit_name(const std::string& dev) { return "sys-subsystem-net-devices-" + systemd_escape(dev, false) + ".device"; }

std::string reapply_unit_file(const std::string& dev) { return "etc/systemd/system/wgopt-tuning-" + dev + ".service"; }

}  // namespace wgopt::experiments::exportfmt
