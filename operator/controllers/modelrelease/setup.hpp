#pragma once

#include "operator/runtime/manager.hpp"

namespace cd4ml::controllers::modelrelease {

// Registers the ModelRelease controller: releases are primary; the
// Deployments and Services it creates are owned; a TrainingRun's change wakes
// every release that references it.
void setup(runtime::Manager& manager);

}  // namespace cd4ml::controllers::modelrelease
