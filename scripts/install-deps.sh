#!/usr/bin/env bash
# Installs everything wgopt needs to build, test and run, from Debian packages only.
# Idempotent: a second run installs nothing and exits 0. Used by README, .ci/run and the testbed.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get); re-run with sudo" >&2
  exit 1
fi

BUILD_PKGS=(
  build-essential cmake pkg-config
  libeigen3-dev libnlopt-dev libnlopt-cxx-dev
  libboost-dev libboost-filesystem-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev catch2
  libcli11-dev nlohmann-json3-dev libsqlite3-dev sqlite3
)
# openssh-client: `--ssh` reaches a peer through the system ssh (the peer needs only sshd and wgopt).
RUNTIME_PKGS=(
  iperf3 wireguard-go wireguard-tools ethtool iproute2 iputils-ping procps kmod openssh-client
)
# The tests render `wgopt report --html` in headless Chromium to check it displays, read the
# exported tuned.conf with Python's configparser set up as TuneD's loader sets it up, and reach the
# testbed's server end through a real sshd (`wgopt testbed up --ssh` runs its own, in a namespace),
# and run the exported Ansible role with Debian's ansible-playbook (ansible-core 2.14 and the
# collections the `ansible` package ships) against the testbed's ends over that sshd.
# The fuzz targets (fuzz/, scripts/fuzz-smoke.sh) need clang with libFuzzer and the sanitizer
# runtimes: clang-16 is bookworm's oldest that compiles this C++23 tree (clang-14 lacks lambda
# captures of structured bindings), and libclang-rt-16-dev holds libFuzzer, ASan and UBSan.
# systemd (no systemd need run) gives systemd-analyze: `verify` checks the exported units and
# `calendar` the timer's --on-calendar.
TEST_PKGS=(chromium python3 openssh-server irqbalance ansible clang-16 libclang-rt-16-dev systemd)
EXTRA_PKGS=()
# WGOPT_EXTRA=1 adds what only the optimizer benchmark uses (Optuna, for the side-by-side table).
if [ "${WGOPT_EXTRA:-0}" = "1" ]; then
  EXTRA_PKGS=(python3-optuna)
fi

missing=()
for p in "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}" "${EXTRA_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps.sh: all packages present"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# iperf3's package asks whether to start a system-wide daemon; we run our own servers.
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
