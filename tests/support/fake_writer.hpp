#pragma once
// A kube::Writer over objects held in memory, for executor tests: it records
// every request in order, answers as the API server would (AlreadyExists on a
// taken name, NotFound on a missing object, Conflict on a stale status
// write), and fails the requests a test asks it to fail.

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "operator/kube/errors.hpp"
#include "operator/kube/writer.hpp"

namespace cd4ml::test_support {

class FakeWriter final : public kube::Writer {
 public:
  using Json = nlohmann::json;

  struct Request {
    std::string verb;  // create, patch, delete, update_status, get
    std::string resource;
    std::string name;
    Json body;  // what was sent: the object or the patch
  };

  // The next `times` requests of `verb` on `resource` (and object `name`,
  // unless "") fail with `kind`, carrying `message` as the server's words.
  void fail(std::string verb, std::string resource, std::string name, kube::ErrorKind kind,
            std::string message = "refused", int times = 1) {
    failures_.push_back(
        {std::move(verb), std::move(resource), std::move(name), kind, std::move(message), times});
  }
  // An object the server holds (a uid and resourceVersion are added when missing).
  void put(const kube::ResourceType& type, Json object) {
    Json& meta = object["metadata"];
    if (!meta.contains("uid")) meta["uid"] = "uid-" + std::to_string(++counter_);
    if (!meta.contains("resourceVersion")) meta["resourceVersion"] = std::to_string(++counter_);
    objects_[key(type.resource, meta.value("namespace", ""), meta.value("name", ""))] = object;
  }
  std::optional<Json> object(const kube::ResourceType& type, const std::string& ns,
                             const std::string& name) const {
    const auto it = objects_.find(key(type.resource, ns, name));
    return it == objects_.end() ? std::nullopt : std::optional<Json>(it->second);
  }
  // Every object of `type` the server holds.
  std::vector<Json> objects(const kube::ResourceType& type) const {
    std::vector<Json> out;
    for (const auto& [k, object] : objects_) {
      if (std::get<0>(k) == type.resource) out.push_back(object);
    }
    return out;
  }
  const std::vector<Request>& requests() const { return requests_; }
  // The requests as "verb resource/name", in order.
  std::vector<std::string> sent() const {
    std::vector<std::string> out;
    for (const auto& r : requests_) out.push_back(r.verb + " " + r.resource + "/" + r.name);
    return out;
  }
  void clear_requests() { requests_.clear(); }

  Json create(const kube::ResourceType& type, std::string_view ns, const Json& object) override {
    const std::string name = object.value("/metadata/name"_json_pointer, std::string());
    begin("create", type, name, object);
    if (this->object(type, std::string(ns), name)) {
      throw error(kube::ErrorKind::AlreadyExists,
                  type.resource + " \"" + name + "\" already exists");
    }
    Json created = object;
    created["metadata"]["namespace"] = ns;
    put(type, created);
    return *this->object(type, std::string(ns), name);
  }
  Json merge_patch(const kube::ResourceType& type, std::string_view ns, std::string_view name,
                   const Json& patch) override {
    Json& live = existing("patch", type, ns, name, patch);
    // A patch naming a resourceVersion applies only to that version.
    const Json sent_version = patch.value("/metadata/resourceVersion"_json_pointer, Json());
    if (!sent_version.is_null() && sent_version != live["metadata"]["resourceVersion"]) {
      throw error(kube::ErrorKind::Conflict, "the object has been modified");
    }
    live.merge_patch(patch);
    live["metadata"]["resourceVersion"] = std::to_string(++counter_);
    return live;
  }
  void remove(const kube::ResourceType& type, std::string_view ns, std::string_view name) override {
    existing("delete", type, ns, name, Json());
    objects_.erase(key(type.resource, std::string(ns), std::string(name)));
  }
  Json update_status(const kube::ResourceType& type, const Json& object) override {
    const Json& meta = object["metadata"];
    Json& live = existing("update_status", type, meta.value("namespace", ""),
                          meta.value("name", ""), object);
    if (live["metadata"]["resourceVersion"] != meta.value("resourceVersion", "")) {
      throw error(kube::ErrorKind::Conflict, "the object has been modified");
    }
    live["status"] = object.value("status", Json::object());
    live["metadata"]["resourceVersion"] = std::to_string(++counter_);
    return live;
  }
  std::optional<Json> try_get(const kube::ResourceType& type, std::string_view ns,
                              std::string_view name) override {
    begin("get", type, std::string(name), Json());
    return object(type, std::string(ns), std::string(name));
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, namespace, name
  struct Failure {
    std::string verb, resource, name;
    kube::ErrorKind kind;
    std::string message;
    int times;
  };

  static Key key(const std::string& resource, const std::string& ns, const std::string& name) {
    return {resource, ns, name};
  }
  static kube::ApiError error(kube::ErrorKind kind, const std::string& message) {
    static const std::map<kube::ErrorKind, std::pair<int, const char*>> kStatus = {
        {kube::ErrorKind::BadRequest, {400, "BadRequest"}},
        {kube::ErrorKind::Forbidden, {403, "Forbidden"}},
        {kube::ErrorKind::NotFound, {404, "NotFound"}},
        {kube::ErrorKind::Conflict, {409, "Conflict"}},
        {kube::ErrorKind::AlreadyExists, {409, "AlreadyExists"}},
        {kube::ErrorKind::Invalid, {422, "Invalid"}},
        {kube::ErrorKind::ServerError, {500, "InternalError"}},
    };
    const auto it = kStatus.find(kind);
    const auto [status, reason] = it != kStatus.end() ? it->second : std::pair{500, "Unknown"};
    return kube::ApiError(kind, status, reason, message);
  }
  // Records the request and throws a failure programmed for it.
  void begin(const std::string& verb, const kube::ResourceType& type, const std::string& name,
             const Json& body) {
    requests_.push_back({verb, type.resource, name, body});
    for (auto& f : failures_) {
      if (f.times > 0 && f.verb == verb && f.resource == type.resource &&
          (f.name.empty() || f.name == name)) {
        --f.times;
        throw error(f.kind, f.message);
      }
    }
  }
  Json& existing(const std::string& verb, const kube::ResourceType& type, std::string_view ns,
                 std::string_view name, const Json& body) {
    begin(verb, type, std::string(name), body);
    const auto it = objects_.find(key(type.resource, std::string(ns), std::string(name)));
    if (it == objects_.end()) {
      throw error(kube::ErrorKind::NotFound,
                  type.resource + " \"" + std::string(name) + "\" not found");
    }
    return it->second;
  }

  std::map<Key, Json> objects_;
  std::vector<Request> requests_;
  std::vector<Failure> failures_;
  long counter_ = 0;
};

}  // namespace cd4ml::test_support
