#pragma once
// The search space: typed parameters, conditions between them, and the encoding of a configuration
// into the unit cube that the models work in. Pure: no I/O, no randomness of its own.
//
// Parameter types and the C++ type of their values in a Config:
//   real         double   in [min, max], optionally log scale (min > 0)
//   integer      int64    in [min, max] on the grid min + k*step, optionally log scale (min >= 1)
//   pow2         int64    a power of two in [min, max] (both powers of two), e.g. ring sizes; with
//                         min 0, also 0 below first_on (1 unless set: a flow table where 0 turns
//                         the feature off and the kernel's least table is 2)
//   categorical  string   one of `choices`
//   boolean      bool
//   mask         int64    a CPU mask of `bits` bits: 0 .. 2^bits - 1
//
// Encoding (what encode() returns; every coordinate is in [0, 1]):
//   real, integer, pow2  one coordinate: the position on the (log) scale, integers/pow2 as the
//                        ordinal level / (levels - 1) (pow2 with min 0: 0 is the level below first_on)
//   categorical          one-hot, one coordinate per choice (the choices are not ordered: cubic is
//                        not "between" bbr and reno)
//   boolean              one coordinate, 0 or 1
//   mask                 one coordinate per bit, 0 or 1 (neighbouring masks share bits, not magnitudes)
//   inactive parameter   all of its coordinates are 0 (a param switched off by a condition)
// decode() maps any point of the cube back to the nearest valid configuration (rounding integers to
// the grid, argmax for one-hot, bits at 0.5), so decode(encode(c)) == c for every valid c.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace wgopt::opt {

using Value = std::variant<double, std::int64_t, bool, std::string>;
// name -> value; parameters that are inactive under the configuration's conditions are absent.
using Config = std::map<std::string, Value>;

// "0.42", "17", "true", "bbr": for messages and progress lines.
std::string to_string(const Value& v);
// "{cc=bbr, rps=5}"
std::string to_string(const Config& c);

enum class ParamType { real, integer, pow2, categorical, boolean, mask };
const char* to_string(ParamType t);

// A parameter is active only when its parent is active and the parent's value is one of `values`
// (or, with negate, is none of them). E.g. rps_flow_cnt active when {parent: rps, values: [0],
// negate: true}, i.e. "rps != 0".
struct Condition {
  std::string parent;
  std::vector<Value> values;
  bool negate = false;
};

struct Param {
  std::string name;
  ParamType type = ParamType::real;
  double min = 0, max = 1;        // real, integer, pow2 (integers stored exactly as doubles)
  bool log = false;               // real, integer: search on a log scale
  std::int64_t first_on = 1;      // pow2 from 0: the level above 0 (a power of two; a flow table's least size)
  std::int64_t step = 1;          // integer: grid step from min
  std::vector<std::string> choices;  // categorical
  int bits = 0;                   // mask: 1 .. 62
  std::optional<Condition> condition;

  // Convenience constructors (the fields above may also be set directly).
  static Param real(std::string name, double min, double max, bool log = false);
  static Param integer(std::string name, std::int64_t min, std::int64_t max, std::int64_t step = 1,
                       bool log = false);
  static Param pow2(std::string name, std::int64_t min, std::int64_t max);
  static Param categorical(std::string name, std::vector<std::string> choices);
  static Param boolean(std::string name);
  static Param mask(std::string name, int bits);
  // Returns *this with the condition set, for chaining: Param::integer(...).when("rps", {0}, true).
  Param when(std::string parent, std::vector<Value> values, bool negate = false) &&;

  // Number of distinct values (real: 0, meaning continuous).
  std::int64_t levels() const;
  // Number of unit-cube coordinates this parameter occupies.
  int encoded_dims() const;
};

class Space {
 public:
  Space() = default;
  explicit Space(std::vector<Param> params);

  // Appends a parameter. Does not validate: call validate() once the space is complete.
  Space& add(Param p);

  // Empty string when the space is usable, otherwise ONE line naming the first bad entry and the
  // rule it breaks ("param 'ring': pow2 min 300 is neither 0 nor a power of two"). Rules: non-empty unique
  // names; min < max; log needs min > 0; step >= 1; at least 2 distinct choices; bits 1..62; a
  // condition's parent exists, comes earlier in the list and its values are valid for the parent.
  std::string validate() const;
  // Same check for a configuration: every active parameter present with a valid value of the right
  // type, no inactive or unknown names. Integers given for real parameters are accepted.
  std::string validate(const Config& c) const;

  const std::vector<Param>& params() const { return params_; }
  // Index of `name` in params(), or -1.
  int index_of(const std::string& name) const;
  // Total number of encoded coordinates.
  int dims() const;
  // First encoded coordinate of params()[i].
  int offset(int i) const;

  // Whether params()[i] is active given the (partial) config c (its parent's value decides).
  bool is_active(int i, const Config& c) const;

  // Unit-cube point of a valid config (see the encoding above). Precondition: validate(c) is empty.
  std::vector<double> encode(const Config& c) const;
  // Nearest valid config of any point (coordinates are clamped to [0, 1]); x.size() == dims().
  Config decode(const std::vector<double>& x) const;
  // encode(decode(x)): the point snapped onto the valid grid.
  std::vector<double> project(const std::vector<double>& x) const;

  // The value of params()[i] at unit position u in [0, 1] along its own scale (categorical: choice
  // floor(u * k); boolean: u >= 0.5; mask: round(u * (2^bits - 1))). Used by designs and samplers.
  Value value_at(int i, double u) const;
  // The middle of the range (real/integer/pow2 on their scale), the first choice, false, 0.
  Value default_value(int i) const;
  // Fills in default values for active parameters missing from c and drops inactive ones.
  Config complete(Config c) const;

 private:
  std::vector<Param> params_;
};

}  // namespace wgopt::opt
