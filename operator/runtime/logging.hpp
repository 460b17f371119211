#pragma once
// Structured logging on spdlog. A Logger carries key=value fields (controller,
// namespace, name, ...) that every line it writes includes, in text form
//   2026-11-27T10:00:00.123Z info  reconciled controller=trainingrun namespace=ml name=r1 took=3ms
// or as one JSON object per line with --log-format=json.
// Values with spaces, quotes or control characters are quoted and escaped in
// text form, so one entry is always one line.

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog::sinks {
class sink;
}  // namespace spdlog::sinks

namespace cd4ml::runtime {

// JSON in capitals: an enumerator named Json would shadow the Json alias of store.hpp.
enum class LogFormat { Text, JSON };
enum class LogLevel { Debug, Info, Warn, Error };

// Sets up the process-wide spdlog logger (stderr). Call once from main; until
// then lines go to stderr as text at level info.
void configure_logging(LogFormat format, LogLevel level);
// Same, writing to `sink` instead of stderr (tests capture lines this way).
void configure_logging(LogFormat format, LogLevel level, std::shared_ptr<spdlog::sinks::sink> sink);
// Whether a line at `level` would be written now.
bool log_enabled(LogLevel level);
// Parses "text"/"json" and "debug"/"info"/"warn"/"error"; throws std::invalid_argument.
LogFormat parse_log_format(std::string_view value);
LogLevel parse_log_level(std::string_view value);
std::string_view to_string(LogLevel level);

using Field = std::pair<std::string, std::string>;

class Logger {
 public:
  Logger() = default;
  explicit Logger(std::vector<Field> fields) : fields_(std::move(fields)) {}
  // Makes Logger({{"key", "value"}}) unambiguous (a pair of string literals
  // would otherwise also match vector's iterator-pair constructor).
  explicit Logger(std::initializer_list<Field> fields) : fields_(fields) {}

  // A logger with more fields (a field already present takes the new value).
  Logger with(std::initializer_list<Field> fields) const;

  void debug(std::string_view message, std::initializer_list<Field> fields = {}) const;
  void info(std::string_view message, std::initializer_list<Field> fields = {}) const;
  void warn(std::string_view message, std::initializer_list<Field> fields = {}) const;
  void error(std::string_view message, std::initializer_list<Field> fields = {}) const;

  const std::vector<Field>& fields() const { return fields_; }

  // Renders a line exactly as the sinks print it (tests use this), stamped
  // with `time` or the current time.
  static std::string render(LogFormat format, LogLevel level, std::string_view message,
                            const std::vector<Field>& fields,
                            std::chrono::system_clock::time_point time);
  static std::string render(LogFormat format, LogLevel level, std::string_view message,
                            const std::vector<Field>& fields);

 private:
  void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields) const;
  std::vector<Field> fields_;
};

}  // namespace cd4ml::runtime
