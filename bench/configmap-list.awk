# Prints a v1 List of ConfigMaps shaped like an application's configuration
# (~1 KiB of data each) for the benchmarks. Deterministic for given variables:
#   awk -v ns=NS -v first=0 -v count=100 -v generation=1 -f configmap-list.awk
# generation changes a few values, so replacing generation 1 by 2 gives real
# MODIFIED events.
function pick(n) { return int(rand() * n) }
function hex(n,   s, i) {
  s = ""
  for (i = 0; i < n; i++) s = s substr("0123456789abcdef", pick(16) + 1, 1)
  return s
}
function properties(i,   s) {
  s = "server.port=" (8000 + i % 1000) "\\n"
  s = s "server.threads.max=" (16 + pick(48)) "\\n"
  s = s "server.shutdown.grace-period=" (10 + pick(50)) "s\\n"
  s = s "model.registry.url=https://registry.example.internal/models/team-" (i % 17) "\\n"
  s = s "model.name=churn-predictor-" (i % 23) "\\n"
  s = s "model.version=" (1 + pick(9)) "." pick(20) "." (pick(50) + generation) "\\n"
  s = s "model.artifact.sha256=" hex(64) "\\n"
  s = s "feature.store.endpoint=feast-" (i % 5) ".features.svc.cluster.local:6566\\n"
  s = s "feature.store.timeout-ms=" (100 + pick(900)) "\\n"
  s = s "serving.batch.size=" (2 ^ (3 + pick(5))) "\\n"
  s = s "serving.batch.timeout-ms=" (5 + pick(45)) "\\n"
  s = s "metrics.push.interval=" (10 + pick(50)) "s\\n"
  s = s "tracing.sample.ratio=0." pick(100) "\\n"
  s = s "logging.level=" (pick(4) == 0 ? "debug" : "info") "\\n"
  s = s "cache.ttl-seconds=" (60 + pick(3600)) "\\n"
  s = s "rollout.generation=" generation "\\n"
  return s
}
function flags(i) {
  return "{\\\"shadowTraffic\\\":" (pick(2) ? "true" : "false") \
         ",\\\"canaryPercent\\\":" pick(50) \
         ",\\\"fallbackModel\\\":\\\"churn-predictor-" ((i + 1) % 23) "\\\"" \
         ",\\\"owner\\\":\\\"team-" (i % 17) "@example.com\\\"" \
         ",\\\"ticket\\\":\\\"ML-" (1000 + i) "\\\"}"
}
BEGIN {
  srand(first * 7919 + generation)
  printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
  for (i = first; i < first + count; i++) {
    if (i > first) printf ","
    printf "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%05d\",", i
    printf "\"namespace\":\"%s\",\"labels\":{\"app.kubernetes.io/name\":\"model-server\",", ns
    printf "\"app.kubernetes.io/part-of\":\"cd4ml-bench\",\"shard\":\"%d\"}},", i % 10
    printf "\"data\":{\"application.properties\":\"%s\",\"feature-flags.json\":\"%s\"}}", \
      properties(i), flags(i)
  }
  printf "]}\n"
}
