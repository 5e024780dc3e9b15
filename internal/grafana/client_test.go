package grafana

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestNewRejectsBadBaseURLs(t *testing.T) {
	for _, base := range []string{"", "1.2.3.4:3000", "ftp://host", "http://", "http://host:3000/?x=1", "http://host:3000/#frag"} {
		if _, err := New(base, "admin", "pw"); err == nil {
			t.Errorf("New(%q) succeeded, want an error", base)
		}
	}
	if _, err := New("http://host:3000", "", "pw"); err == nil {
		t.Error("New with no user succeeded, want an error")
	}
	if _, err := New("http://host:3000", "admin", "pw", WithTimeout(0)); err == nil {
		t.Error("New with a zero timeout succeeded, want an error")
	}
	c, err := New("http://host:3000/", "admin", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "http://host:3000" {
		t.Errorf("BaseURL() = %q, want http://host:3000", c.BaseURL())
	}
}

func TestHealth(t *testing.T) {
	d := newDouble(t, call{
		method: "GET", path: "/api/health",
		answer: `{"commit":"abc123","database":"ok","version":"12.2.0"}`,
	})
	if err := d.client(t).Health(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestHealthUnderSubPath(t *testing.T) {
	d := newDouble(t, call{
		method: "GET", path: "/grafana/api/health",
		answer: `{"commit":"abc123","database":"ok","version":"12.2.0"}`,
	})
	c, err := New(d.srv.URL+"/grafana/", testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestHealthFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		call   call
		want   string
		status int
	}{
		{
			name: "database failing",
			call: call{method: "GET", path: "/api/health", answer: `{"database":"failing","version":"12.2.0"}`},
			want: `grafana: health: database is "failing", want "ok"`,
		},
		{
			name:   "503 from the spec",
			call:   call{method: "GET", path: "/api/health", status: 503, answer: `{"message":"database unreachable"}`},
			want:   "grafana: health: HTTP 503 Service Unavailable: database unreachable",
			status: 503,
		},
		{
			// The spec lists 200 and 503 only: the generated client
			// returns a *runtime.APIError for anything else.
			name:   "500 outside the spec",
			call:   call{method: "GET", path: "/api/health", status: 500, answer: `{"message":"boom"}`},
			want:   "grafana: health: HTTP 500 Internal Server Error",
			status: 500,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDouble(t, tc.call)
			err := d.client(t).Health(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Health() = %v, want %q", err, tc.want)
			}
			var ae *APIError
			if tc.status != 0 && (!errors.As(err, &ae) || ae.Status != tc.status) {
				t.Errorf("error %v is not an *APIError with status %d", err, tc.status)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	d := newDouble(t, call{method: "GET", path: "/api/health", hang: true})
	start := time.Now()
	err := d.client(t, WithTimeout(200*time.Millisecond)).Health(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "grafana: health: ") {
		t.Fatalf("Health() against a hanging server = %v, want a health error", err)
	}
	if e := time.Since(start); e > 5*time.Second {
		t.Errorf("Health() gave up after %s, want about 200ms", e)
	}
}

func TestContextCancel(t *testing.T) {
	d := newDouble(t, call{method: "GET", path: "/api/health", hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := d.client(t).Health(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Health() with an expiring context = %v, want context.DeadlineExceeded", err)
	}
}

const (
	dsName = "Prometheus"
	dsUID  = "testbed-prometheus"
	dsPath = "/api/datasources/uid/testbed-prometheus"
)

// dsAnswer is Grafana's answer to GET /api/datasources/uid/{uid}.
func dsAnswer(url string, readOnly bool) string {
	ro := "false"
	if readOnly {
		ro = "true"
	}
	return `{"id":1,"uid":"testbed-prometheus","orgId":1,"name":"Prometheus","type":"prometheus",
	"typeLogoUrl":"public/app/plugins/datasource/prometheus/img/prometheus_logo.svg","access":"proxy",
	"url":"` + url + `","user":"","database":"","basicAuth":false,"basicAuthUser":"","withCredentials":false,
	"isDefault":true,"jsonData":{"httpMethod":"POST","timeInterval":"15s"},"secureJsonFields":{},"version":3,"readOnly":` + ro + `}`
}

func TestEnsureDatasourceCreates(t *testing.T) {
	d := newDouble(t,
		call{method: "GET", path: dsPath, status: 404, answer: `{"message":"Data source not found"}`},
		call{
			method: "POST", path: "/api/datasources",
			body: `{"name":"Prometheus","uid":"testbed-prometheus","type":"prometheus","access":"proxy",
				"url":"http://prometheus:9090","isDefault":true,"jsonData":{"timeInterval":"5s"}}`,
			answer: `{"datasource":{"id":1,"uid":"testbed-prometheus","name":"Prometheus","type":"prometheus","access":"proxy",
				"url":"http://prometheus:9090","isDefault":true,"jsonData":{"timeInterval":"5s"},"version":1,"readOnly":false},
				"id":1,"message":"Datasource added","name":"Prometheus"}`,
		},
	)
	created, err := d.client(t).EnsureDatasource(context.Background(), dsName, dsUID, "http://prometheus:9090")
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false, want true")
	}
}

func TestEnsureDatasourceAlreadyThere(t *testing.T) {
	d := newDouble(t, call{method: "GET", path: dsPath, answer: dsAnswer("http://prometheus:9090", true)})
	created, err := d.client(t).EnsureDatasource(context.Background(), dsName, dsUID, "http://prometheus:9090")
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true, want false")
	}
}

func TestEnsureDatasourceUpdatesTheURL(t *testing.T) {
	d := newDouble(t,
		call{method: "GET", path: dsPath, answer: dsAnswer("http://old:9090", false)},
		call{
			method: "PUT", path: dsPath,
			// The other settings carried over, the interval set, the
			// version sent back for Grafana's optimistic locking.
			body: `{"name":"Prometheus","uid":"testbed-prometheus","type":"prometheus","access":"proxy",
				"url":"http://prometheus:9090","isDefault":true,"jsonData":{"httpMethod":"POST","timeInterval":"5s"},"version":3}`,
			answer: `{"datasource":{"id":1,"uid":"testbed-prometheus","name":"Prometheus","type":"prometheus","access":"proxy",
				"url":"http://prometheus:9090","isDefault":true,"version":4,"readOnly":false},
				"id":1,"message":"Datasource updated","name":"Prometheus"}`,
		},
	)
	created, err := d.client(t).EnsureDatasource(context.Background(), dsName, dsUID, "http://prometheus:9090")
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true, want false")
	}
}

func TestEnsureDatasourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		calls  []call
		want   string
		status int
	}{
		{
			name:   "401 on get",
			calls:  []call{{method: "GET", path: dsPath, status: 401, answer: `{"message":"Invalid username or password","messageId":"password-auth.failed","statusCode":401}`}},
			want:   `grafana: get datasource "testbed-prometheus": HTTP 401 Unauthorized: Invalid username or password`,
			status: 401,
		},
		{
			name: "500 on create",
			calls: []call{
				{method: "GET", path: dsPath, status: 404, answer: `{"message":"Data source not found"}`},
				{
					method: "POST", path: "/api/datasources",
					body: `{"name":"Prometheus","uid":"testbed-prometheus","type":"prometheus","access":"proxy",
						"url":"http://prometheus:9090","isDefault":true,"jsonData":{"timeInterval":"5s"}}`,
					status: 500, answer: `{"message":"Failed to add datasource"}`,
				},
			},
			want:   `grafana: create datasource "Prometheus" (uid "testbed-prometheus"): HTTP 500 Internal Server Error: Failed to add datasource`,
			status: 500,
		},
		{
			name:  "provisioned datasource with another URL",
			calls: []call{{method: "GET", path: dsPath, answer: dsAnswer("http://old:9090", true)}},
			want:  `grafana: datasource "testbed-prometheus" is provisioned (read-only) with URL http://old:9090: cannot change it to http://prometheus:9090 through the API`,
		},
		{
			name: "another type under the uid",
			calls: []call{{method: "GET", path: dsPath,
				answer: `{"id":2,"uid":"testbed-prometheus","name":"Loki","type":"loki","access":"proxy","url":"http://loki:3100"}`}},
			want: `grafana: datasource "testbed-prometheus" has type "loki", want prometheus`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDouble(t, tc.calls...)
			_, err := d.client(t).EnsureDatasource(context.Background(), dsName, dsUID, "http://prometheus:9090")
			if err == nil || err.Error() != tc.want {
				t.Fatalf("EnsureDatasource() = %v, want %q", err, tc.want)
			}
			var ae *APIError
			if tc.status != 0 && (!errors.As(err, &ae) || ae.Status != tc.status) {
				t.Errorf("error %v is not an *APIError with status %d", err, tc.status)
			}
		})
	}
}

// foldersQuery is the query of GET /api/folders.
var foldersQuery = url.Values{"limit": {"1000"}, "page": {"1"}}

// uploadBody is what UploadDashboard must send for a dashboard file: the
// model with "id" null, into the folder, overwriting.
//
// "UpdatedAt" is sent by the generated client's SaveDashboardCommand: its
// strfmt.DateTime field is a struct, which omitempty does not omit, so the
// zero time goes out with every save made through the library.
func uploadBody(t *testing.T, file []byte, folderUID, message string) string {
	t.Helper()
	dash, err := decodeObject(file)
	if err != nil {
		t.Fatal(err)
	}
	dash["id"] = nil
	body := map[string]any{"dashboard": dash, "overwrite": true, "message": message,
		"UpdatedAt": "0001-01-01T00:00:00.000Z"}
	if folderUID != "" {
		body["folderUid"] = folderUID
	}
	return mustJSON(t, body)
}

// uploadAnswer is Grafana's answer to POST /api/dashboards/db.
func uploadAnswer(t *testing.T, id int, uid, folderUID string) string {
	return mustJSON(t, map[string]any{"id": id, "uid": uid, "url": "/d/" + uid + "/slug", "status": "success",
		"version": 2, "slug": "slug", "folderUid": folderUID})
}

func TestUploadDashboardsFromTheRepo(t *testing.T) {
	dir := filepath.Join("..", "..", "dashboards")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no dashboards in %s: %v", dir, err)
	}
	calls := []call{
		{method: "GET", path: "/api/folders", query: foldersQuery,
			answer: `[{"id":3,"uid":"other","title":"Other"},{"id":4,"uid":"nested","title":"Testbed","parentUid":"other"}]`},
		{method: "POST", path: "/api/folders", body: `{"title":"Testbed"}`,
			answer: `{"id":9,"uid":"f-testbed","title":"Testbed","url":"/dashboards/f/f-testbed/testbed","hasAcl":false,
				"canSave":true,"canEdit":true,"canAdmin":true,"canDelete":true,"version":1,"parents":null}`},
	}
	var wantUIDs []string
	for i, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		dash, err := decodeObject(data)
		if err != nil {
			t.Fatal(err)
		}
		uid := dash["uid"].(string)
		wantUIDs = append(wantUIDs, uid)
		calls = append(calls, call{
			method: "POST", path: "/api/dashboards/db",
			body:   uploadBody(t, data, "f-testbed", "testbed: uploaded "+filepath.Base(name)),
			answer: uploadAnswer(t, 10+i, uid, "f-testbed"),
		})
	}
	d := newDouble(t, calls...)
	uids, err := d.client(t).UploadDashboards(context.Background(), os.DirFS(dir), "Testbed")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(uids, ",") != strings.Join(wantUIDs, ",") {
		t.Errorf("uids %q, want %q", uids, wantUIDs)
	}
}

// minimalDashboard is a valid dashboard that still has the numeric id of
// the Grafana it was exported from.
const minimalDashboard = `{
  "id": 42, "uid": "mini", "title": "Mini", "schemaVersion": 39, "version": 7,
  "panels": [{"id": 1, "type": "stat", "title": "Up", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
    "datasource": {"type": "prometheus", "uid": "testbed-prometheus"},
    "targets": [{"refId": "A", "expr": "up"}]}]
}`

func TestUploadDashboardsNullsTheIDIntoAnExistingFolder(t *testing.T) {
	fsys := fstest.MapFS{
		"mini.json":   {Data: []byte(minimalDashboard)},
		"notes.txt":   {Data: []byte("not a dashboard")},
		"sub/x.json":  {Data: []byte("{}")}, // not at the top: ignored
		"zz-big.json": {Data: []byte(strings.Replace(minimalDashboard, `"mini"`, `"big"`, 1))},
	}
	fsys["zz-big.json"].Data = []byte(strings.Replace(string(fsys["zz-big.json"].Data), `"Mini"`, `"Big"`, 1))
	d := newDouble(t,
		call{method: "GET", path: "/api/folders", query: foldersQuery, answer: `[{"id":4,"uid":"f-testbed","title":"Testbed"}]`},
		call{
			method: "POST", path: "/api/dashboards/db",
			body: `{"dashboard":{"id":null,"uid":"mini","title":"Mini","schemaVersion":39,"version":7,
				"panels":[{"id":1,"type":"stat","title":"Up","gridPos":{"x":0,"y":0,"w":6,"h":4},
				"datasource":{"type":"prometheus","uid":"testbed-prometheus"},"targets":[{"refId":"A","expr":"up"}]}]},
				"folderUid":"f-testbed","overwrite":true,"message":"testbed: uploaded mini.json","UpdatedAt":"0001-01-01T00:00:00.000Z"}`,
			answer: uploadAnswer(t, 42, "mini", "f-testbed"),
		},
		call{method: "POST", path: "/api/dashboards/db",
			body:   uploadBody(t, fsys["zz-big.json"].Data, "f-testbed", "testbed: uploaded zz-big.json"),
			answer: uploadAnswer(t, 43, "big", "f-testbed")},
	)
	uids, err := d.client(t).UploadDashboards(context.Background(), fsys, "Testbed")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(uids, ",") != "mini,big" {
		t.Errorf("uids %q, want [mini big]", uids)
	}
}

func TestUploadDashboardsIntoGeneral(t *testing.T) {
	fsys := fstest.MapFS{"mini.json": {Data: []byte(minimalDashboard)}}
	d := newDouble(t, call{method: "POST", path: "/api/dashboards/db",
		body:   uploadBody(t, []byte(minimalDashboard), "", "testbed: uploaded mini.json"),
		answer: uploadAnswer(t, 42, "mini", "")})
	if _, err := d.client(t).UploadDashboards(context.Background(), fsys, ""); err != nil {
		t.Fatal(err)
	}
}

func TestUploadDashboardsValidatesFirst(t *testing.T) {
	fsys := fstest.MapFS{
		"a.json": {Data: []byte(minimalDashboard)},
		"b.json": {Data: []byte(strings.Replace(minimalDashboard, `"expr": "up"`, `"expr": ""`, 1))},
	}
	d := newDouble(t) // no request at all
	_, err := d.client(t).UploadDashboards(context.Background(), fsys, "Testbed")
	want := `b.json: dashboard "mini": panels[0] (id 1 "Up"): targets[0] (refId "A"): expr: missing`
	if err == nil || err.Error() != want {
		t.Fatalf("UploadDashboards() = %v, want %q", err, want)
	}

	fsys["b.json"] = &fstest.MapFile{Data: []byte(strings.Replace(minimalDashboard, `"Mini"`, `"Other"`, 1))}
	_, err = d.client(t).UploadDashboards(context.Background(), fsys, "Testbed")
	want = `b.json: uid "mini" is also the uid of a.json`
	if err == nil || err.Error() != want {
		t.Fatalf("UploadDashboards() = %v, want %q", err, want)
	}

	_, err = d.client(t).UploadDashboards(context.Background(), fstest.MapFS{}, "Testbed")
	if err == nil {
		t.Fatal("UploadDashboards() of no files succeeded")
	}
}

func TestUploadDashboardErrors(t *testing.T) {
	fsys := fstest.MapFS{"mini.json": {Data: []byte(minimalDashboard)}}
	for _, tc := range []struct {
		name  string
		calls []call
		want  string
	}{
		{
			name: "folder creation forbidden",
			calls: []call{
				{method: "GET", path: "/api/folders", query: foldersQuery, answer: `[]`},
				{method: "POST", path: "/api/folders", body: `{"title":"Testbed"}`, status: 403,
					answer: `{"message":"Access denied"}`},
			},
			want: `grafana: create folder "Testbed": HTTP 403 Forbidden: Access denied`,
		},
		{
			// A proxy's plain-text page on a status the spec lists.
			name: "plain-text 500 on upload",
			calls: []call{
				{method: "GET", path: "/api/folders", query: foldersQuery, answer: `[{"uid":"f","title":"Testbed"}]`},
				{method: "POST", path: "/api/dashboards/db",
					body:   uploadBody(t, []byte(minimalDashboard), "f", "testbed: uploaded mini.json"),
					status: 500, contentType: "text/plain; charset=utf-8", answer: "upstream exploded\n"},
			},
			want: `mini.json: grafana: upload dashboard "mini": HTTP 500 Internal Server Error: upstream exploded`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDouble(t, tc.calls...)
			_, err := d.client(t).UploadDashboards(context.Background(), fsys, "Testbed")
			if err == nil || err.Error() != tc.want {
				t.Fatalf("UploadDashboards() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAnnotate(t *testing.T) {
	start := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	end := start.Add(10 * time.Minute)
	for _, tc := range []struct {
		name       string
		text       string
		tags       []string
		start, end time.Time
		body       string
	}{
		{
			name: "region", text: "run 7", tags: []string{"testbed-run", "run-7"}, start: start, end: end,
			body: `{"text":"run 7","tags":["testbed-run","run-7"],"time":1714979289123,"timeEnd":1714979889123}`,
		},
		{
			name: "point when end is not after start", text: "broker 2 killed", tags: []string{"testbed-run"},
			start: start, end: start,
			body: `{"text":"broker 2 killed","tags":["testbed-run"],"time":1714979289123}`,
		},
		{
			name: "now, no tags", text: "mark",
			body: `{"text":"mark","tags":[]}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDouble(t, call{method: "POST", path: "/api/annotations", body: tc.body,
				answer: `{"id":17,"message":"Annotation added"}`})
			id, err := d.client(t).Annotate(context.Background(), tc.text, tc.tags, tc.start, tc.end)
			if err != nil {
				t.Fatal(err)
			}
			if id != 17 {
				t.Errorf("id %d, want 17", id)
			}
		})
	}
}

func TestAnnotateError(t *testing.T) {
	d := newDouble(t, call{method: "POST", path: "/api/annotations",
		body:   `{"text":"run 7","tags":["testbed-run"],"time":1714979289000}`,
		status: 400, answer: `{"message":"bad request data"}`})
	_, err := d.client(t).Annotate(context.Background(), "run 7", []string{"testbed-run"},
		time.UnixMilli(1714979289000), time.Time{})
	want := `grafana: annotate "run 7": HTTP 400 Bad Request: bad request data`
	if err == nil || err.Error() != want {
		t.Fatalf("Annotate() = %v, want %q", err, want)
	}
	if _, err := d.client(t).Annotate(context.Background(), "", nil, time.Time{}, time.Time{}); err == nil {
		t.Error("Annotate with no text succeeded")
	}
}

func TestSnapshot(t *testing.T) {
	file, err := os.ReadFile(filepath.Join("..", "..", "dashboards", "testbed-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Grafana answers with the stored model: its own id and version.
	stored, err := decodeObject(file)
	if err != nil {
		t.Fatal(err)
	}
	stored["id"], stored["version"] = 12, 3
	answer := mustJSON(t, map[string]any{"dashboard": stored, "meta": map[string]any{
		"type": "db", "canSave": true, "slug": "testbed-run", "url": "/d/testbed-run/testbed-run",
		"folderUid": "f-testbed", "folderTitle": "Testbed", "provisioned": true}})

	from := time.Date(2024, 5, 6, 9, 8, 9, 0, time.FixedZone("CEST", 2*3600))
	to := from.Add(30 * time.Minute)
	stored["time"] = map[string]any{"from": "2024-05-06T07:08:09.000Z", "to": "2024-05-06T07:38:09.000Z"}
	d := newDouble(t,
		call{method: "GET", path: "/api/dashboards/uid/testbed-run", answer: answer},
		call{method: "POST", path: "/api/snapshots",
			body: mustJSON(t, map[string]any{"dashboard": stored, "name": "run 7", "expires": 3600}),
			answer: `{"deleteKey":"dk-1","deleteUrl":"http://localhost:3000/api/snapshots-delete/dk-1",
				"id":5,"key":"k-1","url":"http://localhost:3000/dashboard/snapshot/k-1"}`},
	)
	u, key, err := d.client(t).Snapshot(context.Background(), "testbed-run", "run 7", from, to, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if key != "k-1" {
		t.Errorf("key %q, want k-1", key)
	}
	if want := d.srv.URL + "/dashboard/snapshot/k-1"; u != want {
		t.Errorf("url %q, want %q", u, want)
	}
}

func TestSnapshotNamesAfterTheTitle(t *testing.T) {
	d := newDouble(t,
		call{method: "GET", path: "/api/dashboards/uid/mini", answer: `{"dashboard":{"id":3,"uid":"mini","title":"Mini"},"meta":{}}`},
		call{method: "POST", path: "/api/snapshots",
			body: `{"dashboard":{"id":3,"uid":"mini","title":"Mini","time":{"from":"1970-01-01T00:00:01.000Z","to":"1970-01-01T00:00:02.000Z"}},
				"name":"Mini"}`,
			answer: `{"deleteKey":"d","deleteUrl":"u","id":1,"key":"k","url":"u"}`},
	)
	_, key, err := d.client(t).Snapshot(context.Background(), "mini", "", time.Unix(1, 0), time.Unix(2, 0), 0)
	if err != nil || key != "k" {
		t.Fatalf("Snapshot() = %q, %v", key, err)
	}
}

func TestSnapshotErrors(t *testing.T) {
	d := newDouble(t, call{method: "GET", path: "/api/dashboards/uid/nope", status: 404,
		answer: `{"message":"Dashboard not found"}`})
	c := d.client(t)
	now := time.Now()
	_, _, err := c.Snapshot(context.Background(), "nope", "", now.Add(-time.Hour), now, 0)
	want := `grafana: get dashboard "nope": HTTP 404 Not Found: Dashboard not found`
	if err == nil || err.Error() != want {
		t.Fatalf("Snapshot() = %v, want %q", err, want)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if _, _, err := c.Snapshot(context.Background(), "x", "", now, now, 0); err == nil {
		t.Error("Snapshot over an empty range succeeded")
	}
}

func TestErrorNamesStatusOnly(t *testing.T) {
	// A status outside the operation's spec, with an HTML body.
	d := newDouble(t, call{method: "GET", path: dsPath, status: http.StatusBadGateway,
		contentType: "text/html", answer: "<html>bad gateway</html>"})
	_, err := d.client(t).EnsureDatasource(context.Background(), dsName, dsUID, "http://prometheus:9090")
	want := `grafana: get datasource "testbed-prometheus": HTTP 502 Bad Gateway`
	if err == nil || err.Error() != want {
		t.Fatalf("EnsureDatasource() = %v, want %q", err, want)
	}
}
