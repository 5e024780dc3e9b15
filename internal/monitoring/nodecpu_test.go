package monitoring

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// NodeCPUBusy joins the busy ratio and the CPU count of each node by
// its nodename, busiest first, and asks for the range it was given (at
// least 10 s: two scrapes).
func TestNodeCPUBusy(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		q := r.Form.Get("query")
		queries = append(queries, q)
		sample := func(inst, node string, v float64) string {
			return fmt.Sprintf(`{"metric":{"instance":%q,"nodename":%q},"value":[1796495153,"%g"]}`, inst, node, v)
		}
		var result []string
		if strings.HasPrefix(q, "(1 - avg") {
			result = []string{sample("10.0.1.6:9100", "tb-worker-1", 0.5), sample("10.0.1.7:9100", "tb-manager-1", 0.95)}
		} else {
			result = []string{sample("10.0.1.6:9100", "tb-worker-1", 2), sample("10.0.1.7:9100", "tb-manager-1", 2)}
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(result, ","))
	}))
	defer srv.Close()
	end := time.Date(2026, 12, 5, 18, 26, 45, 0, time.UTC)
	nodes, err := NodeCPUBusy(context.Background(), srv.URL, end.Add(-22*time.Second), end)
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeCPU{{Node: "tb-manager-1", Cores: 2, Busy: 0.95}, {Node: "tb-worker-1", Cores: 2, Busy: 0.5}}
	if fmt.Sprint(nodes) != fmt.Sprint(want) {
		t.Errorf("nodes %v, want %v", nodes, want)
	}
	if len(queries) != 2 || !strings.Contains(queries[0], `rate(node_cpu_seconds_total{mode="idle"}[22s])`) {
		t.Errorf("queries %q: want the idle rate over the 22 s range first", queries)
	}
	if _, err := NodeCPUBusy(context.Background(), srv.URL, end.Add(-3*time.Second), end); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(queries[2], "[10s]") {
		t.Errorf("a 3 s range was asked as %q, want at least two scrapes (10s)", queries[2])
	}
}
