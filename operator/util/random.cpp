#include "operator/util/random.hpp"

#include <memory>
#include <mutex>
#include <random>

namespace cd4ml::util {

Uniform01 default_random() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
    std::uniform_real_distribution<double> dist{0.0, 1.0};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mutex);
    return state->dist(state->engine);
  };
}

}  // namespace cd4ml::util
