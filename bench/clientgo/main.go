// clientgo-bench measures a client-go informer the way cluster_bench measures
// the operator's C++ runtime, on the same cluster and objects, so
// docs/performance.md can give ratios. bench/run.sh builds and runs it.
//
//	clientgo-bench memory  --kubeconfig K --namespace NS [--expect N]
//	clientgo-bench latency --kubeconfig K --namespace NS --objects LIST.json [--rate 20]
//	clientgo-bench decode  --stream STREAM.jsonl [--mode decode|informer] [--chunk 4096]
//
// Each command prints one JSON object on stdout, with the field names
// cluster_bench uses.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: clientgo-bench memory|latency|decode [flags]"))
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kubeconfig := flags.String("kubeconfig", "", "kubeconfig of the cluster to measure")
	namespace := flags.String("namespace", "", "namespace to watch")
	expect := flags.Int("expect", -1, "memory: objects the cache must hold (-1: any)")
	objects := flags.String("objects", "", "latency: List JSON of the ConfigMaps to create")
	rate := flags.Float64("rate", 20, "latency: creates per second")
	stream := flags.String("stream", "", "decode: the recorded watch stream (uncompressed)")
	mode := flags.String("mode", "informer", "decode: decode (StreamWatcher only) or informer")
	chunk := flags.Int("chunk", 4096, "decode: bytes per read")
	minTime := flags.Duration("min-time", 3*time.Second, "decode: least time to repeat for")
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	if os.Args[1] == "decode" {
		result, err := decodeThroughput(*stream, *mode, *chunk, *minTime)
		if err != nil {
			fail(err)
		}
		printJSON(result)
		return
	}
	if *namespace == "" {
		fail(fmt.Errorf("--namespace is required"))
	}
	client, err := newClient(*kubeconfig)
	if err != nil {
		fail(err)
	}

	var result map[string]any
	switch os.Args[1] {
	case "memory":
		result, err = cacheMemory(client, *namespace, *expect)
	case "latency":
		result, err = reconcileLatency(client, *namespace, *objects, *rate)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
	printJSON(result)
}

func printJSON(result map[string]any) {
	out, err := json.Marshal(result)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

// newClient lifts client-go's default 5 qps / burst 10 throttle, as
// cluster_bench lifts its own, so both measure the server and the library.
func newClient(kubeconfig string) (*kubernetes.Clientset, error) {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	config.QPS = 100000
	config.Burst = 100000
	return kubernetes.NewForConfig(config)
}

// stripManagedFields is the informer transform: the C++ informer drops
// metadata.managedFields by default, so the caches hold the same data.
func stripManagedFields(obj any) (any, error) {
	if accessor, err := meta.Accessor(obj); err == nil {
		accessor.SetManagedFields(nil)
	}
	return obj, nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "clientgo-bench: %v\n", err)
	os.Exit(1)
}
