#include "operator/controllers/setup.hpp"

#include "operator/controllers/modelrelease/setup.hpp"
#include "operator/controllers/trainingrun/setup.hpp"

namespace cd4ml::controllers {

void setup_all(runtime::Manager& manager) {
  trainingrun::setup(manager);
  modelrelease::setup(manager);
}

}  // namespace cd4ml::controllers
