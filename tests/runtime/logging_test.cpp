#include "operator/runtime/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

// 2026-11-27T10:00:00.123Z
const auto kTime = std::chrono::system_clock::time_point{std::chrono::seconds(1795773600)} + 123ms;

TEST(LogRender, TextLineHasTimeLevelMessageAndFields) {
  const std::string line =
      Logger::render(LogFormat::Text, LogLevel::Info, "reconciled",
                     {{"controller", "trainingrun"}, {"namespace", "ml"}, {"name", "r1"}}, kTime);
  EXPECT_EQ(
      line,
      "2026-11-27T10:00:00.123Z info  reconciled controller=trainingrun namespace=ml name=r1");
  EXPECT_EQ(Logger::render(LogFormat::Text, LogLevel::Error, "x", {}, kTime),
            "2026-11-27T10:00:00.123Z error x");
  EXPECT_EQ(Logger::render(LogFormat::Text, LogLevel::Warn, "x", {}, kTime),
            "2026-11-27T10:00:00.123Z warn  x");
}

TEST(LogRender, TextQuotesAndEscapesValuesThatNeedIt) {
  const std::string line = Logger::render(LogFormat::Text, LogLevel::Info, "multi\nline message",
                                          {{"error", "connection refused"},
                                           {"quote", "say \"hi\""},
                                           {"empty", ""},
                                           {"eq", "a=b"},
                                           {"ctl", std::string("bell\x07", 5)},
                                           {"path", "/api/v1"}},
                                          kTime);
  EXPECT_EQ(line,
            "2026-11-27T10:00:00.123Z info  multi\\nline message error=\"connection refused\" "
            "quote=\"say \\\"hi\\\"\" empty=\"\" eq=\"a=b\" ctl=\"bell\\u0007\" path=/api/v1");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogRender, JsonIsOneValidObjectPerLineWhateverTheValues) {
  const std::string nasty = std::string("quote\" backslash\\ newline\n tab\t nul", 35) +
                            std::string(1, '\0') + "\x01 end";
  const std::string line = Logger::render(LogFormat::JSON, LogLevel::Warn, "msg with \"quotes\"\n",
                                          {{"controller", "c"}, {"value", nasty}}, kTime);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["ts"], "2026-11-27T10:00:00.123Z");
  EXPECT_EQ(parsed["level"], "warn");
  EXPECT_EQ(parsed["msg"], "msg with \"quotes\"\n");
  EXPECT_EQ(parsed["controller"], "c");
  EXPECT_EQ(parsed["value"], nasty);
  // Order is stable: ts, level, msg first.
  EXPECT_EQ(line.rfind("{\"ts\":", 0), 0u);
}

TEST(LogRender, JsonSurvivesInvalidUtf8AndReservedKeys) {
  const std::string line = Logger::render(LogFormat::JSON, LogLevel::Info, "m",
                                          {{"bytes", "\xff\xfe"}, {"msg", "field"}}, kTime);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["msg"], "m");
  EXPECT_EQ(parsed["field_msg"], "field");
  EXPECT_TRUE(parsed["bytes"].is_string());
}

TEST(Logger, WithAddsFieldsAndLaterValuesWin) {
  const Logger base({{"controller", "a"}});
  const Logger child = base.with({{"namespace", "ml"}, {"controller", "b"}});
  ASSERT_EQ(child.fields().size(), 2u);
  EXPECT_EQ(child.fields()[0], (Field{"controller", "b"}));
  EXPECT_EQ(child.fields()[1], (Field{"namespace", "ml"}));
  EXPECT_EQ(base.fields().size(), 1u);
}

TEST(Logger, LevelFilteringAndFormatApplyToTheProcessLogger) {
  std::ostringstream out;
  configure_logging(LogFormat::JSON, LogLevel::Warn,
                    std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  const Logger log({{"controller", "c"}});
  log.debug("hidden debug");
  log.info("hidden info");
  log.warn("shown warn", {{"name", "n"}});
  log.error("shown error");
  EXPECT_FALSE(log_enabled(LogLevel::Info));
  EXPECT_TRUE(log_enabled(LogLevel::Error));
  configure_logging(LogFormat::Text, LogLevel::Info);

  std::istringstream lines(out.str());
  std::vector<nlohmann::json> entries;
  for (std::string line; std::getline(lines, line);) entries.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(entries.size(), 2u) << out.str();
  EXPECT_EQ(entries[0]["msg"], "shown warn");
  EXPECT_EQ(entries[0]["controller"], "c");
  EXPECT_EQ(entries[0]["name"], "n");
  EXPECT_EQ(entries[1]["level"], "error");
}

TEST(LogFlags, ParseKnownValuesAndRejectOthers) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::Text);
  EXPECT_EQ(parse_log_format("json"), LogFormat::JSON);
  EXPECT_THROW(parse_log_format("xml"), std::invalid_argument);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::Debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::Info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::Warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::Error);
  EXPECT_THROW(parse_log_level("verbose"), std::invalid_argument);
}

}  // namespace
}  // namespace cd4ml::runtime
