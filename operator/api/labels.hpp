#pragma once
// Names of the cd4ml.io API group, and the labels, annotations and env
// variables the operator puts on what it creates. These are public contract
// (docs/api-reference.md): users select on the labels and trainers read the env.

namespace cd4ml::api {

inline constexpr const char* kGroup = "cd4ml.io";
inline constexpr const char* kApiVersion = "cd4ml.io/v1alpha1";
inline constexpr const char* kTrainingRunKind = "TrainingRun";
inline constexpr const char* kModelReleaseKind = "ModelRelease";

namespace label {
inline constexpr const char* kTrainingRun = "cd4ml.io/training-run";
inline constexpr const char* kModel = "cd4ml.io/model";
inline constexpr const char* kModelVersion = "cd4ml.io/model-version";
inline constexpr const char* kRelease = "cd4ml.io/release";
inline constexpr const char* kRevision = "cd4ml.io/revision";
inline constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "cd4ml-operator";
}  // namespace label

namespace annotation {
inline constexpr const char* kPromote = "cd4ml.io/promote";
inline constexpr const char* kAbort = "cd4ml.io/abort";
}  // namespace annotation

}  // namespace cd4ml::api
