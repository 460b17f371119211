#include "operator/runtime/event_correlator.hpp"

#include <cstdio>
#include <stdexcept>

#include "operator/runtime/timestamps.hpp"

namespace cd4ml::runtime {

struct EventCorrelator::Seen {
  std::string name;
  int count = 0;
  std::chrono::system_clock::time_point first_timestamp{};
  std::chrono::steady_clock::time_point last_seen{};
};

// A map that forgets its least recently used entry beyond a size.
template <typename V>
struct EventCorrelator::Lru {
  explicit Lru(std::size_t max) : max_size(max) {}

  // The entry for `key`, created by `make` when absent; marked most recent.
  template <typename Make>
  V& get(const std::string& key, Make make) {
    if (const auto it = index.find(key); it != index.end()) {
      order.splice(order.begin(), order, it->second);
      return it->second->second;
    }
    order.emplace_front(key, make());
    index.emplace(key, order.begin());
    if (order.size() > max_size) {
      index.erase(order.back().first);
      order.pop_back();
    }
    return order.front().second;
  }

  std::size_t max_size;
  std::list<std::pair<std::string, V>> order;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index;
};

EventCorrelator::EventCorrelator(EventCorrelatorOptions options, const util::Clock& clock)
    : options_(options),
      clock_(clock),
      buckets_(std::make_unique<Lru<std::unique_ptr<util::TokenBucket>>>(options.max_tracked)),
      seen_(std::make_unique<Lru<Seen>>(options.max_tracked)) {
  if (options_.burst < 1 || options_.refill_interval.count() <= 0 || options_.max_tracked == 0) {
    throw std::invalid_argument(
        "event correlator: burst, refill interval and size must be positive");
  }
}

EventCorrelator::~EventCorrelator() = default;

EventDecision EventCorrelator::correlate(const EventKey& key, std::string_view object_name) {
  EventDecision decision;
  const double qps = 1.0 / static_cast<double>(options_.refill_interval.count());
  auto& bucket = buckets_->get(
      key.uid, [&] { return std::make_unique<util::TokenBucket>(qps, options_.burst, clock_); });
  if (!bucket->try_take()) {
    decision.action = EventDecision::Action::Drop;
    return decision;
  }

  const auto now = clock_.now();
  const auto wall_now = clock_.wall_now();
  std::string seen_key = key.uid;
  for (const std::string* part : {&key.type, &key.reason, &key.message}) {
    seen_key.push_back('\x1f');  // cannot occur in a uid, type or reason
    seen_key += *part;
  }
  Seen& seen = seen_->get(seen_key, [] { return Seen{}; });
  if (seen.count > 0 && now - seen.last_seen <= options_.dedupe_window) {
    ++seen.count;
    decision.action = EventDecision::Action::Patch;
  } else {
    seen.name = next_name(object_name);
    seen.count = 1;
    seen.first_timestamp = wall_now;
    decision.action = EventDecision::Action::Create;
  }
  seen.last_seen = now;
  decision.name = seen.name;
  decision.count = seen.count;
  decision.first_timestamp = seen.first_timestamp;
  decision.last_timestamp = wall_now;
  return decision;
}

std::string EventCorrelator::next_name(std::string_view object_name) {
  // client-go's form, "<object>.<unix nanos in hex>"; two events in the same
  // nanosecond (a ManualClock standing still) still get distinct names.
  long long nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall_now().time_since_epoch())
          .count();
  if (nanos <= last_name_nanos_) nanos = last_name_nanos_ + 1;
  last_name_nanos_ = nanos;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  return std::string(object_name) + suffix;
}

std::size_t EventCorrelator::tracked_objects() const {
  return buckets_->order.size();
}
std::size_t EventCorrelator::tracked_events() const {
  return seen_->order.size();
}

std::string truncate_event_message(std::string_view message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  std::size_t end = max_bytes;
  // Step back over UTF-8 continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  return std::string(message.substr(0, end));
}

namespace {

// A string member, or "" when absent, null or not a string (no exceptions:
// the object may come from anywhere).
std::string string_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json& metadata_of(const nlohmann::json& object) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!object.is_object()) return kEmpty;
  const auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace

std::string event_namespace(const nlohmann::json& object) {
  std::string ns = string_at(metadata_of(object), "namespace");
  return ns.empty() ? "default" : ns;
}

nlohmann::json make_event(const nlohmann::json& object, std::string_view type,
                          std::string_view reason, std::string_view message,
                          const EventDecision& decision, const EventReporter& reporter) {
  const auto& metadata = metadata_of(object);
  auto field = [&metadata](const char* key) { return string_at(metadata, key); };
  nlohmann::json involved = {
      {"apiVersion", string_at(object, "apiVersion")},
      {"kind", string_at(object, "kind")},
      {"name", field("name")},
      {"uid", field("uid")},
      {"resourceVersion", field("resourceVersion")},
  };
  if (!field("namespace").empty()) involved["namespace"] = field("namespace");
  return {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", decision.name}, {"namespace", event_namespace(object)}}},
      {"involvedObject", involved},
      {"reason", reason},
      {"message", truncate_event_message(message)},
      {"type", type},
      {"count", decision.count},
      {"firstTimestamp", format_rfc3339(decision.first_timestamp)},
      {"lastTimestamp", format_rfc3339(decision.last_timestamp)},
      {"source", {{"component", reporter.component}, {"host", reporter.host}}},
      {"reportingComponent", reporter.component},
      {"reportingInstance", reporter.host},
  };
}

nlohmann::json make_event_patch(const EventDecision& decision, std::string_view message) {
  return {
      {"count", decision.count},
      {"lastTimestamp", format_rfc3339(decision.last_timestamp)},
      {"message", truncate_event_message(message)},
  };
}

}  // namespace cd4ml::runtime
