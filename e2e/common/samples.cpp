#include "samples.hpp"

namespace cd4ml::e2e {

Json sample_training_run(const std::string& ns, const std::string& name,
                         const std::string& result) {
  return {{"apiVersion", "cd4ml.io/v1alpha1"},
          {"kind", "TrainingRun"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"model", "churn"},
            {"code", {{"repository", "https://git.example/ml.git"}, {"revision", "4f2a9c1"}}},
            {"data", {{"uri", "s3://data/churn"}, {"version", "2026-11"}}},
            {"trainer",
             {{"image", "registry.example/trainer:1"},
              {"env", Json::array({{{"name", "KWOK_TERMINATION_MESSAGE"}, {"value", result}}})}}},
            {"params", {{"depth", "6"}, {"run", name}}},
            {"output", {{"uri", "s3://models"}}}}}};
}

Json sample_release(const std::string& ns, const std::string& name, const Json& model,
                    int replicas) {
  return {{"apiVersion", "cd4ml.io/v1alpha1"},
          {"kind", "ModelRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"model", model},
            {"replicas", replicas},
            {"template",
             {{"spec",
               {{"containers",
                 Json::array({{{"name", "server"},
                               {"image", "registry.example/serve:1"},
                               {"ports", Json::array({{{"containerPort", 8080}}})}}})}}}}}}}};
}

Json training_run_ref(const std::string& run) {
  return {{"trainingRunRef", {{"name", run}}}};
}

Json someone_elses_object(const std::string& kind, const std::string& ns, const std::string& name) {
  const Json labels = {{"app", "someone-else"}};
  const Json pod_spec = {{"containers", Json::array({{{"name", "app"}, {"image", "other:1"}}})}};
  Json o = {{"kind", kind}, {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}}};
  if (kind == "Service") {
    o["apiVersion"] = "v1";
    o["spec"] = {{"selector", labels}, {"ports", Json::array({{{"port", 80}}})}};
  } else if (kind == "Job") {
    o["apiVersion"] = "batch/v1";
    o["spec"]["template"] = {{"spec", pod_spec}};
    o["spec"]["template"]["spec"]["restartPolicy"] = "Never";
  } else {
    o["apiVersion"] = "apps/v1";
    o["spec"] = {{"replicas", 1}, {"selector", {{"matchLabels", labels}}}};
    o["spec"]["template"] = {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}};
  }
  return o;
}

}  // namespace cd4ml::e2e
