#pragma once
// A create the API server refused, fed back into the next plan so the
// object's status says why instead of the reconcile failing silently.

#include <string>

namespace cd4ml::controllers {

struct CreateFailure {
  bool permanent = false;  // Invalid/BadRequest: retrying the same object cannot help
  std::string message;     // the server's message
};

}  // namespace cd4ml::controllers
