// The main shared by every test executable (Catch2 itself is catch_impl.cpp). The integration tests
// need root (namespaces, testbeds, the host's IRQs): built with WGOPT_TESTS_NEED_ROOT, their binary
// exits 77 without root, which CTest reports as "Skipped" (SKIP_RETURN_CODE), never as passed.
#include <unistd.h>

#include <cstdio>

namespace wgopt::test {
int run_catch(int argc, char* argv[]);  // catch_impl.cpp
}

int main(int argc, char* argv[]) {
#ifdef WGOPT_TESTS_NEED_ROOT
  if (::geteuid() != 0) {
    std::fprintf(stderr, "SKIPPED: these tests need root (network namespaces, testbeds, the host's IRQs): run them as root\n");
    return 77;
  }
#endif
  return wgopt::test::run_catch(argc, argv);
}
