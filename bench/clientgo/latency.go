package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// firstSeen records when each key was first seen; handlers and workers
// record, the main goroutine waits for all keys.
type firstSeen struct {
	mu   sync.Mutex
	cond *sync.Cond
	seen map[string]time.Time
}

func newFirstSeen() *firstSeen {
	f := &firstSeen{seen: map[string]time.Time{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *firstSeen) record(key string) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seen[key]; !ok {
		f.seen[key] = now
		f.cond.Broadcast()
	}
}

func (f *firstSeen) at(key string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.seen[key]
	return t, ok
}

// waitForAll waits until every key is seen or the deadline passes.
func (f *firstSeen) waitForAll(keys []string, deadline time.Time) {
	timer := time.AfterFunc(time.Until(deadline), func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for time.Now().Before(deadline) {
		missing := false
		for _, key := range keys {
			if _, ok := f.seen[key]; !ok {
				missing = true
				break
			}
		}
		if !missing {
			return
		}
		f.cond.Wait()
	}
}

func readConfigMaps(file string) ([]corev1.ConfigMap, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []corev1.ConfigMap `json:"items"`
	}
	if err := json.Unmarshal(text, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return list.Items, nil
}

// reconcileLatency mirrors cluster_bench reconcile-latency: an informer whose
// handler records the first add of each key and enqueues every change on a
// rate-limited work queue; one worker records when it takes a key (the start
// of a reconcile, as in controller-runtime).
func reconcileLatency(client *kubernetes.Clientset, namespace, objectsFile string, rate float64) (map[string]any, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("--rate must be positive")
	}
	items, err := readConfigMaps(objectsFile)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(items))
	for i := range items {
		items[i].Namespace = namespace
		keys[i] = namespace + "/" + items[i].Name
	}

	handlerSeen, reconcileSeen := newFirstSeen(), newFirstSeen()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer queue.ShutDown()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(key)
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithNamespace(namespace), informers.WithTransform(stripManagedFields))
	informer := factory.Core().V1().ConfigMaps().Informer()
	_, err = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				handlerSeen.record(key)
			}
			enqueue(obj)
		},
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if err := waitForSync(informer, time.Minute); err != nil {
		return nil, err
	}
	go func() {
		for {
			key, shutdown := queue.Get()
			if shutdown {
				return
			}
			reconcileSeen.record(key)
			queue.Forget(key)
			queue.Done(key)
		}
	}()

	// Creates on a fixed schedule; a create that overruns its slot delays the
	// next one instead of causing a burst.
	period := time.Duration(float64(time.Second) / rate)
	sent := make([]time.Time, len(items))
	roundTrips := make([]time.Duration, 0, len(items))
	ctx := context.Background()
	start := time.Now()
	for i := range items {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		sent[i] = time.Now()
		if _, err := client.CoreV1().ConfigMaps(namespace).Create(ctx, &items[i], metav1.CreateOptions{}); err != nil {
			return nil, err
		}
		roundTrips = append(roundTrips, time.Since(sent[i]))
	}
	sending := time.Since(start)

	settle := time.Now().Add(time.Minute)
	reconcileSeen.waitForAll(keys, settle)
	handlerSeen.waitForAll(keys, settle)

	handlerLatency, missingHandler := latencies(keys, sent, handlerSeen)
	reconcileLatency, missingReconcile := latencies(keys, sent, reconcileSeen)
	result := map[string]any{
		"client":                   "client-go",
		"namespace":                namespace,
		"objects":                  len(items),
		"rate_per_second":          rate,
		"achieved_rate_per_second": float64(len(items)) / sending.Seconds(),
		"workers":                  1,
		"create_round_trip_ms":     summarizeMs(roundTrips),
		"create_to_handler_ms":     handlerLatency,
		"create_to_reconcile_ms":   reconcileLatency,
		"handler_to_reconcile_ms":  handOff(keys, handlerSeen, reconcileSeen),
		"missing_handler":          missingHandler,
		"missing_reconcile":        missingReconcile,
	}
	if missingReconcile > 0 {
		return nil, fmt.Errorf("%d of %d objects were never reconciled", missingReconcile, len(keys))
	}
	return result, nil
}

func latencies(keys []string, sent []time.Time, seen *firstSeen) (map[string]any, int) {
	var samples []time.Duration
	missing := 0
	for i, key := range keys {
		if at, ok := seen.at(key); ok {
			samples = append(samples, at.Sub(sent[i]))
		} else {
			missing++
		}
	}
	return summarizeMs(samples), missing
}

// handOff gives, per key, the time from its add handler to its reconcile:
// the work queue's hand-off.
func handOff(keys []string, handlerSeen, reconcileSeen *firstSeen) map[string]any {
	var samples []time.Duration
	for _, key := range keys {
		handled, ok1 := handlerSeen.at(key)
		reconciled, ok2 := reconcileSeen.at(key)
		if ok1 && ok2 {
			samples = append(samples, reconciled.Sub(handled))
		}
	}
	return summarizeMs(samples)
}

// summarizeMs gives the same figures as cluster_bench's summarize_ms:
// nearest-rank percentiles, in milliseconds rounded to the microsecond.
func summarizeMs(samples []time.Duration) map[string]any {
	out := map[string]any{"count": len(samples)}
	if len(samples) == 0 {
		return out
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	rank := func(p float64) time.Duration {
		index := int(math.Ceil(p / 100 * float64(len(samples))))
		index = max(1, min(index, len(samples)))
		return samples[index-1]
	}
	var total time.Duration
	for _, s := range samples {
		total += s
	}
	out["min"] = ms(samples[0])
	out["p50"] = ms(rank(50))
	out["p90"] = ms(rank(90))
	out["p99"] = ms(rank(99))
	out["max"] = ms(samples[len(samples)-1])
	out["mean"] = ms(total / time.Duration(len(samples)))
	return out
}
