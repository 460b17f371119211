#pragma once
// An Event a plan asks for. Executors record it once the object writes it
// describes have succeeded, and before the status write: a status conflict
// makes the next reconcile decide (and record) a status-only transition
// again, which the recorder folds into the existing Event's count.

#include <string>

namespace cd4ml::controllers {

struct EventSpec {
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
  bool operator==(const EventSpec&) const = default;
};

}  // namespace cd4ml::controllers
