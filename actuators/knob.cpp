#include "actuators/knob.hpp"

namespace wgopt::act {

const char* to_string(Scope s) {
  switch (s) {
    case Scope::Global: return "global";
    case Scope::Netns: return "netns";
    case Scope::Device: return "device";
    case Scope::Irq: return "irq";
    case Scope::Service: return "service";
  }
  return "?";
}

const char* to_string(ValueType t) {
  switch (t) {
    case ValueType::Int: return "int";
    case ValueType::Triple: return "triple";
    case ValueType::Mask: return "mask";
    case ValueType::Bool: return "bool";
    case ValueType::Enum: return "enum";
    case ValueType::Service: return "service";
  }
  return "?";
}

CommandResult Host::run(const std::vector<std::string>& argv) const {
  return runner->run(Command{.argv = place.wrap(argv), .timeout = std::chrono::seconds(20)});
}

}  // namespace wgopt::act
