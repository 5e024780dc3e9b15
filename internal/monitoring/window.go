package monitoring

import (
	"archive/tar"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/alert-testbed/testbed/internal/topology"
)

// ServiceMetrics are the per-service resource series a run archives, by
// the recording rules of swarm/prometheus/rules.yml, summed over nodes.
var ServiceMetrics = []struct{ Name, Rule, Unit string }{
	{"cpu_cores", "testbed:service_cpu_cores", "cores"},
	{"memory_bytes", "testbed:service_memory_bytes", "bytes"},
	{"network_receive_bytes_per_s", "testbed:service_network_receive_bytes", "bytes/s"},
	{"network_transmit_bytes_per_s", "testbed:service_network_transmit_bytes", "bytes/s"},
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Series maps service -> metric name (ServiceMetrics) -> samples.
type Series map[string]map[string][]Point

func newAPI(url string) (promv1.API, error) {
	c, err := api.NewClient(api.Config{Address: url, Client: &http.Client{Timeout: 60 * time.Second}})
	if err != nil {
		return nil, err
	}
	return promv1.NewAPI(c), nil
}

// ServiceSeries queries the per-service CPU, memory and network series of
// the services whose names match serviceRE over [start, end] at step.
func ServiceSeries(ctx context.Context, url, serviceRE string, start, end time.Time, step time.Duration) (Series, error) {
	p, err := newAPI(url)
	if err != nil {
		return nil, err
	}
	out := Series{}
	for _, m := range ServiceMetrics {
		q := fmt.Sprintf(`sum by (service) (%s{service=~%q})`, m.Rule, serviceRE)
		v, _, _, err := p.QueryRange(ctx, q, promv1.Range{Start: start, End: end, Step: step})
		if err != nil {
			return nil, fmt.Errorf("Prometheus at %s: %s: %w", url, q, err)
		}
		mat, ok := v.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("Prometheus at %s: %s: a %s, not a matrix", url, q, v.Type())
		}
		for _, s := range mat {
			svc := string(s.Metric["service"])
			if out[svc] == nil {
				out[svc] = map[string][]Point{}
			}
			pts := make([]Point, len(s.Values))
			for i, sp := range s.Values {
				pts[i] = Point{T: sp.Timestamp.Time(), V: float64(sp.Value)}
			}
			out[svc][m.Name] = pts
		}
	}
	return out, nil
}

// Services lists the series' services, sorted.
func (s Series) Services() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteCSV writes the series in long form: time (RFC 3339), unix seconds,
// service, metric, value.
func (s Series) WriteCSV(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "time,unix,service,metric,value"); err != nil {
		return err
	}
	for _, svc := range s.Services() {
		for _, m := range ServiceMetrics {
			for _, p := range s[svc][m.Name] {
				if _, err := fmt.Fprintf(w, "%s,%d,%s,%s,%g\n", p.T.UTC().Format(time.RFC3339), p.T.Unix(), svc, m.Name, p.V); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// BrokerService matches the swarm services of the Kafka brokers:
// topology.BrokerServiceName's kafka_kafka-1, kafka_kafka-2, kafka_kafka-3.
var BrokerService = regexp.MustCompile(`^` + regexp.QuoteMeta(topology.BrokerServicePrefix) + `[0-9]+$`)

// SumPeak sums metric over the services that match accepts at each sample
// time and returns the largest sum, the earliest time it was reached, and
// how many sample times there were. NaN and infinite samples are left out.
func (s Series) SumPeak(match func(service string) bool, metric string) (peak float64, at time.Time, times int) {
	sum := map[int64]float64{}
	for svc, ms := range s {
		if !match(svc) {
			continue
		}
		for _, p := range ms[metric] {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				continue
			}
			sum[p.T.Unix()] += p.V
		}
	}
	ts := make([]int64, 0, len(sum))
	for t := range sum {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	for _, t := range ts {
		if sum[t] > peak {
			peak, at = sum[t], time.Unix(t, 0).UTC()
		}
	}
	return peak, at, len(ts)
}

// Resource is one service's use of one resource over a window, as
// DMTN-028's tables give it.
type Resource struct {
	Mean, Stddev, Max float64
	N                 int
}

// Stat summarizes samples: mean, sample standard deviation, max.
func Stat(pts []Point) Resource {
	r := Resource{N: len(pts)}
	if r.N == 0 {
		return r
	}
	var sum float64
	r.Max = math.Inf(-1)
	for _, p := range pts {
		sum += p.V
		r.Max = math.Max(r.Max, p.V)
	}
	r.Mean = sum / float64(r.N)
	if r.N > 1 {
		var ss float64
		for _, p := range pts {
			ss += (p.V - r.Mean) * (p.V - r.Mean)
		}
		r.Stddev = math.Sqrt(ss / float64(r.N-1))
	}
	return r
}

// Snapshot asks Prometheus for a TSDB snapshot (its admin API, which the
// monitoring stack enables) and returns its name: a folder under
// /prometheus/snapshots in the Prometheus container.
func Snapshot(ctx context.Context, url string) (string, error) {
	p, err := newAPI(url)
	if err != nil {
		return "", err
	}
	res, err := p.Snapshot(ctx, false)
	if err != nil {
		return "", fmt.Errorf("Prometheus at %s: TSDB snapshot: %w", url, err)
	}
	return res.Name, nil
}

// PrometheusService is the swarm service of Prometheus.
const PrometheusService = StackName + "_prometheus"

// CopySnapshot copies snapshot name out of the Prometheus container, which
// runs on the node whose Docker API is api, into dest (created), and
// returns the bytes written. dest can be opened again with `prometheus
// --storage.tsdb.path=dest`.
func CopySnapshot(ctx context.Context, api *client.Client, name, dest string) (int64, error) {
	cs, err := api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+PrometheusService), filters.Arg("status", "running"))})
	if err != nil {
		return 0, err
	}
	if len(cs) == 0 {
		return 0, fmt.Errorf("no running container of %s on this node", PrometheusService)
	}
	rc, _, err := api.CopyFromContainer(ctx, cs[0].ID, "/prometheus/snapshots/"+name)
	if err != nil {
		return 0, fmt.Errorf("copy snapshot %s from %s: %w", name, PrometheusService, err)
	}
	defer rc.Close()
	return untar(rc, dest)
}

// untar extracts the regular files and folders of a tar stream whose
// entries all sit under one top folder into dest, dropping that folder.
func untar(r io.Reader, dest string) (int64, error) {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return 0, err
	}
	var total int64
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		clean := path.Clean(h.Name)
		if clean == ".." || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
			return total, fmt.Errorf("snapshot entry %q leaves its folder", h.Name)
		}
		_, rest, _ := strings.Cut(clean, "/")
		if rest == "" {
			continue
		}
		if strings.HasPrefix(rest, "../") || path.IsAbs(rest) {
			return total, fmt.Errorf("snapshot entry %q leaves its folder", h.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(rest))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return total, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return total, err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return total, err
			}
			n, err := io.Copy(f, tr)
			total += n
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return total, err
			}
		}
	}
}

// Totals are a service's CPU time and network bytes over a window, from
// cAdvisor's counters (increase over the whole window, which does not lose
// the part of a burst that a short rate() window misses between cAdvisor's
// samples, 5 to 9 s apart).
type Totals struct {
	CPUSeconds    float64 `json:"cpu_seconds"`
	ReceiveBytes  float64 `json:"receive_bytes"`
	TransmitBytes float64 `json:"transmit_bytes"`
	// JITSeconds, brokers only, is the increase of the broker JVM's
	// jvm_compilation_time_seconds_total (the JMX exporter's reading of
	// CompilationMXBean): the JIT compiler threads' elapsed time summed
	// over threads, which counts time waiting for a core too. A JVM
	// compiles Kafka's hot code over its first gigabytes: measured on
	// this project's 2-core machine, the compiler threads used 32 CPU
	// seconds in the first 5-visit LSST run after up, 15 in the second and
	// 5 in the third (README, "Where an LSST visit's time goes").
	JITSeconds float64 `json:"jit_seconds,omitempty"`
}

// ServiceTotals returns the Totals of the services whose names match
// serviceRE over [start, end].
func ServiceTotals(ctx context.Context, url, serviceRE string, start, end time.Time) (map[string]Totals, error) {
	p, err := newAPI(url)
	if err != nil {
		return nil, err
	}
	w := end.Sub(start).Round(time.Second)
	if w < 10*time.Second {
		w = 10 * time.Second
	}
	out := map[string]Totals{}
	queries := []string{}
	for _, counter := range []string{"container_cpu_usage_seconds_total", "container_network_receive_bytes_total", "container_network_transmit_bytes_total"} {
		queries = append(queries, fmt.Sprintf(`sum by (service) (label_replace(increase(%s{container_label_com_docker_swarm_service_name=~%q}[%ds]), "service", "$1", "container_label_com_docker_swarm_service_name", "(.*)"))`, counter, serviceRE, int(w.Seconds())))
	}
	// The brokers' JVMs, by the broker label the scrape config sets
	// (kafka-N), named as their swarm service is (kafka_kafka-N).
	queries = append(queries, fmt.Sprintf(`sum by (service) (label_replace(increase(jvm_compilation_time_seconds_total{job="kafka"}[%ds]), "service", "kafka_$1", "broker", "(.*)"))`, int(w.Seconds())))
	for i, q := range queries {
		vec, err := queryVector(ctx, p, url, q, end)
		if err != nil {
			return nil, err
		}
		for _, s := range vec {
			svc := string(s.Metric["service"])
			t := out[svc]
			switch i {
			case 0:
				t.CPUSeconds = float64(s.Value)
			case 1:
				t.ReceiveBytes = float64(s.Value)
			case 2:
				t.TransmitBytes = float64(s.Value)
			case 3:
				t.JITSeconds = float64(s.Value)
			}
			out[svc] = t
		}
	}
	return out, nil
}

// queryVector runs the instant query q at t on the Prometheus at url
// (named in errors) and returns its vector; an error for any other result.
func queryVector(ctx context.Context, p promv1.API, url, q string, t time.Time) (model.Vector, error) {
	v, _, _, err := p.Query(ctx, q, t)
	if err != nil {
		return nil, fmt.Errorf("Prometheus at %s: %s: %w", url, q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("Prometheus at %s: %s: a %s, not a vector", url, q, v.Type())
	}
	return vec, nil
}

// ReadCSV reads series written by WriteCSV (metrics/services.csv of a run
// archive). Times come from the unix column (whole seconds, as written).
func ReadCSV(r io.Reader) (Series, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 5
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("services csv: header: %w", err)
	}
	if strings.Join(head, ",") != "time,unix,service,metric,value" {
		return nil, fmt.Errorf("services csv: header %q, want time,unix,service,metric,value", strings.Join(head, ","))
	}
	out := Series{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("services csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		unix, err := strconv.ParseInt(rec[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("services csv: line %d: unix %q: %w", line, rec[1], err)
		}
		v, err := strconv.ParseFloat(rec[4], 64)
		if err != nil {
			return nil, fmt.Errorf("services csv: line %d: value %q: %w", line, rec[4], err)
		}
		svc, metric := rec[2], rec[3]
		if out[svc] == nil {
			out[svc] = map[string][]Point{}
		}
		out[svc][metric] = append(out[svc][metric], Point{T: time.Unix(unix, 0).UTC(), V: v})
	}
}
