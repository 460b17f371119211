#pragma once
// Registers every controller of the operator with the manager.

#include "operator/runtime/manager.hpp"

namespace cd4ml::controllers {

void setup_all(runtime::Manager& manager);

}  // namespace cd4ml::controllers
