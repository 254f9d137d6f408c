#!/usr/bin/env bash
# The fuzz smoke run: the libraries and the targets of fuzz/ built with clang-16, ASan and UBSan in
# build-fuzz/ (a build dir of its own: the normal GCC build is untouched), then every target for
# WGOPT_FUZZ_SECONDS seconds (default 5) through fuzz/run, two at a time. Exits non-zero when the
# build fails or any target finds a crash, a sanitizer report or a broken invariant.
# Extra arguments go to cmake's configure step (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
# Longer runs: fuzz/run --seconds 600 (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${WGOPT_FUZZ_SECONDS:-5}
if ! command -v clang++-16 >/dev/null; then
  echo "fuzz-smoke.sh: clang++-16 is missing: run scripts/install-deps.sh (installs clang-16 and libclang-rt-16-dev)" >&2
  exit 1
fi
# -O1 with line tables only: ASan's recommended level, and the sanitized build compiles ~25% faster
# than RelWithDebInfo's -O2 -g (CI builds this tree from scratch every run); reports keep file:line.
cmake -S . -B build-fuzz -DWGOPT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DWGOPT_FUZZ_SMOKE_SECONDS="$seconds" "$@"
cmake --build build-fuzz -j2
ctest --test-dir build-fuzz -L fuzz --output-on-failure
