# Included by the top-level CMakeLists when WGOPT_FUZZ is ON, before any library is added: the whole
# build (every wgopt_* library and the targets in fuzz/) gets AddressSanitizer, UndefinedBehavior-
# Sanitizer and libFuzzer's coverage instrumentation. Needs clang: GCC has no libFuzzer.
# scripts/fuzz-smoke.sh shows the configure line (clang++-16, build-fuzz/).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "WGOPT_FUZZ=ON needs clang with libFuzzer (compiler here: ${CMAKE_CXX_COMPILER_ID}): "
                      "configure a separate build dir with -DCMAKE_CXX_COMPILER=clang++-16 "
                      "(scripts/install-deps.sh installs clang-16 and libclang-rt-16-dev)")
endif()
# -fno-sanitize-recover: a UBSan report stops the run like an ASan one, so libFuzzer keeps the input.
# _GLIBCXX_ASSERTIONS: libstdc++ checks vector[] / string[] bounds inside the capacity ASan cannot see.
add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
                    -fsanitize=fuzzer-no-link -gline-tables-only -D_GLIBCXX_ASSERTIONS)
add_link_options(-fsanitize=address,undefined)
