package grafana

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var (
	dashboardsDir   = filepath.Join("..", "..", "dashboards")
	provisioningDir = filepath.Join(dashboardsDir, "provisioning")
)

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no dashboards in %s", dashboardsDir)
	}
	return names
}

func TestRepoDashboardsAreValid(t *testing.T) {
	for _, name := range dashboardFiles(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateDashboard(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := ValidateDashboards(os.DirFS(dashboardsDir)); err != nil {
		t.Error(err)
	}
}

// readKafka returns dashboards/kafka.json decoded, for broken variants.
func readKafka(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dashboardsDir, "kafka.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeObject(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func panelOf(d map[string]any, i int) map[string]any {
	return d["panels"].([]any)[i].(map[string]any)
}

func targetOf(d map[string]any, panel, target int) map[string]any {
	return panelOf(d, panel)["targets"].([]any)[target].(map[string]any)
}

func TestValidateDashboardBrokenVariants(t *testing.T) {
	// kafka.json has panels 1..8: panels[1] is id 2 "Bytes out per broker"
	// at x 12, panels[2] id 3 "Messages in per broker", panels[5] id 6
	// "ISR shrinks and expands" with targets A and B.
	for _, tc := range []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{
			name:   "missing uid",
			mutate: func(d map[string]any) { delete(d, "uid") },
			want:   `dashboard "Testbed: Kafka": uid: missing`,
		},
		{
			name:   "duplicate panel id",
			mutate: func(d map[string]any) { panelOf(d, 1)["id"] = 1 },
			want:   `dashboard "testbed-kafka": panels[1] (id 1 "Bytes out per broker"): id: 1 is also the id of panels[0]`,
		},
		{
			name:   "target without expr",
			mutate: func(d map[string]any) { delete(targetOf(d, 2, 0), "expr") },
			want:   `dashboard "testbed-kafka": panels[2] (id 3 "Messages in per broker"): targets[0] (refId "A"): expr: missing`,
		},
		{
			name:   "target with a blank expr",
			mutate: func(d map[string]any) { targetOf(d, 2, 0)["expr"] = "  " },
			want:   `dashboard "testbed-kafka": panels[2] (id 3 "Messages in per broker"): targets[0] (refId "A"): expr: missing`,
		},
		{
			name:   "gridPos past 24 columns",
			mutate: func(d map[string]any) { panelOf(d, 1)["gridPos"].(map[string]any)["w"] = 18 },
			want:   `dashboard "testbed-kafka": panels[1] (id 2 "Bytes out per broker"): gridPos: x+w = 12+18 = 30 is past the 24-column grid`,
		},
		{
			name:   "gridPos wider than the grid",
			mutate: func(d map[string]any) { panelOf(d, 0)["gridPos"].(map[string]any)["w"] = 25 },
			want:   `dashboard "testbed-kafka": panels[0] (id 1 "Bytes in per broker"): gridPos.w: 25 is not between 1 and 24`,
		},
		{
			name:   "gridPos without h",
			mutate: func(d map[string]any) { delete(panelOf(d, 0)["gridPos"].(map[string]any), "h") },
			want:   `dashboard "testbed-kafka": panels[0] (id 1 "Bytes in per broker"): gridPos.h: missing`,
		},
		{
			name:   "no gridPos",
			mutate: func(d map[string]any) { delete(panelOf(d, 0), "gridPos") },
			want:   `dashboard "testbed-kafka": panels[0] (id 1 "Bytes in per broker"): gridPos: missing`,
		},
		{
			name:   "uid too long",
			mutate: func(d map[string]any) { d["uid"] = strings.Repeat("k", 41) },
			want:   `dashboard "` + strings.Repeat("k", 41) + `": uid: "` + strings.Repeat("k", 41) + `" is 41 characters long, at most 40 allowed`,
		},
		{
			name:   "uid with a slash",
			mutate: func(d map[string]any) { d["uid"] = "testbed/kafka" },
			want:   `dashboard "testbed/kafka": uid: "testbed/kafka" has characters outside [a-zA-Z0-9-_]`,
		},
		{
			name:   "no title",
			mutate: func(d map[string]any) { d["title"] = "" },
			want:   `dashboard "testbed-kafka": title: missing`,
		},
		{
			name:   "no schemaVersion",
			mutate: func(d map[string]any) { delete(d, "schemaVersion") },
			want:   `dashboard "testbed-kafka": schemaVersion: missing`,
		},
		{
			name:   "no panels",
			mutate: func(d map[string]any) { d["panels"] = []any{} },
			want:   `dashboard "testbed-kafka": panels: missing`,
		},
		{
			name:   "panel without id",
			mutate: func(d map[string]any) { delete(panelOf(d, 3), "id") },
			want:   `dashboard "testbed-kafka": panels[3]: id: missing`,
		},
		{
			name:   "panel without type",
			mutate: func(d map[string]any) { delete(panelOf(d, 3), "type") },
			want:   `dashboard "testbed-kafka": panels[3] (id 4 "Produce request time p99"): type: missing`,
		},
		{
			name:   "panel without title",
			mutate: func(d map[string]any) { delete(panelOf(d, 3), "title") },
			want:   `dashboard "testbed-kafka": panels[3] (id 4): title: missing`,
		},
		{
			name:   "datasource by name",
			mutate: func(d map[string]any) { panelOf(d, 4)["datasource"] = "Prometheus" },
			want:   `dashboard "testbed-kafka": panels[4] (id 5 "Under-replicated partitions"): datasource: "Prometheus" is a datasource name, want an object with the datasource's uid`,
		},
		{
			name:   "datasource without uid",
			mutate: func(d map[string]any) { delete(panelOf(d, 4)["datasource"].(map[string]any), "uid") },
			want:   `dashboard "testbed-kafka": panels[4] (id 5 "Under-replicated partitions"): datasource.uid: missing`,
		},
		{
			name:   "no targets",
			mutate: func(d map[string]any) { delete(panelOf(d, 4), "targets") },
			want:   `dashboard "testbed-kafka": panels[4] (id 5 "Under-replicated partitions"): targets: missing`,
		},
		{
			name:   "duplicate refId",
			mutate: func(d map[string]any) { targetOf(d, 5, 1)["refId"] = "A" },
			want:   `dashboard "testbed-kafka": panels[5] (id 6 "ISR shrinks and expands"): targets[1]: refId: "A" is also the refId of targets[0]`,
		},
		{
			name:   "target without refId",
			mutate: func(d map[string]any) { delete(targetOf(d, 5, 1), "refId") },
			want:   `dashboard "testbed-kafka": panels[5] (id 6 "ISR shrinks and expands"): targets[1]: refId: missing`,
		},
		{
			name: "templating entry without type",
			mutate: func(d map[string]any) {
				d["templating"] = map[string]any{"list": []any{map[string]any{"name": "broker"}}}
			},
			want: `dashboard "testbed-kafka": templating.list[0] ("broker"): type: missing`,
		},
		{
			name: "templating entry without name",
			mutate: func(d map[string]any) {
				d["templating"] = map[string]any{"list": []any{map[string]any{"type": "query"}}}
			},
			want: `dashboard "testbed-kafka": templating.list[0]: name: missing`,
		},
		{
			name: "two problems",
			mutate: func(d map[string]any) {
				delete(d, "uid")
				delete(targetOf(d, 2, 0), "expr")
			},
			want: `dashboard "Testbed: Kafka": uid: missing; panels[2] (id 3 "Messages in per broker"): targets[0] (refId "A"): expr: missing`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := readKafka(t)
			tc.mutate(d)
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateDashboard(data)
			if err == nil {
				t.Fatalf("ValidateDashboard() = nil, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("ValidateDashboard() =\n %s\nwant\n %s", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%T is not a *ValidationError", err)
			}
		})
	}
}

func TestValidateDashboardRowsAndExpressions(t *testing.T) {
	// A collapsed row holds panels (ids unique with the top level ones);
	// a server-side expression target has no expr.
	data := `{"uid":"rows","title":"Rows","schemaVersion":39,"panels":[
	  {"id":1,"type":"row","title":"Kafka","collapsed":true,"gridPos":{"x":0,"y":0,"w":24,"h":1},"panels":[
	    {"id":2,"type":"timeseries","title":"In","gridPos":{"x":0,"y":1,"w":12,"h":8},
	     "datasource":{"type":"prometheus","uid":"testbed-prometheus"},
	     "targets":[{"refId":"A","expr":"sum(rate(x[1m]))"},
	                {"refId":"B","datasource":{"type":"__expr__","uid":"__expr__"},"type":"math","expression":"$A*8"}]}]},
	  {"id":3,"type":"text","title":"Notes","gridPos":{"x":0,"y":1,"w":24,"h":3}}]}`
	if err := ValidateDashboard([]byte(data)); err != nil {
		t.Fatal(err)
	}
	dup := strings.Replace(data, `"id":3`, `"id":2`, 1)
	want := `dashboard "rows": panels[1] (id 2 "Notes"): id: 2 is also the id of panels[0].panels[0]`
	if err := ValidateDashboard([]byte(dup)); err == nil || err.Error() != want {
		t.Errorf("ValidateDashboard() = %v, want %q", err, want)
	}
}

func TestValidateDashboardNotJSON(t *testing.T) {
	err := ValidateDashboard([]byte(`{"uid": "x",`))
	if err == nil || !strings.HasPrefix(err.Error(), "dashboard: invalid JSON: ") {
		t.Errorf("ValidateDashboard(truncated) = %v, want an invalid JSON error", err)
	}
}

func readProvisioning(t *testing.T) (datasource, dashboards string) {
	t.Helper()
	a, err := os.ReadFile(filepath.Join(provisioningDir, "datasource.yml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(provisioningDir, "dashboards.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(a), string(b)
}

func TestRepoProvisioningIsValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(provisioningDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if len(names) != 2 {
		t.Fatalf("provisioning files %q, want datasource.yml and dashboards.yml", names)
	}
	ds, dash := readProvisioning(t)
	if err := ValidateProvisioning([]byte(ds), []byte(dash)); err != nil {
		t.Fatal(err)
	}
}

// replace is strings.Replace that fails the test when old is absent, so
// that a variant cannot silently be the valid file.
func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not in the file", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestValidateProvisioningBrokenVariants(t *testing.T) {
	ds, dash := readProvisioning(t)
	for _, tc := range []struct {
		name      string
		ds, dash  func(t *testing.T) string
		want      string
		wantLines int
	}{
		{
			name: "datasource apiVersion 2",
			ds:   func(t *testing.T) string { return replace(t, ds, "apiVersion: 1", "apiVersion: 2") },
			want: "datasource provisioning: apiVersion: 2, want 1",
		},
		{
			name: "datasource without url",
			ds:   func(t *testing.T) string { return replace(t, ds, "    url: http://prometheus:9090\n", "") },
			want: `datasource provisioning: datasources[0] ("Prometheus"): url: missing`,
		},
		{
			name: "datasource without uid",
			ds:   func(t *testing.T) string { return replace(t, ds, "    uid: testbed-prometheus\n", "") },
			want: `datasource provisioning: datasources[0] ("Prometheus"): uid: missing`,
		},
		{
			name: "datasource access",
			ds:   func(t *testing.T) string { return replace(t, ds, "access: proxy", "access: server") },
			want: `datasource provisioning: datasources[0] ("Prometheus"): access: "server", want proxy or direct`,
		},
		{
			name: "datasource without name and type",
			ds: func(t *testing.T) string {
				return replace(t, replace(t, ds, "  - name: Prometheus\n    uid:", "  - uid:"), "    type: prometheus\n", "")
			},
			want: `datasource provisioning: datasources[0]: name: missing; datasources[0]: type: missing`,
		},
		{
			name: "two default datasources",
			ds: func(t *testing.T) string {
				return ds + "  - name: Other\n    uid: other\n    type: prometheus\n    access: proxy\n    url: http://other:9090\n    isDefault: true\n"
			},
			want: `datasource provisioning: datasources[1] ("Other"): isDefault: datasources[0] of the same organisation is the default already`,
		},
		{
			name: "no datasources",
			ds:   func(t *testing.T) string { return "apiVersion: 1\n" },
			want: "datasource provisioning: datasources: missing",
		},
		{
			name: "provider of type git",
			dash: func(t *testing.T) string { return replace(t, dash, "type: file", "type: git") },
			want: `dashboard provisioning: providers[0] ("testbed"): type: "git", want file`,
		},
		{
			name: "provider without path",
			dash: func(t *testing.T) string {
				return replace(t, dash, "      path: /var/lib/grafana/dashboards\n", "      foldersFromFilesStructure: true\n")
			},
			want: `dashboard provisioning: providers[0] ("testbed"): options.path: missing`,
		},
		{
			name: "dashboards without apiVersion",
			dash: func(t *testing.T) string { return replace(t, dash, "apiVersion: 1\n", "") },
			want: "dashboard provisioning: apiVersion: missing, want 1",
		},
		{
			name: "not YAML",
			dash: func(t *testing.T) string { return "providers: [\n" },
			want: "dashboard provisioning: invalid YAML: ",
		},
		{
			name:      "both broken",
			ds:        func(t *testing.T) string { return replace(t, ds, "apiVersion: 1", "apiVersion: 0") },
			dash:      func(t *testing.T) string { return replace(t, dash, "type: file", "type: git") },
			want:      "datasource provisioning: apiVersion: 0, want 1\n" + `dashboard provisioning: providers[0] ("testbed"): type: "git", want file`,
			wantLines: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := ds, dash
			if tc.ds != nil {
				a = tc.ds(t)
			}
			if tc.dash != nil {
				b = tc.dash(t)
			}
			err := ValidateProvisioning([]byte(a), []byte(b))
			if err == nil {
				t.Fatalf("ValidateProvisioning() = nil, want %q", tc.want)
			}
			if strings.HasSuffix(tc.want, ": ") {
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("ValidateProvisioning() = %q, want it to start with %q", err, tc.want)
				}
				return
			}
			if err.Error() != tc.want {
				t.Errorf("ValidateProvisioning() =\n %s\nwant\n %s", err, tc.want)
			}
		})
	}
}

func TestValidateProvisioningSkipsNil(t *testing.T) {
	if err := ValidateProvisioning(nil, nil); err != nil {
		t.Errorf("ValidateProvisioning(nil, nil) = %v", err)
	}
	if err := ValidateProvisioning(nil, []byte("apiVersion: 1\n")); err == nil {
		t.Error("ValidateProvisioning of a dashboards file without providers succeeded")
	}
}

// TestDashboardsUseProvisionedDatasources checks that every datasource uid
// the dashboards refer to (panels, targets, template variables) is the uid
// of a provisioned datasource or Grafana's built-in one.
func TestDashboardsUseProvisionedDatasources(t *testing.T) {
	ds, _ := readProvisioning(t)
	var prov struct {
		Datasources []struct {
			UID string `yaml:"uid"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(ds), &prov); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"-- Grafana --": true}
	for _, d := range prov.Datasources {
		known[d.UID] = true
	}
	refs := 0
	for _, name := range dashboardFiles(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := decodeObject(data)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					if k == "datasource" {
						ref, ok := e.(map[string]any)
						uid, _ := ref["uid"].(string)
						refs++
						if !ok || !known[uid] {
							t.Errorf("%s: %s.datasource is %v, not a provisioned datasource", filepath.Base(name), path, e)
						}
						continue
					}
					walk(path+"."+k, e)
				}
			case []any:
				for i, e := range v {
					walk(path+"["+strconv.Itoa(i)+"]", e)
				}
			}
		}
		walk("", d)
	}
	if refs == 0 {
		t.Fatal("the dashboards refer to no datasource at all")
	}
}
