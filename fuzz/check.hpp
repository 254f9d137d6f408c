#pragma once
// Shared by the libFuzzer targets (fuzz/fuzz_*.cpp): how a target reports a broken invariant, and
// the exception policy every parser here documents.
//   broken(target, what): prints "INVARIANT BROKEN in <target>: <what>" on stderr and aborts, so
//     libFuzzer keeps the input as a crash artefact; fuzz/run counts it as an invariant break.
//   guarded(target, body): runs body; wgopt::Error (UsageError included) is the documented way
//     every parser refuses bad input, so it ends the input quietly. Any other exception is what
//     the CLI prints as "internal error": a broken contract, reported through broken().
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include "common/error.hpp"

namespace wgopt::fuzz {

[[noreturn]] inline void broken(const char* target, const std::string& what) {
  std::fprintf(stderr, "INVARIANT BROKEN in %s: %s\n", target, what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string type_name(const std::exception& e) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? name.get() : typeid(e).name();
}

template <class Body>
int guarded(const char* target, Body&& body) {
  try {
    body();
  } catch (const wgopt::Error&) {
    // The parser refused the input the documented way.
  } catch (const std::exception& e) {
    broken(target, "undocumented exception " + type_name(e) + ": " + e.what());
  }
  return 0;
}

inline std::string text_of(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// A short printable rendering of a string for messages (control bytes as \xNN).
inline std::string shown(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace wgopt::fuzz
