// Decoding of the Prometheus HTTP API's instant-query answers
// (https://prometheus.io/docs/prometheus/latest/querying/api/), apart from
// the client so that it can be tested and fuzzed without a socket.

#include <charconv>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "operator/kube/prometheus.hpp"

namespace cd4ml::kube {
namespace {

using Json = nlohmann::json;

// Prometheus's answers nest five levels deep; a body nested far deeper is not
// one of them, and is refused before the parser builds it in memory.
constexpr int kMaxNesting = 64;
// How much of an unexpected body an error message quotes.
constexpr std::size_t kExcerptChars = 200;

PromResult failure(std::string error) {
  PromResult result;
  result.error = std::move(error);
  return result;
}

bool is_success_status(int status) {
  return status >= 200 && status <= 299;
}

// The first printable ASCII characters of `body`, whitespace runs folded into
// one space, for messages about answers that are not Prometheus's (an HTML
// page from a proxy): enough to recognise it, safe to put in an Event.
std::string excerpt(std::string_view body) {
  std::string out;
  bool space = false;
  for (const char ch : body) {
    if (out.size() >= kExcerptChars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (c < 0x20 || c > 0x7e) {
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(ch);
  }
  return out;
}

std::string quoted_excerpt(std::string_view body) {
  const std::string text = excerpt(body);
  return text.empty() ? std::string("an empty body") : "\"" + text + "\"";
}

// True when `body` nests arrays and objects deeper than kMaxNesting (outside
// strings). Bytes that are not JSON are left to the parser to report.
bool nested_too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The JSON type of `value` in words, for "is <a number>, not a string".
std::string type_of(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    case Json::value_t::binary:
    case Json::value_t::discarded: break;
  }
  return "not a JSON value";
}

// A string for a message: quoted, and cut when long (it came from outside).
std::string shown(const std::string& text) {
  if (text.size() <= kExcerptChars) {
    return "\"" + text + "\"";
  }
  return "\"" + excerpt(text) + "\"";
}

// Prometheus writes a sample value with Go's strconv.FormatFloat: a decimal
// or exponent float, or NaN, +Inf, -Inf. Nothing else is a value, so hex
// floats, "inf", "nan" or surrounding spaces (which strtod would take) are
// refused. Returns an error message, empty on success.
std::string parse_sample_value(const std::string& text, double& value) {
  if (text == "NaN") {
    value = std::numeric_limits<double>::quiet_NaN();
    return {};
  }
  if (text == "+Inf" || text == "-Inf") {
    value = text.front() == '-' ? -std::numeric_limits<double>::infinity()
                                : std::numeric_limits<double>::infinity();
    return {};
  }
  std::string_view digits = text;
  // from_chars takes a leading '-' but not '+', which Go's ParseFloat accepts.
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-') {
    digits.remove_prefix(1);
  }
  const bool decimal_chars =
      !digits.empty() && digits.find_first_not_of("0123456789+-.eE") == std::string_view::npos;
  if (!decimal_chars) {
    return shown(text) + " is not a number";
  }
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value,
                                         std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    return shown(text) + " is out of the range of a double";
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return shown(text) + " is not a number";
  }
  return {};
}

// One sample, [<unix time>, "<value>"], as `where` (for messages) says.
std::string read_sample_pair(const Json& pair, const std::string& where, double& value) {
  if (!pair.is_array() || pair.size() != 2) {
    return where + " is " +
           (pair.is_array() ? "an array of " + std::to_string(pair.size()) + " elements"
                            : type_of(pair)) +
           ", not [<time>, \"<value>\"]";
  }
  if (!pair[0].is_number()) {
    return where + "[0] (the sample's time) is " + type_of(pair[0]) + ", not a number";
  }
  if (!pair[1].is_string()) {
    return where + "[1] (the sample's value) is " + type_of(pair[1]) +
           ", not a string such as \"0.97\"";
  }
  const std::string error = parse_sample_value(pair[1].get_ref<const std::string&>(), value);
  return error.empty() ? error : where + "[1] (the sample's value): " + error;
}

std::string read_series(const Json& series, const std::string& where, PromSample& sample) {
  if (!series.is_object()) {
    return where + " is " + type_of(series) + ", not a series object";
  }
  const auto metric = series.find("metric");
  if (metric == series.end()) {
    return where + " has no \"metric\"";
  }
  if (!metric->is_object()) {
    return where + ".metric is " + type_of(*metric) + ", not an object of labels";
  }
  for (const auto& [name, label_value] : metric->items()) {
    if (!label_value.is_string()) {
      return where + ".metric[" + shown(name) + "] is " + type_of(label_value) + ", not a string";
    }
    sample.labels.emplace(name, label_value.get<std::string>());
  }
  const auto value = series.find("value");
  if (value == series.end()) {
    if (series.contains("histogram")) {
      return where +
             " is a native histogram sample; an analysis query must return float samples "
             "(use histogram_quantile, histogram_sum, ... on it)";
    }
    return where + " has no \"value\"";
  }
  return read_sample_pair(*value, where + ".value", sample.value);
}

PromResult decode_data(const Json& answer) {
  const auto data = answer.find("data");
  if (data == answer.end()) {
    return failure("Prometheus's \"success\" answer has no \"data\"");
  }
  if (!data->is_object()) {
    return failure("Prometheus's \"data\" is " + type_of(*data) + ", not an object");
  }
  const auto type = data->find("resultType");
  if (type == data->end() || !type->is_string()) {
    return failure(type == data->end()
                       ? std::string("Prometheus's answer has no \"data.resultType\"")
                       : "Prometheus's \"data.resultType\" is " + type_of(*type) +
                             ", not a string");
  }
  const auto result = data->find("result");
  if (result == data->end()) {
    return failure("Prometheus's answer has no \"data.result\"");
  }
  const auto& result_type = type->get_ref<const std::string&>();
  PromResult decoded;
  if (result_type == "vector") {
    if (!result->is_array()) {
      return failure("Prometheus's vector result is " + type_of(*result) + ", not an array");
    }
    decoded.samples.reserve(result->size());
    for (std::size_t i = 0; i < result->size(); ++i) {
      PromSample sample;
      const std::string error =
          read_series((*result)[i], "data.result[" + std::to_string(i) + "]", sample);
      if (!error.empty()) {
        return failure("Prometheus's answer is malformed: " + error);
      }
      decoded.samples.push_back(std::move(sample));
    }
  } else if (result_type == "scalar") {
    PromSample sample;
    const std::string error = read_sample_pair(*result, "data.result", sample.value);
    if (!error.empty()) {
      return failure("Prometheus's answer is malformed: " + error);
    }
    decoded.samples.push_back(std::move(sample));
  } else if (result_type == "matrix") {
    return failure(
        "the query gave a range vector (matrix) result; an analysis query must return an "
        "instant vector or a scalar");
  } else if (result_type == "string") {
    return failure(
        "the query gave a string result; an analysis query must return an instant vector or a "
        "scalar");
  } else {
    return failure("Prometheus's answer has an unknown resultType " + shown(result_type));
  }
  decoded.ok = true;
  return decoded;
}

// A "status":"error" answer: Prometheus's own words, "<errorType>: <error>".
PromResult decode_error(const Json& answer, int http_status) {
  const auto type = answer.find("errorType");
  const auto message = answer.find("error");
  const bool has_type = type != answer.end() && type->is_string();
  const bool has_message = message != answer.end() && message->is_string();
  if (!has_message) {
    return failure("Prometheus refused the query (HTTP " + std::to_string(http_status) +
                   (has_type ? ", " + type->get<std::string>() : std::string()) +
                   ") without saying why");
  }
  if (!has_type) {
    return failure(message->get<std::string>());
  }
  return failure(type->get<std::string>() + ": " + message->get<std::string>());
}

PromResult decode(int http_status, std::string_view body) {
  const std::string http_text = "HTTP " + std::to_string(http_status) + " from Prometheus";
  if (nested_too_deep(body)) {
    return failure(is_success_status(http_status)
                       ? "Prometheus's answer nests deeper than " + std::to_string(kMaxNesting) +
                             " levels; it is not an API answer"
                       : http_text + ": " + quoted_excerpt(body));
  }
  Json answer;
  try {
    answer = Json::parse(body);
  } catch (const Json::parse_error& e) {
    if (!is_success_status(http_status)) {
      return failure(http_text + ": " + quoted_excerpt(body));
    }
    // nlohmann's what() starts with "[json.exception.parse_error.101] ".
    std::string reason = e.what();
    const auto tag_end = reason.find("] ");
    if (tag_end != std::string::npos) reason.erase(0, tag_end + 2);
    return failure("Prometheus's answer is not JSON (" + reason + "): " + quoted_excerpt(body));
  }
  const auto status = answer.is_object() ? answer.find("status") : answer.end();
  if (!answer.is_object() || status == answer.end() || !status->is_string()) {
    if (!is_success_status(http_status)) {
      return failure(http_text + ": " + quoted_excerpt(body));
    }
    return failure("Prometheus's answer is not an API answer (no \"status\"): " +
                   quoted_excerpt(body));
  }
  const auto& status_text = status->get_ref<const std::string&>();
  if (status_text == "error") {
    return decode_error(answer, http_status);
  }
  if (status_text != "success") {
    return failure("Prometheus's answer has an unknown status " + shown(status_text));
  }
  if (!is_success_status(http_status)) {
    return failure(http_text + " with a \"success\" body: " + quoted_excerpt(body));
  }
  return decode_data(answer);
}

}  // namespace

PromResult parse_prom_response(int http_status, std::string_view body) {
  // The decoding does not throw on any input; memory exhaustion still could,
  // and the caller was promised a result.
  try {
    return decode(http_status, body);
  } catch (const std::exception& e) {
    return failure(std::string("cannot decode Prometheus's answer: ") + e.what());
  }
}

}  // namespace cd4ml::kube
