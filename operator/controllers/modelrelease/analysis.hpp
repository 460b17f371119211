#pragma once
// A candidate's live analysis as status.analysis keeps it: per metric the
// counts of each result and the last measurements, and the verdict they
// add up to. Pure: measurements come in as values (measurement.hpp), so a
// restart resumes from status and a measurement is counted once, in the
// status write that records it.
//
// The verdict, first match wins:
//   Failed        a metric has more Failed measurements than failureLimit;
//   Error         a metric has more consecutive Error ones than
//                 consecutiveErrorLimit;
//   Inconclusive  a metric has more consecutive Inconclusive ones than
//                 inconclusiveLimit;
//   Successful    every metric has `count` (default 1) Successful
//                 measurements in the current step (a canary's analysis
//                 step; the whole run for blue/green);
//   Running       otherwise.
// Error and Inconclusive pause the release and lift by themselves once a
// conclusive measurement comes: missing evidence neither promotes nor
// rolls back.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/analysis_spec.hpp"
#include "operator/api/revision_record.hpp"
#include "operator/controllers/modelrelease/measurement.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

// Measurements kept per metric in status (the counts keep the rest).
inline constexpr std::size_t kKeptMeasurements = 10;

enum class AnalysisPhase { Running, Successful, Failed, Inconclusive, Error };
const char* to_string(AnalysisPhase phase);

struct MetricRecord {
  std::string name;
  AnalysisPhase phase = AnalysisPhase::Running;
  int successful = 0;
  int failed = 0;
  int inconclusive = 0;
  int error = 0;
  int consecutive_errors = 0;
  int consecutive_inconclusive = 0;
  int step_successful = 0;                // Successful ones since the current step began
  std::vector<Measurement> measurements;  // the last kKeptMeasurements, oldest first
};

struct AnalysisRecord {
  // PrePromotion: `revision` is the candidate, judged against the active
  // `active_revision`. PostPromotion: `revision` went live, and
  // `active_revision` is the one it replaced, kept running to go back to.
  AnalysisStage stage = AnalysisStage::PrePromotion;
  std::string revision;
  std::string active_revision;
  AnalysisPhase phase = AnalysisPhase::Running;
  std::string message;
  std::optional<api::Seconds> started_at;
  std::size_t step = 0;                  // the canary step step_successful counts for
  std::optional<api::Seconds> ends_at;   // PostPromotion: when its window ends
  std::optional<api::Seconds> ended_at;  // PostPromotion: when it ended (no more measuring)
  std::vector<MetricRecord> metrics;

  // When the last measurement was taken; nullopt before the first.
  std::optional<std::chrono::system_clock::time_point> last_measured() const;
};

// status.analysis as read; nullopt when absent or malformed.
std::optional<AnalysisRecord> analysis_record_from_json(const Json& status);
Json to_json(const AnalysisRecord& record);

// Which run resume_analysis continues or starts.
struct RunKey {
  AnalysisStage stage = AnalysisStage::PrePromotion;
  std::string revision;
  std::string active;
  std::size_t step = 0;
};

// The run of `key`: status.analysis when it is that run (same stage,
// revision and active revision), else a new one started at `start`.
// Metrics no longer in the spec are dropped, new ones start at zero; step
// counts restart when the step moved.
AnalysisRecord resume_analysis(const std::optional<AnalysisRecord>& previous,
                               const api::AnalysisSpec& spec, const RunKey& key,
                               std::chrono::system_clock::time_point start);

// Counts `measurements` (of metrics the run has) and keeps the last ones.
void add_measurements(AnalysisRecord& record, const std::vector<Measurement>& measurements);

// The verdict of the run (see above) into record.phase and message, per
// metric too.
void assess(AnalysisRecord& record, const api::AnalysisSpec& spec);

// "live-accuracy 0.91 vs active 0.88; error-rate 0.002 is within bounds":
// the last Successful measurement of each metric, for Events.
std::string passed_values(const AnalysisRecord& record);

// When the next measurement is due: at once for a run without any, else
// one interval after the last.
std::chrono::system_clock::time_point next_measurement(const AnalysisRecord& record,
                                                       const api::AnalysisSpec& spec);

}  // namespace cd4ml::controllers::modelrelease
