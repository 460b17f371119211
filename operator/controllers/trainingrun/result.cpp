#include "operator/controllers/trainingrun/result.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "operator/controllers/trainingrun/baseline.hpp"

namespace cd4ml::controllers::trainingrun {

namespace {

bool valid_digest(const std::string& digest) {
  static const std::regex pattern("^sha256:[a-f0-9]{64}$");
  return std::regex_match(digest, pattern);
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 64;
  std::string shown(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) shown += "...";
  return nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool valid_result_name(const std::string& name) {
  static const std::regex pattern("^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$");
  return std::regex_match(name, pattern);
}

std::variant<TrainerResult, ResultError> parse_trainer_result(std::string_view message) {
  TrainerResult result;
  if (message.find_first_not_of(" \t\r\n") == std::string_view::npos) return result;
  if (message.size() > kMaxResultBytes) {
    return ResultError{"result is " + std::to_string(message.size()) + " bytes, over the " +
                       std::to_string(kMaxResultBytes) + "-byte limit of a termination message"};
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(message);
  } catch (const nlohmann::json::exception& e) {
    // Syntax errors, and numbers too large for a double (out_of_range.406).
    std::string reason = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; the rest is the useful part.
    if (auto pos = reason.find("] "); pos != std::string::npos) reason = reason.substr(pos + 2);
    return ResultError{"result is not valid JSON: " + reason};
  }
  if (!doc.is_object()) {
    return ResultError{"result must be a JSON object with \"metrics\" and/or \"artifactDigest\""};
  }
  if (auto it = doc.find("metrics"); it != doc.end()) {
    if (!it->is_object()) return ResultError{"\"metrics\" must be an object of name -> number"};
    for (const auto& [name, value] : it->items()) {
      if (!valid_result_name(name)) {
        return ResultError{"metric name " + quote_for_message(name) +
                           " is invalid: " + kResultNameRule};
      }
      if (!value.is_number()) {
        return ResultError{"metric " + quote_for_message(name) +
                           " is not a number: " + quote_for_message(value.dump())};
      }
      const double number = value.get<double>();
      if (!std::isfinite(number)) {
        return ResultError{"metric " + quote_for_message(name) + " is not a finite number"};
      }
      result.metrics[name] = number;
    }
  }
  if (auto it = doc.find("artifactDigest"); it != doc.end()) {
    if (!it->is_string() || !valid_digest(it->get<std::string>())) {
      return ResultError{"\"artifactDigest\" must be sha256:<64 lower-case hex>, got " +
                         quote_for_message(it->dump())};
    }
    result.artifact_digest = it->get<std::string>();
  }
  if (auto it = doc.find("baseline"); it != doc.end()) {
    if (auto error = baseline_error(*it)) return ResultError{*error};
    result.baseline = *it;
  }
  return result;
}

}  // namespace cd4ml::controllers::trainingrun
