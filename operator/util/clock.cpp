#include "operator/util/clock.hpp"

namespace cd4ml::util {

const Clock& real_clock() {
  static const RealClock clock;
  return clock;
}

}  // namespace cd4ml::util
