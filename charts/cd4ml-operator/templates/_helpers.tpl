{{/* Chart name, overridable. */}}
{{- define "cd4ml-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name: <release>-<chart>, or the release name alone when
it already contains the chart name. Cluster-scoped objects (ClusterRole,
ClusterRoleBinding) carry it too, so two releases need two release names.
*/}}
{{- define "cd4ml-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cd4ml-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cd4ml-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cd4ml-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cd4ml-operator.labels" -}}
helm.sh/chart: {{ include "cd4ml-operator.chart" . }}
{{ include "cd4ml-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cd4ml-operator
{{- end }}

{{- define "cd4ml-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cd4ml-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Leader election is on when asked for, and always with more than one replica. */}}
{{- define "cd4ml-operator.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
What the operator does with the API, and nothing more (the verbs come from
operator/controllers and operator/runtime; README.md, "RBAC", explains each).
Granted cluster-wide by a ClusterRole, or in watchNamespace by a Role.
*/}}
{{- define "cd4ml-operator.rules" -}}
# Informers of the two kinds; the operator never writes their spec or metadata.
- apiGroups: ["cd4ml.io"]
  resources: ["trainingruns", "modelreleases"]
  verbs: ["list", "watch"]
- apiGroups: ["cd4ml.io"]
  resources: ["trainingruns/status", "modelreleases/status"]
  verbs: ["update"]
# Owner references with blockOwnerDeletion on the Jobs, Deployments and
# Services it creates: clusters with the OwnerReferencesPermissionEnforcement
# admission plugin require update on the owner's finalizers for that.
- apiGroups: ["cd4ml.io"]
  resources: ["trainingruns/finalizers", "modelreleases/finalizers"]
  verbs: ["update"]
# One training Job per TrainingRun; never updated or deleted (ttlSecondsAfterFinished
# and the garbage collector remove them).
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create"]
# The trainer pod's termination message carries the metrics.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
# One Deployment per ModelRelease revision: scaled by patch, pruned past
# revisionHistoryLimit; read when its create finds the name taken (ours, not
# yet in the cache, or someone else's, which is reported and left alone).
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# The active and preview Services; their selector is patched to switch traffic.
# One renamed in spec.strategy.blueGreen is deleted (only ever one it owns).
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Canary releases with trafficRouting.gatewayAPI: the named HTTPRoute is read
# and the weights of its two backendRefs patched; never created or deleted.
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "patch"]
# core/v1 Events on TrainingRuns and ModelReleases (repeats are patched).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- with .Values.analysis.secretNames }}
# Prometheus credentials named by releases' spec.analysis.prometheus: these
# Secrets only, read when a measurement is taken (values analysis.secretNames).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
  resourceNames: {{ toJson . }}
{{- end }}
{{- end }}
