#pragma once
// Applies a plan's object writes through a kube::Writer, in the order that
// keeps the traffic rules: creates, scale-ups, Service writes, scale-downs,
// deletes (status and Events are the reconciler's). It stops at the first
// write that cannot go ahead and says why, as a value; any other API error
// propagates and the controller retries the key with backoff.

#include <nlohmann/json.hpp>
#include <string>

#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/kube/writer.hpp"
#include "operator/runtime/delete_memo.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/patch_memo.hpp"

namespace cd4ml::controllers::modelrelease {

struct WriteOutcome {
  enum class Kind {
    Applied,         // every object write succeeded
    Replan,          // a create met what the cache did not show, now in `observed`: plan again
    CacheBehind,     // our own earlier create is not in the cache yet: write nothing more
    ServiceRefused,  // a Service write the plan needs was refused
  };
  Kind kind = Kind::Applied;
  std::string service;  // ServiceRefused: which one
  std::string message;  // ServiceRefused: the server's words
};

// What the executor remembers across reconciles, owned by the reconciler.
struct WriteMemos {
  // Our Service patches the cache does not show yet.
  runtime::PatchMemo& service_patches;
  // Deleted, still in the cache: planned from as gone (a second DELETE otherwise).
  runtime::DeleteMemo& deleted_deployments;
  runtime::DeleteMemo& deleted_services;
};

class Executor {
 public:
  Executor(kube::Writer& writer, WriteMemos memos, runtime::Logger log)
      : writer_(writer), memos_(memos), log_(std::move(log)) {}

  // `observed` is what `plan` was made from; a Replan outcome adds to it.
  WriteOutcome apply(const Json& release, const Plan& plan, Observed& observed);

 private:
  kube::Writer& writer_;
  WriteMemos memos_;
  runtime::Logger log_;
};

}  // namespace cd4ml::controllers::modelrelease
