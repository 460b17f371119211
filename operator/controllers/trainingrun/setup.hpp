#pragma once

#include "operator/runtime/manager.hpp"

namespace cd4ml::controllers::trainingrun {

// Registers the TrainingRun controller: TrainingRuns are primary, the Jobs it
// creates are owned (their changes wake the run), and the Jobs' pods wake the
// run named in their cd4ml.io/training-run label.
void setup(runtime::Manager& manager);

}  // namespace cd4ml::controllers::trainingrun
