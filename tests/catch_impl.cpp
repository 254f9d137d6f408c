// Catch2's implementation, compiled once for every test executable (about half a minute of the
// clean build per copy): the executables add only their main (main.cpp), which calls run_catch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

namespace wgopt::test {
int run_catch(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
}  // namespace wgopt::test
