package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/grafana/grafana-openapi-client-go/client/annotations"
	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/datasources"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/client/health"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// Health checks GET /api/health: Grafana answers and reaches its database.
func (c *Client) Health(ctx context.Context) error {
	const op = "health"
	res, err := c.api.Health.GetHealthWithParams(health.NewGetHealthParamsWithTimeout(c.timeout).WithContext(ctx))
	if err != nil {
		return wrap(op, err)
	}
	if res.Payload == nil || res.Payload.Database != "ok" {
		db := ""
		if res.Payload != nil {
			db = res.Payload.Database
		}
		return fmt.Errorf("grafana: %s: database is %q, want \"ok\"", op, db)
	}
	return nil
}

// PrometheusTimeInterval is the datasource's scrape interval hint
// (jsonData.timeInterval), the testbed's Prometheus scrape interval.
const PrometheusTimeInterval = "5s"

// EnsureDatasource makes sure a Prometheus datasource with this uid points
// at promURL: it creates it (type prometheus, access proxy, the default
// datasource, jsonData.timeInterval "5s") when Grafana has none with the
// uid, and updates it when it has one with another URL. created tells
// whether it was created. A provisioned (read-only) datasource with another
// URL is an error: Grafana refuses to change it through the API.
func (c *Client) EnsureDatasource(ctx context.Context, name, uid, promURL string) (created bool, err error) {
	if name == "" || uid == "" || promURL == "" {
		return false, errors.New("grafana: ensure datasource: name, uid and URL must all be given")
	}
	getOp := fmt.Sprintf("get datasource %q", uid)
	got, err := c.api.Datasources.GetDataSourceByUIDWithParams(
		datasources.NewGetDataSourceByUIDParamsWithTimeout(c.timeout).WithContext(ctx).WithUID(uid))
	if err != nil {
		err = wrap(getOp, err)
		if !IsNotFound(err) {
			return false, err
		}
		addOp := fmt.Sprintf("create datasource %q (uid %q)", name, uid)
		_, err := c.api.Datasources.AddDataSourceWithParams(
			datasources.NewAddDataSourceParamsWithTimeout(c.timeout).WithContext(ctx).WithBody(&models.AddDataSourceCommand{
				Name:      name,
				UID:       uid,
				Type:      "prometheus",
				Access:    "proxy",
				URL:       promURL,
				IsDefault: true,
				JSONData:  map[string]any{"timeInterval": PrometheusTimeInterval},
			}))
		if err != nil {
			return false, wrap(addOp, err)
		}
		return true, nil
	}
	ds := got.Payload
	if ds == nil {
		return false, fmt.Errorf("grafana: %s: empty answer", getOp)
	}
	if ds.Type != "prometheus" {
		return false, fmt.Errorf("grafana: datasource %q has type %q, want prometheus", uid, ds.Type)
	}
	if ds.URL == promURL {
		return false, nil
	}
	if ds.ReadOnly {
		return false, fmt.Errorf("grafana: datasource %q is provisioned (read-only) with URL %s: cannot change it to %s through the API", uid, ds.URL, promURL)
	}
	// PUT replaces the datasource: carry over what it had besides the URL.
	jsonData := map[string]any{}
	if m, ok := ds.JSONData.(map[string]any); ok {
		for k, v := range m {
			jsonData[k] = v
		}
	}
	jsonData["timeInterval"] = PrometheusTimeInterval
	putOp := fmt.Sprintf("update datasource %q", uid)
	_, err = c.api.Datasources.UpdateDataSourceByUIDWithParams(
		datasources.NewUpdateDataSourceByUIDParamsWithTimeout(c.timeout).WithContext(ctx).WithUID(uid).WithBody(&models.UpdateDataSourceCommand{
			Name:            name,
			UID:             uid,
			Type:            "prometheus",
			Access:          "proxy",
			URL:             promURL,
			IsDefault:       true,
			JSONData:        jsonData,
			BasicAuth:       ds.BasicAuth,
			BasicAuthUser:   ds.BasicAuthUser,
			User:            ds.User,
			Database:        ds.Database,
			WithCredentials: ds.WithCredentials,
			Version:         ds.Version,
		}))
	if err != nil {
		return false, wrap(putOp, err)
	}
	return false, nil
}

// folderPageSize is how many folders EnsureFolder asks for per page.
const folderPageSize = 1000

// EnsureFolder returns the uid of the top-level folder with this title,
// creating the folder when there is none (GET then POST /api/folders).
func (c *Client) EnsureFolder(ctx context.Context, title string) (uid string, err error) {
	if title == "" {
		return "", errors.New("grafana: ensure folder: no title given")
	}
	limit := int64(folderPageSize)
	for page := int64(1); ; page++ {
		p := page
		res, err := c.api.Folders.GetFolders(folders.NewGetFoldersParamsWithTimeout(c.timeout).WithContext(ctx).WithLimit(&limit).WithPage(&p))
		if err != nil {
			return "", wrap("list folders", err)
		}
		for _, f := range res.Payload {
			if f != nil && f.Title == title && f.ParentUID == "" {
				return f.UID, nil
			}
		}
		if len(res.Payload) < folderPageSize {
			break
		}
	}
	op := fmt.Sprintf("create folder %q", title)
	res, err := c.api.Folders.CreateFolderWithParams(
		folders.NewCreateFolderParamsWithTimeout(c.timeout).WithContext(ctx).WithBody(&models.CreateFolderCommand{Title: title}))
	if err != nil {
		return "", wrap(op, err)
	}
	if res.Payload == nil || res.Payload.UID == "" {
		return "", fmt.Errorf("grafana: %s: the answer has no folder uid", op)
	}
	return res.Payload.UID, nil
}

// UploadDashboard saves one dashboard JSON model (POST /api/dashboards/db)
// into the folder folderUID ("" for the General folder), overwriting the
// dashboard with the same uid. The model's "id" is sent as null so that
// Grafana matches the dashboard by uid, not by the id of another instance.
// It returns the uid Grafana saved the dashboard under.
func (c *Client) UploadDashboard(ctx context.Context, data []byte, folderUID, message string) (uid string, err error) {
	dash, err := decodeObject(data)
	if err != nil {
		return "", fmt.Errorf("grafana: upload dashboard: %w", err)
	}
	dash["id"] = nil
	fileUID, _ := dash["uid"].(string)
	op := fmt.Sprintf("upload dashboard %q", fileUID)
	res, err := c.api.Dashboards.PostDashboardWithParams(
		dashboards.NewPostDashboardParamsWithTimeout(c.timeout).WithContext(ctx).WithBody(&models.SaveDashboardCommand{
			Dashboard: dash,
			FolderUID: folderUID,
			Overwrite: true,
			Message:   message,
		}))
	if err != nil {
		return "", wrap(op, err)
	}
	if res.Payload != nil && res.Payload.UID != nil && *res.Payload.UID != "" {
		return *res.Payload.UID, nil
	}
	if fileUID == "" {
		return "", fmt.Errorf("grafana: %s: the answer has no dashboard uid", op)
	}
	return fileUID, nil
}

// UploadDashboards uploads every *.json file at the top of fsys (in name
// order) into the folder folderTitle, created if need be ("" for the
// General folder). All files are validated with ValidateDashboard before
// anything is sent. It returns the uids of the uploaded dashboards.
//
// For the testbed's own dashboards pass fs.Sub(testbed.Files, "dashboards")
// or os.DirFS("dashboards").
func (c *Client) UploadDashboards(ctx context.Context, fsys fs.FS, folderTitle string) ([]string, error) {
	files, err := readDashboards(fsys)
	if err != nil {
		return nil, err
	}
	folderUID := ""
	if folderTitle != "" {
		if folderUID, err = c.EnsureFolder(ctx, folderTitle); err != nil {
			return nil, err
		}
	}
	uids := make([]string, 0, len(files))
	for _, f := range files {
		uid, err := c.UploadDashboard(ctx, f.data, folderUID, "testbed: uploaded "+f.name)
		if err != nil {
			return uids, fmt.Errorf("%s: %w", f.name, err)
		}
		uids = append(uids, uid)
	}
	return uids, nil
}

type dashboardFile struct {
	name string
	data []byte
}

// readDashboards reads and validates the *.json files at the top of fsys.
func readDashboards(fsys fs.FS) ([]dashboardFile, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("grafana: no *.json dashboard files")
	}
	var files []dashboardFile
	var errs []error
	uids := map[string]string{}
	titles := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := ValidateDashboard(data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		var head struct {
			UID   string `json:"uid"`
			Title string `json:"title"`
		}
		_ = json.Unmarshal(data, &head) // ValidateDashboard decoded it already
		if other, ok := uids[head.UID]; ok {
			errs = append(errs, fmt.Errorf("%s: uid %q is also the uid of %s", name, head.UID, other))
		}
		if other, ok := titles[head.Title]; ok {
			errs = append(errs, fmt.Errorf("%s: title %q is also the title of %s (Grafana wants titles unique in a folder)", name, head.Title, other))
		}
		uids[head.UID], titles[head.Title] = name, name
		files = append(files, dashboardFile{name: path.Base(name), data: data})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return files, nil
}

// ValidateDashboards validates every *.json file at the top of fsys with
// ValidateDashboard and checks that no two share a uid or a title.
func ValidateDashboards(fsys fs.FS) error {
	_, err := readDashboards(fsys)
	return err
}

// Annotate adds an organisation-wide annotation (POST /api/annotations) at
// start, or over [start, end] (a region) when end is after start. A zero
// start lets Grafana use the current time. It returns the annotation's id.
// Dashboards show it through an annotation query on one of its tags, as
// the "Runs" query (tag testbed-run) of dashboards/testbed-run.json does.
func (c *Client) Annotate(ctx context.Context, text string, tags []string, start, end time.Time) (id int64, err error) {
	if text == "" {
		return 0, errors.New("grafana: annotate: no text given")
	}
	if tags == nil {
		tags = []string{}
	}
	cmd := &models.PostAnnotationsCmd{Text: &text, Tags: tags}
	if !start.IsZero() {
		cmd.Time = start.UnixMilli()
		if end.After(start) {
			cmd.TimeEnd = end.UnixMilli()
		}
	}
	op := fmt.Sprintf("annotate %q", text)
	res, err := c.api.Annotations.PostAnnotationWithParams(
		annotations.NewPostAnnotationParamsWithTimeout(c.timeout).WithContext(ctx).WithBody(cmd))
	if err != nil {
		return 0, wrap(op, err)
	}
	if res.Payload == nil || res.Payload.ID == nil {
		return 0, fmt.Errorf("grafana: %s: the answer has no annotation id", op)
	}
	return *res.Payload.ID, nil
}

// Snapshot takes a snapshot of the dashboard dashboardUID over [from, to]
// (GET /api/dashboards/uid/{uid}, then POST /api/snapshots) named name (the
// dashboard's title if empty), expiring after expires (0: never). It returns
// the snapshot's URL, built on the client's base URL (Grafana's own answer
// uses its root_url setting, http://localhost:3000/ unless configured), and
// its key.
//
// Grafana stores the dashboard model it is given: a snapshot made through
// the API holds no panel data unless the panels carry snapshotData, which
// this method does not add, so its panels show the layout, queries and
// time range but no series.
func (c *Client) Snapshot(ctx context.Context, dashboardUID, name string, from, to time.Time, expires time.Duration) (snapshotURL, key string, err error) {
	if !to.After(from) {
		return "", "", fmt.Errorf("grafana: snapshot %q: the end %s is not after the start %s", dashboardUID, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if expires < 0 {
		return "", "", fmt.Errorf("grafana: snapshot %q: negative expiry %s", dashboardUID, expires)
	}
	getOp := fmt.Sprintf("get dashboard %q", dashboardUID)
	got, err := c.api.Dashboards.GetDashboardByUIDWithParams(
		dashboards.NewGetDashboardByUIDParamsWithTimeout(c.timeout).WithContext(ctx).WithUID(dashboardUID))
	if err != nil {
		return "", "", wrap(getOp, err)
	}
	if got.Payload == nil {
		return "", "", fmt.Errorf("grafana: %s: empty answer", getOp)
	}
	dash, ok := got.Payload.Dashboard.(map[string]any)
	if !ok {
		return "", "", fmt.Errorf("grafana: %s: the answer has no dashboard object", getOp)
	}
	dash["time"] = map[string]any{"from": grafanaTime(from), "to": grafanaTime(to)}
	if name == "" {
		name, _ = dash["title"].(string)
	}
	op := fmt.Sprintf("snapshot dashboard %q", dashboardUID)
	res, err := c.api.Dashboards.CreateDashboardSnapshotWithParams(
		dashboards.NewCreateDashboardSnapshotParamsWithTimeout(c.timeout).WithContext(ctx).WithBody(&models.CreateDashboardSnapshotCommand{
			Dashboard: dash,
			Name:      name,
			Expires:   int64(expires / time.Second),
		}))
	if err != nil {
		return "", "", wrap(op, err)
	}
	if res.Payload == nil || res.Payload.Key == "" {
		return "", "", fmt.Errorf("grafana: %s: the answer has no snapshot key", op)
	}
	return c.baseURL + "/dashboard/snapshot/" + res.Payload.Key, res.Payload.Key, nil
}

// grafanaTime formats t as the dashboard time model does: UTC ISO 8601
// with milliseconds.
func grafanaTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if m == nil {
		return nil, errors.New("invalid JSON: not an object")
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return m, nil
}
