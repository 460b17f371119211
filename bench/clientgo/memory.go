package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

type memorySample struct {
	RSSBytes       float64 `json:"rss_bytes"`
	HeapInUseBytes float64 `json:"heap_in_use_bytes"`
	cpuSeconds     float64
}

// sampleMemory reads RSS from /proc/self/statm (as the C++ side does) and the
// Go heap's allocated bytes (live objects plus garbage not yet collected).
func sampleMemory() memorySample {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	sample := memorySample{HeapInUseBytes: float64(stats.HeapAlloc)}
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		fields := strings.Fields(string(statm))
		if len(fields) > 1 {
			pages, _ := strconv.ParseFloat(fields[1], 64)
			sample.RSSBytes = pages * float64(os.Getpagesize())
		}
	}
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) == nil {
		seconds := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
		sample.cpuSeconds = seconds(usage.Utime) + seconds(usage.Stime)
	}
	return sample
}

// settle collects garbage and returns free pages to the kernel, the Go
// counterpart of malloc_trim on the C++ side.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func cacheMemory(client *kubernetes.Clientset, namespace string, expect int) (map[string]any, error) {
	ctx := context.Background()
	// The baseline includes an open, authenticated connection.
	if _, err := client.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); err != nil {
		return nil, err
	}
	settle()
	before := sampleMemory()

	start := time.Now()
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithNamespace(namespace), informers.WithTransform(stripManagedFields))
	informer := factory.Core().V1().ConfigMaps().Informer()
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if err := waitForSync(informer, 5*time.Minute); err != nil {
		return nil, err
	}
	sync := time.Since(start)
	synced := sampleMemory()
	settle()
	settled := sampleMemory()

	objects := informer.GetStore().List()
	if expect >= 0 && len(objects) != expect {
		return nil, fmt.Errorf("cache holds %d objects, expected %d", len(objects), expect)
	}
	jsonBytes := 0
	for _, object := range objects {
		text, err := json.Marshal(object)
		if err != nil {
			return nil, err
		}
		jsonBytes += len(text)
	}
	return map[string]any{
		"client":            "client-go",
		"watch_list":        watchListEnabled(),
		"namespace":         namespace,
		"objects":           len(objects),
		"sync_seconds":      sync.Seconds(),
		"sync_cpu_seconds":  synced.cpuSeconds - before.cpuSeconds,
		"object_json_bytes": jsonBytes,
		"before":            before,
		"synced":            synced,
		"synced_trimmed":    settled,
	}, nil
}

// waitForSync polls every millisecond, like cluster_bench:
// cache.WaitForCacheSync polls every 100 ms, which would round the sync time
// up by as much.
func waitForSync(informer cache.SharedIndexInformer, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !informer.HasSynced() {
		if time.Now().After(deadline) {
			return fmt.Errorf("informer did not sync within %v", timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// watchListEnabled says whether the informer's initial sync streamed (client-go
// 1.35's default) or listed in pages; KUBE_FEATURE_WatchListClient=false
// selects the latter.
func watchListEnabled() bool {
	value, set := os.LookupEnv("KUBE_FEATURE_WatchListClient")
	return !set || value != "false"
}
