#include "operator/runtime/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "operator/runtime/timestamps.hpp"

namespace cd4ml::runtime {

namespace {

// The process-wide logger: the one piece of global mutable state allowed.
struct GlobalLog {
  std::atomic<LogFormat> format{LogFormat::Text};
  std::atomic<LogLevel> level{LogLevel::Info};
  std::mutex mutex;  // guards `logger` replacement
  std::shared_ptr<spdlog::logger> logger;
};

GlobalLog& global_log() {
  static GlobalLog log;
  return log;
}

std::shared_ptr<spdlog::logger> make_logger(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>("cd4ml", std::move(sink));
  // Lines are fully rendered by us; spdlog only serialises writes to the sink.
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> current_logger() {
  auto& log = global_log();
  std::lock_guard lock(log.mutex);
  if (!log.logger) {
    log.logger = make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  return log.logger;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (is_control(c)) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0x0f]);
        } else {
          out.push_back(ch);
        }
    }
  }
}

// logfmt style: bare when unambiguous, quoted otherwise.
bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == ' ' || ch == '"' || ch == '=' || ch == '\\' || is_control(c)) return true;
  }
  return false;
}

// Keys come from code, but a space or '=' in one would make the line ambiguous.
std::string sanitize_key(std::string_view key) {
  std::string out(key);
  for (char& ch : out) {
    if (ch == ' ' || ch == '=' || ch == '"' || is_control(static_cast<unsigned char>(ch))) ch = '_';
  }
  return out.empty() ? "_" : out;
}

// Later fields override earlier ones with the same key, keeping the first position.
std::vector<Field> merge(const std::vector<Field>& base, std::initializer_list<Field> extra) {
  std::vector<Field> out = base;
  for (const auto& field : extra) {
    bool replaced = false;
    for (auto& existing : out) {
      if (existing.first == field.first) {
        existing.second = field.second;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(field);
  }
  return out;
}

std::string render_text(LogLevel level, std::string_view message, const std::vector<Field>& fields,
                        std::chrono::system_clock::time_point time) {
  std::string line = format_rfc3339_milli(time);
  line += ' ';
  const std::string_view name = to_string(level);
  line += name;
  // Pad the level so messages line up.
  line.append(name.size() < 5 ? 5 - name.size() : 0, ' ');
  line += ' ';
  append_escaped(line, message);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += sanitize_key(key);
    line += '=';
    if (needs_quotes(value)) {
      line += '"';
      append_escaped(line, value);
      line += '"';
    } else {
      line += value;
    }
  }
  return line;
}

std::string render_json(LogLevel level, std::string_view message, const std::vector<Field>& fields,
                        std::chrono::system_clock::time_point time) {
  nlohmann::ordered_json line;
  line["ts"] = format_rfc3339_milli(time);
  line["level"] = to_string(level);
  line["msg"] = message;
  for (const auto& [key, value] : fields) {
    // A field must not overwrite the line's own keys.
    const bool reserved = key == "ts" || key == "level" || key == "msg";
    line[reserved ? "field_" + key : key] = value;
  }
  // Invalid UTF-8 (e.g. bytes from a server message) must not lose the line.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

void configure_logging(LogFormat format, LogLevel level) {
  configure_logging(format, level, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void configure_logging(LogFormat format, LogLevel level,
                       std::shared_ptr<spdlog::sinks::sink> sink) {
  auto& log = global_log();
  auto logger = make_logger(std::move(sink));
  std::lock_guard lock(log.mutex);
  log.format = format;
  log.level = level;
  log.logger = std::move(logger);
}

bool log_enabled(LogLevel level) {
  return level >= global_log().level.load();
}

LogFormat parse_log_format(std::string_view value) {
  if (value == "text") return LogFormat::Text;
  if (value == "json") return LogFormat::JSON;
  throw std::invalid_argument("unknown log format \"" + std::string(value) +
                              "\" (want text or json)");
}

LogLevel parse_log_level(std::string_view value) {
  if (value == "debug") return LogLevel::Debug;
  if (value == "info") return LogLevel::Info;
  if (value == "warn" || value == "warning") return LogLevel::Warn;
  if (value == "error") return LogLevel::Error;
  throw std::invalid_argument("unknown log level \"" + std::string(value) +
                              "\" (want debug, info, warn or error)");
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "error";
}

Logger Logger::with(std::initializer_list<Field> fields) const {
  return Logger(merge(fields_, fields));
}

void Logger::debug(std::string_view message, std::initializer_list<Field> fields) const {
  write(LogLevel::Debug, message, fields);
}
void Logger::info(std::string_view message, std::initializer_list<Field> fields) const {
  write(LogLevel::Info, message, fields);
}
void Logger::warn(std::string_view message, std::initializer_list<Field> fields) const {
  write(LogLevel::Warn, message, fields);
}
void Logger::error(std::string_view message, std::initializer_list<Field> fields) const {
  write(LogLevel::Error, message, fields);
}

std::string Logger::render(LogFormat format, LogLevel level, std::string_view message,
                           const std::vector<Field>& fields,
                           std::chrono::system_clock::time_point time) {
  return format == LogFormat::JSON ? render_json(level, message, fields, time)
                                   : render_text(level, message, fields, time);
}

std::string Logger::render(LogFormat format, LogLevel level, std::string_view message,
                           const std::vector<Field>& fields) {
  return render(format, level, message, fields, std::chrono::system_clock::now());
}

void Logger::write(LogLevel level, std::string_view message,
                   std::initializer_list<Field> fields) const {
  if (!log_enabled(level)) return;
  const std::string line =
      render(global_log().format.load(), level, message, merge(fields_, fields));
  current_logger()->log(to_spdlog(level), "{}", line);
}

}  // namespace cd4ml::runtime
