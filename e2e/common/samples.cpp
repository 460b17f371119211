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

}  // namespace cd4ml::e2e
