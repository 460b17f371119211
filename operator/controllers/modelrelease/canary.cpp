#include "operator/controllers/modelrelease/canary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "operator/api/conditions.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

// More canary pods than this many times the stable ones buy little share
// (90 % at 9x) for a lot of capacity: weights above 90 % get 90 %.
constexpr int kMaxCanaryFactor = 9;

std::string describe_step(const api::CanaryStep& step) {
  if (step.set_weight) return "setWeight " + format_percent(*step.set_weight);
  if (step.analysis) return "analysis";
  if (step.pause_duration) return "pause " + std::to_string(step.pause_duration->count()) + "s";
  return "pause until promoted";
}

// The weight in effect while step `index` is in progress (all steps done:
// after the last one).
double weight_at(const api::CanaryStrategy& strategy, std::size_t index) {
  double weight = 0;
  for (std::size_t i = 0; i < strategy.steps.size() && i <= index; ++i) {
    if (strategy.steps[i].set_weight) weight = *strategy.steps[i].set_weight;
  }
  return weight;
}

}  // namespace

std::string format_percent(double weight) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", weight);
  std::string s = text;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "%";
}

std::optional<CanaryStatus> canary_status_from_json(const Json& status) {
  if (!status.is_object()) return std::nullopt;
  const auto it = status.find("canary");
  if (it == status.end() || !it->is_object()) return std::nullopt;
  const Json& c = *it;
  CanaryStatus out;
  out.revision = c.value("revision", "");
  const Json step = c.value("step", Json());
  if (step.is_number_unsigned() || (step.is_number_integer() && step.get<long>() >= 0)) {
    out.step = step.get<std::size_t>();
  }
  const Json weight = c.value("weight", Json());
  if (weight.is_number()) out.weight = weight.get<double>();
  if (auto at = api::parse_rfc3339(c.value("stepStartedAt", ""))) {
    out.step_started_at = std::chrono::floor<std::chrono::seconds>(*at);
  }
  return out;
}

Json to_json(const CanaryStatus& status) {
  Json out = {{"revision", status.revision},
              {"step", status.step},
              {"weight", std::round(status.weight * 100) / 100}};
  if (status.step_started_at) out["stepStartedAt"] = api::rfc3339(*status.step_started_at);
  return out;
}

int canary_replicas(double weight, int replicas) {
  if (weight <= 0 || replicas < 1) return 0;
  const int most = kMaxCanaryFactor * replicas;
  if (weight >= 100) return most;
  const double exact = weight * replicas / (100 - weight);
  const int low = std::max(1, static_cast<int>(std::floor(exact)));
  const int high = low + 1;
  const double low_off = std::abs(pod_share(low, replicas) - weight);
  const double high_off = std::abs(pod_share(high, replicas) - weight);
  // A tie goes to fewer pods: never more than the weight asks for beyond rounding.
  return std::min(high_off < low_off ? high : low, most);
}

int canary_pods(double weight, int replicas, WeightBy by) {
  if (by == WeightBy::Pods) return canary_replicas(weight, replicas);
  if (weight <= 0 || replicas < 1) return 0;
  const double share = std::min(weight, 100.0) * replicas / 100;
  return std::clamp(static_cast<int>(std::ceil(share - 1e-9)), 1, replicas);
}

double pod_share(int canary, int stable) {
  if (canary <= 0) return 0;
  return 100.0 * canary / (canary + std::max(stable, 0));
}

CanaryStepOutcome advance_canary(const CanaryStepInput& in) {
  const auto& steps = in.strategy.steps;
  const auto now_s = std::chrono::floor<std::chrono::seconds>(in.now);
  CanaryStepOutcome out;
  out.by = in.by;
  CanaryStatus& st = out.status;
  const bool resumed = in.previous && in.previous->revision == in.revision;
  if (resumed) {
    st = *in.previous;
    st.step = std::min(st.step, steps.size());
    if (!st.step_started_at) st.step_started_at = now_s;
  } else {
    st = {in.revision, 0, 0, now_s};
  }
  // A revision that served before goes straight back, like a blue/green
  // rollback: its model was judged when it first went live.
  if (in.skip_steps) st.step = steps.size();
  const std::size_t entered_at = resumed ? in.previous->step : steps.size() + 1;
  const std::string of = " of " + std::to_string(steps.size());

  while (st.step < steps.size()) {
    const api::CanaryStep& step = steps[st.step];
    // Missing evidence holds the canary where it is, as a pause would.
    if (in.analysis_holds && !in.promote_annotation) {
      out.sizing.paused = true;
      break;
    }
    bool done = false;
    if (step.analysis) {
      done = in.promote_annotation || in.analysis_passed_step == st.step;
    } else if (step.set_weight) {
      const int pods = std::max(1, canary_pods(*step.set_weight, in.replicas, in.by));
      done =
          in.weight_settable && in.deployment != nullptr && fully_available(*in.deployment, pods);
    } else if (in.promote_annotation) {
      done = true;
    } else if (step.pause_duration) {
      const auto ends = *st.step_started_at + *step.pause_duration;
      done = in.now >= ends;
      if (!done) out.sizing.pause_ends = ends;
    } else {
      out.sizing.paused = true;
    }
    if (!done) {
      if (step.pause && st.step != entered_at) {
        out.events.push_back({"Normal", "Paused",
                              in.subject + " paused at step " + std::to_string(st.step + 1) + of +
                                  " (" + describe_step(step) + ")"});
      }
      break;
    }
    out.events.push_back({"Normal", "StepCompleted",
                          in.subject + " completed step " + std::to_string(st.step + 1) + of +
                              " (" + describe_step(step) + ")"});
    ++st.step;
    st.step_started_at = now_s;
    out.step_started = true;
  }

  out.sizing.steps_done = st.step >= steps.size();
  out.step_weight = weight_at(in.strategy, st.step);
  for (std::size_t i = 0; i < steps.size() && i <= st.step; ++i) {
    if (steps[i].set_weight) out.reached_weights.push_back(*steps[i].set_weight);
  }
  // Before any weight the canary still gets a pod: its own Service reaches it.
  out.sizing.replicas = out.sizing.steps_done
                            ? in.replicas
                            : std::max(1, canary_pods(out.step_weight, in.replicas, in.by));
  return out;
}

double allowed_weight(const CanaryStepOutcome& outcome, int replicas, int available) {
  // More pods than the current step's (after a step down, or while scaling
  // up to take over at the end) would carry more than it asks for: none
  // until they are gone, or until the switch.
  const WeightBy by = outcome.by;
  if (by == WeightBy::Pods &&
      (outcome.sizing.steps_done || available > canary_replicas(outcome.step_weight, replicas))) {
    return 0;
  }
  double best = 0;
  for (const double weight : outcome.reached_weights) {
    if (weight <= outcome.step_weight && canary_pods(weight, replicas, by) <= available) {
      best = std::max(best, weight);
    }
  }
  return best;
}

}  // namespace cd4ml::controllers::modelrelease
