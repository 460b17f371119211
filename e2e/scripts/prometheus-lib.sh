# shellcheck shell=bash
# The local cluster's Prometheus: its configuration and command line, written
# by cluster-up.sh, started and stopped like the other components (cmd, pid
# and log files; cluster-ctl.sh start|stop|restart|kill prometheus). Sourced
# by cluster-lib.sh. docs/local-cluster.md ("Prometheus") explains it.
#
#   $CLUSTER_DIR/prometheus/prometheus.yml   configuration
#   $CLUSTER_DIR/prometheus/data/            TSDB (kept across restarts)
#   $CLUSTER_DIR/prometheus/file_sd/*.json   host targets that tests add

prometheus_dir() { echo "$CLUSTER_DIR/prometheus"; }

# cidr_regex <a.b.0.0/16>: a regex matching the IPv4 addresses of an
# octet-aligned range (/8, /16, /24), for relabeling.
cidr_regex() {
  local net=${1%/*} bits=${1#*/} re="" i octets
  IFS=. read -ra octets <<< "$net"
  case $bits in 8 | 16 | 24) ;; *) die "cidr_regex: $1 is not a /8, /16 or /24" ;; esac
  for ((i = 0; i < 4; i++)); do
    [ $i = 0 ] || re+='\.'
    if [ $((i * 8)) -lt "$bits" ]; then re+=${octets[i]}; else re+='[0-9]+'; fi
  done
  echo "$re"
}

# The configuration. Jobs:
#   prometheus       itself
#   kubernetes-pods  pods annotated prometheus.io/scrape: "true", found through
#                    the API server (Kubernetes SD, role pod)
#   host             processes on this machine that tests list in file_sd/*.json
prometheus_write_config() {
  local dir pki=$CLUSTER_DIR/pki
  dir=$(prometheus_dir)
  mkdir -p "$dir/data" "$dir/file_sd"
  cat > "$dir/prometheus.yml" << EOF
# The local cluster's Prometheus, written by cluster-up.sh (prometheus-lib.sh).
global:
  # Short: tests and the demo wait for fresh samples (a production Prometheus
  # scrapes every 15-60 s). The timeout must not exceed the interval.
  scrape_interval: 5s
  scrape_timeout: 4s
  evaluation_interval: 5s

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PROMETHEUS_PORT"]

  - job_name: kubernetes-pods
    # The serving pods export their own release, revision and model_version
    # labels (an outcome carries the revision that predicted it, which need
    # not be the pod's), so scraped labels win over target labels, and the
    # pod's own labels get names no exporter uses (pod_*).
    honor_labels: true
    kubernetes_sd_configs:
      - role: pod
        api_server: https://127.0.0.1:$APISERVER_PORT
        tls_config:
          ca_file: $pki/ca.crt
          cert_file: $pki/prometheus.crt
          key_file: $pki/prometheus.key
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        regex: "true"
        action: keep
      # Only Running pods with an address: a Pending pod has none, a
      # finished one serves nothing.
      - source_labels: [__meta_kubernetes_pod_phase]
        regex: Running
        action: keep
      - source_labels: [__meta_kubernetes_pod_ip]
        regex: .+
        action: keep
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        regex: (.+)
        target_label: __metrics_path__
      # The pod's IP with the annotated port (IPv4: this cluster has no
      # IPv6 pods); without the annotation, each declared container port.
      - source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: (.+);([0-9]+)
        replacement: \$1:\$2
        target_label: __address__
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      # cd4ml.io/release, cd4ml.io/revision, cd4ml.io/model-version of the pod
      - regex: __meta_kubernetes_pod_label_cd4ml_io_(release|revision|model_version)
        replacement: pod_\$1
        action: labelmap
      # kwok's fake pods have addresses nobody owns ($KWOK_POD_CIDR): without
      # the real node's "unreachable" route they would follow the default
      # route off the machine. Their targets keep their labels (discovery can
      # be checked) but get a scheme no HTTP client speaks, so each scrape
      # fails before a packet is sent: health down, "unsupported protocol
      # scheme".
      - source_labels: [__meta_kubernetes_pod_ip]
        regex: $(cidr_regex "$KWOK_POD_CIDR")
        replacement: kwok-fake-pod
        target_label: __scheme__

  - job_name: host
    # Processes on this machine (127.0.0.1) that tests and the demo add by
    # writing a file_sd file: [{"targets": ["127.0.0.1:PORT"], "labels": {...}}]
    # into file_sd/ (write it elsewhere and rename it in, so Prometheus never
    # reads half a file). Seen within seconds (inotify; re-read every 5 s).
    honor_labels: true
    file_sd_configs:
      - files: ["$dir/file_sd/*.json"]
        refresh_interval: 5s
EOF
}

prometheus_write_cmd() {
  local dir
  dir=$(prometheus_dir)
  write_cmd prometheus -- "$CLUSTER_BIN_DIR/prometheus" \
    --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
}

prometheus_healthy() {
  curl -sf --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" > /dev/null 2>&1
}
