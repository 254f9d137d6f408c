// The Catch2 main shared by every test executable. The integration tests need root (namespaces,
// testbeds, the host's IRQs): built with WGOPT_TESTS_NEED_ROOT, their binary exits 77 without root,
// which CTest reports as "Skipped" (SKIP_RETURN_CODE), never as passed.
#ifdef WGOPT_TESTS_NEED_ROOT
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

int main(int argc, char* argv[]) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "SKIPPED: these tests need root (network namespaces, testbeds, the host's IRQs): run them as root\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
#else
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
