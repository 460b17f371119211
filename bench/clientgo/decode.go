package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	restclientwatch "k8s.io/client-go/rest/watch"
	"k8s.io/client-go/tools/cache"
)

// The decode benchmark replays the recorded watch stream (the file
// watch_decode_bench reads) through client-go's own watch path, with the
// pieces a REST watch would use: the clientset's JSON negotiator, a framer,
// a StreamWatcher. "decode" only reads the events; "informer" feeds them to a
// SharedIndexInformer (reflector, DeltaFIFO, indexer, a counting handler),
// the counterpart of watch_decode_bench's BM_DecodeAndDispatch.

type streamCounts struct {
	lines, added, modified, deleted int
}

func countEvents(data []byte) streamCounts {
	var c streamCounts
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		c.lines++
		switch {
		case bytes.HasPrefix(line, []byte(`{"type":"ADDED"`)):
			c.added++
		case bytes.HasPrefix(line, []byte(`{"type":"MODIFIED"`)):
			c.modified++
		case bytes.HasPrefix(line, []byte(`{"type":"DELETED"`)):
			c.deleted++
		}
	}
	return c
}

// chunkedReader hands out at most `chunk` bytes per Read, as a network
// stream cut into TLS records or HTTP chunks would.
type chunkedReader struct {
	data  []byte
	chunk int
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.chunk, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func (r *chunkedReader) Close() error { return nil }

// newRecordedWatcher decodes the stream as rest.Request.Watch does.
func newRecordedWatcher(data []byte, chunk int) (watch.Interface, error) {
	negotiator := runtime.NewClientNegotiator(scheme.Codecs.WithoutConversion(), corev1.SchemeGroupVersion)
	objectDecoder, streamingSerializer, framer, err := negotiator.StreamDecoder(runtime.ContentTypeJSON, nil)
	if err != nil {
		return nil, err
	}
	frameReader := framer.NewFrameReader(&chunkedReader{data: data, chunk: chunk})
	eventDecoder := streaming.NewDecoder(frameReader, streamingSerializer)
	return watch.NewStreamWatcher(restclientwatch.NewDecoder(eventDecoder, objectDecoder),
		errors.NewClientErrorReporter(http.StatusInternalServerError, "GET", "ClientWatchDecoding")), nil
}

// recordedListerWatcher lists nothing, then serves the recording once; later
// watches stay open and silent until the informer stops.
type recordedListerWatcher struct {
	data    []byte
	chunk   int
	watches atomic.Int32
}

func (lw *recordedListerWatcher) List(metav1.ListOptions) (runtime.Object, error) {
	return &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
}

func (lw *recordedListerWatcher) Watch(metav1.ListOptions) (watch.Interface, error) {
	if lw.watches.Add(1) == 1 {
		return newRecordedWatcher(lw.data, lw.chunk)
	}
	return watch.NewFake(), nil
}

// IsWatchListSemanticsUnSupported keeps the reflector on list + watch.
func (lw *recordedListerWatcher) IsWatchListSemanticsUnSupported() bool { return true }

type cpuClock struct{ wall, cpu time.Duration }

func nowCPU() cpuClock {
	return cpuClock{wall: time.Duration(time.Now().UnixNano()), cpu: time.Duration(sampleMemory().cpuSeconds * 1e9)}
}

// replayDecode reads every event off a StreamWatcher.
func replayDecode(data []byte, chunk int, want streamCounts) error {
	w, err := newRecordedWatcher(data, chunk)
	if err != nil {
		return err
	}
	events := 0
	for event := range w.ResultChan() {
		if event.Type == watch.Error {
			return fmt.Errorf("decode error: %v", event.Object)
		}
		events++
	}
	if events != want.lines {
		return fmt.Errorf("decoded %d events, the recording has %d", events, want.lines)
	}
	return nil
}

// replayInformer runs an informer over the recording until its handler has
// seen every add, update and delete.
func replayInformer(data []byte, chunk int, want streamCounts) error {
	informer := cache.NewSharedIndexInformer(&recordedListerWatcher{data: data, chunk: chunk},
		&corev1.ConfigMap{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := informer.SetTransform(stripManagedFields); err != nil {
		return err
	}
	var adds, updates, deletes atomic.Int32
	done := make(chan struct{})
	var once sync.Once
	check := func() {
		if int(adds.Load()) == want.added && int(updates.Load()) == want.modified &&
			int(deletes.Load()) == want.deleted {
			once.Do(func() { close(done) })
		}
	}
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { adds.Add(1); check() },
		UpdateFunc: func(any, any) { updates.Add(1); check() },
		DeleteFunc: func(any) { deletes.Add(1); check() },
	})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	go informer.Run(stop)
	defer close(stop)
	select {
	case <-done:
		return nil
	case <-time.After(time.Minute):
		return fmt.Errorf("informer saw %d adds, %d updates, %d deletes of %d/%d/%d",
			adds.Load(), updates.Load(), deletes.Load(), want.added, want.modified, want.deleted)
	}
}

// decodeThroughput repeats one replay for at least minTime (and 5 rounds)
// and reports the median round's rates by wall and by CPU time.
func decodeThroughput(streamFile, mode string, chunk int, minTime time.Duration) (map[string]any, error) {
	data, err := os.ReadFile(streamFile)
	if err != nil {
		return nil, err
	}
	want := countEvents(data)
	replay := replayDecode
	if mode == "informer" {
		replay = replayInformer
	} else if mode != "decode" {
		return nil, fmt.Errorf("unknown mode %q (decode|informer)", mode)
	}
	var wallRates, cpuRates []float64
	start := time.Now()
	for len(wallRates) < 5 || time.Since(start) < minTime {
		before := nowCPU()
		if err := replay(data, chunk, want); err != nil {
			return nil, err
		}
		after := nowCPU()
		wallRates = append(wallRates, float64(want.lines)/(after.wall-before.wall).Seconds())
		if cpu := after.cpu - before.cpu; cpu > 0 {
			cpuRates = append(cpuRates, float64(want.lines)/cpu.Seconds())
		}
	}
	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return map[string]any{
		"client":                "client-go",
		"mode":                  mode,
		"chunk_bytes":           chunk,
		"stream_events":         want.lines,
		"stream_bytes":          len(data),
		"rounds":                len(wallRates),
		"events_per_second":     median(wallRates),
		"events_per_cpu_second": median(cpuRates),
		"bytes_per_second":      median(wallRates) * float64(len(data)) / float64(want.lines),
	}, nil
}
