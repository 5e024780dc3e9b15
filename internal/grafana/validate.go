package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ValidationError lists what is wrong with a dashboard or provisioning file.
type ValidationError struct {
	Subject  string   // like `dashboard "testbed-kafka"` or "datasource provisioning"
	Problems []string // each naming the field, like `panels[2] (id 3 "CPU"): gridPos.w: ...`
}

func (e *ValidationError) Error() string {
	return e.Subject + ": " + strings.Join(e.Problems, "; ")
}

func (e *ValidationError) addf(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

func (e *ValidationError) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// GridColumns is the width of Grafana's dashboard grid.
const GridColumns = 24

// MaxUIDLength is the longest uid Grafana accepts.
const MaxUIDLength = 40

var uidPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// checkUID returns what is wrong with a Grafana uid, or "".
func checkUID(uid string) string {
	switch {
	case len(uid) > MaxUIDLength:
		return fmt.Sprintf("%q is %d characters long, at most %d allowed", uid, len(uid), MaxUIDLength)
	case !uidPattern.MatchString(uid):
		return fmt.Sprintf("%q has characters outside [a-zA-Z0-9-_]", uid)
	}
	return ""
}

type dashboardModel struct {
	UID           *string       `json:"uid"`
	Title         *string       `json:"title"`
	SchemaVersion *int          `json:"schemaVersion"`
	Panels        *[]panelModel `json:"panels"`
	Templating    *struct {
		List []namedTyped `json:"list"`
	} `json:"templating"`
	Annotations *struct {
		List []namedTyped `json:"list"`
	} `json:"annotations"`
}

type namedTyped struct {
	Name *string `json:"name"`
	Type *string `json:"type"`
}

type panelModel struct {
	ID         *int64          `json:"id"`
	Type       *string         `json:"type"`
	Title      *string         `json:"title"`
	GridPos    *gridPosModel   `json:"gridPos"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    *[]targetModel  `json:"targets"`
	Panels     []panelModel    `json:"panels"` // a collapsed row's panels
}

type gridPosModel struct {
	X *int `json:"x"`
	Y *int `json:"y"`
	W *int `json:"w"`
	H *int `json:"h"`
}

type targetModel struct {
	RefID      *string         `json:"refId"`
	Expr       *string         `json:"expr"`
	Datasource json.RawMessage `json:"datasource"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// noQueryPanels are the panel types that have no datasource nor targets.
var noQueryPanels = map[string]bool{"row": true, "text": true}

// ValidateDashboard checks a dashboard JSON model has what Grafana requires
// and the testbed relies on: a uid (at most 40 characters of
// [a-zA-Z0-9-_]), a title, a schemaVersion, panels each with a unique id, a
// type, a title and a gridPos inside the 24-column grid, and, but for row
// and text panels, a datasource with a uid and targets each with a refId
// unique in the panel and a non-empty expr; templating.list and
// annotations.list entries need a name, templating entries also a type.
// The error is a *ValidationError naming the dashboard, panel and field.
func ValidateDashboard(data []byte) error {
	var d dashboardModel
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return &ValidationError{Subject: "dashboard", Problems: []string{"invalid JSON: " + err.Error()}}
	}
	ve := &ValidationError{Subject: "dashboard"}
	switch {
	case d.UID != nil && *d.UID != "":
		ve.Subject = fmt.Sprintf("dashboard %q", *d.UID)
	case d.Title != nil && *d.Title != "":
		ve.Subject = fmt.Sprintf("dashboard %q", *d.Title)
	}

	if d.UID == nil || *d.UID == "" {
		ve.addf("uid: missing")
	} else if p := checkUID(*d.UID); p != "" {
		ve.addf("uid: %s", p)
	}
	if d.Title == nil || strings.TrimSpace(*d.Title) == "" {
		ve.addf("title: missing")
	}
	if d.SchemaVersion == nil {
		ve.addf("schemaVersion: missing")
	} else if *d.SchemaVersion <= 0 {
		ve.addf("schemaVersion: must be positive, got %d", *d.SchemaVersion)
	}

	if d.Panels == nil || len(*d.Panels) == 0 {
		ve.addf("panels: missing")
	} else {
		ids := map[int64]string{}
		for i, p := range *d.Panels {
			checkPanel(ve, fmt.Sprintf("panels[%d]", i), p, ids)
		}
	}

	if d.Templating != nil {
		names := map[string]int{}
		for i, v := range d.Templating.List {
			where := fmt.Sprintf("templating.list[%d]", i)
			if v.Name == nil || *v.Name == "" {
				ve.addf("%s: name: missing", where)
			} else {
				where += fmt.Sprintf(" (%q)", *v.Name)
				if j, dup := names[*v.Name]; dup {
					ve.addf("%s: name: also the name of templating.list[%d]", where, j)
				}
				names[*v.Name] = i
			}
			if v.Type == nil || *v.Type == "" {
				ve.addf("%s: type: missing", where)
			}
		}
	}
	if d.Annotations != nil {
		for i, a := range d.Annotations.List {
			if a.Name == nil || *a.Name == "" {
				ve.addf("annotations.list[%d]: name: missing", i)
			}
		}
	}
	return ve.err()
}

// checkPanel checks one panel (and a collapsed row's panels); ids maps the
// panel ids seen so far to where they were seen.
func checkPanel(ve *ValidationError, path string, p panelModel, ids map[int64]string) {
	where := path
	if p.ID == nil {
		ve.addf("%s: id: missing", where)
	} else {
		label := fmt.Sprintf("%s (id %d", path, *p.ID)
		if p.Title != nil && *p.Title != "" {
			label += fmt.Sprintf(" %q", *p.Title)
		}
		label += ")"
		if first, dup := ids[*p.ID]; dup {
			ve.addf("%s: id: %d is also the id of %s", label, *p.ID, first)
		} else {
			ids[*p.ID] = path
		}
		where = label
	}
	typ := ""
	if p.Type == nil || *p.Type == "" {
		ve.addf("%s: type: missing", where)
	} else {
		typ = *p.Type
	}
	if p.Title == nil || strings.TrimSpace(*p.Title) == "" {
		ve.addf("%s: title: missing", where)
	}
	checkGridPos(ve, where, p.GridPos)

	for i, sub := range p.Panels {
		checkPanel(ve, fmt.Sprintf("%s.panels[%d]", path, i), sub, ids)
	}
	if noQueryPanels[typ] {
		return
	}

	ds, problem := parseDatasource(p.Datasource)
	if problem != "" {
		ve.addf("%s: datasource%s", where, problem)
	}
	if p.Targets == nil || len(*p.Targets) == 0 {
		ve.addf("%s: targets: missing", where)
		return
	}
	refIDs := map[string]int{}
	for i, t := range *p.Targets {
		tw := fmt.Sprintf("%s: targets[%d]", where, i)
		if t.RefID == nil || *t.RefID == "" {
			ve.addf("%s: refId: missing", tw)
		} else {
			if j, dup := refIDs[*t.RefID]; dup {
				ve.addf("%s: refId: %q is also the refId of targets[%d]", tw, *t.RefID, j)
			} else {
				refIDs[*t.RefID] = i
			}
			tw += fmt.Sprintf(" (refId %q)", *t.RefID)
		}
		tds := ds
		if len(t.Datasource) > 0 && string(t.Datasource) != "null" {
			var tp string
			tds, tp = parseDatasource(t.Datasource)
			if tp != "" {
				ve.addf("%s: datasource%s", tw, tp)
			}
		}
		if tds.UID == "__expr__" || tds.Type == "__expr__" {
			continue // a server-side expression, not a PromQL query
		}
		if t.Expr == nil || strings.TrimSpace(*t.Expr) == "" {
			ve.addf("%s: expr: missing", tw)
		}
	}
}

// parseDatasource reads a panel's or target's datasource reference; the
// problem, if any, starts with the field suffix (".uid: missing").
func parseDatasource(raw json.RawMessage) (datasourceRef, string) {
	var ref datasourceRef
	if len(raw) == 0 || string(raw) == "null" {
		return ref, ": missing"
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return ref, fmt.Sprintf(": %q is a datasource name, want an object with the datasource's uid", name)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		return ref, ": not an object {type, uid}"
	}
	if ref.UID == "" {
		return ref, ".uid: missing"
	}
	return ref, ""
}

func checkGridPos(ve *ValidationError, where string, g *gridPosModel) {
	if g == nil {
		ve.addf("%s: gridPos: missing", where)
		return
	}
	missing := false
	for _, f := range []struct {
		name string
		v    *int
	}{{"x", g.X}, {"y", g.Y}, {"w", g.W}, {"h", g.H}} {
		if f.v == nil {
			ve.addf("%s: gridPos.%s: missing", where, f.name)
			missing = true
		}
	}
	if missing {
		return
	}
	x, y, w, h := *g.X, *g.Y, *g.W, *g.H
	ok := true
	if x < 0 || x >= GridColumns {
		ve.addf("%s: gridPos.x: %d is outside the %d-column grid", where, x, GridColumns)
		ok = false
	}
	if y < 0 {
		ve.addf("%s: gridPos.y: %d is negative", where, y)
	}
	if w < 1 || w > GridColumns {
		ve.addf("%s: gridPos.w: %d is not between 1 and %d", where, w, GridColumns)
		ok = false
	}
	if h < 1 {
		ve.addf("%s: gridPos.h: %d is less than 1", where, h)
	}
	if ok && x+w > GridColumns {
		ve.addf("%s: gridPos: x+w = %d+%d = %d is past the %d-column grid", where, x, w, x+w, GridColumns)
	}
}

type datasourceProvisioning struct {
	APIVersion  *int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		Type      string `yaml:"type"`
		Access    string `yaml:"access"`
		URL       string `yaml:"url"`
		UID       string `yaml:"uid"`
		OrgID     int64  `yaml:"orgId"`
		IsDefault bool   `yaml:"isDefault"`
	} `yaml:"datasources"`
}

type dashboardProvisioning struct {
	APIVersion *int `yaml:"apiVersion"`
	Providers  []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// ValidateProvisioning checks Grafana provisioning files: a datasources
// file (apiVersion 1; datasources each with name, type, access proxy or
// direct, url and a valid uid, names and uids unique, at most one default
// per organisation) and a dashboards file (apiVersion 1; providers each
// with a unique name, type file and options.path). A nil argument skips
// that file. The errors are *ValidationError, joined when both files have
// problems.
func ValidateProvisioning(datasourceYAML, dashboardsYAML []byte) error {
	var errs []error
	if datasourceYAML != nil {
		errs = append(errs, validateDatasourceProvisioning(datasourceYAML))
	}
	if dashboardsYAML != nil {
		errs = append(errs, validateDashboardProvisioning(dashboardsYAML))
	}
	return errors.Join(errs...)
}

func checkAPIVersion(ve *ValidationError, v *int) {
	if v == nil {
		ve.addf("apiVersion: missing, want 1")
	} else if *v != 1 {
		ve.addf("apiVersion: %d, want 1", *v)
	}
}

func validateDatasourceProvisioning(data []byte) error {
	ve := &ValidationError{Subject: "datasource provisioning"}
	var f datasourceProvisioning
	if err := yaml.Unmarshal(data, &f); err != nil {
		ve.addf("invalid YAML: %v", err)
		return ve
	}
	checkAPIVersion(ve, f.APIVersion)
	if len(f.Datasources) == 0 {
		ve.addf("datasources: missing")
	}
	names, uids := map[string]int{}, map[string]int{}
	defaults := map[int64]int{}
	for i, ds := range f.Datasources {
		where := fmt.Sprintf("datasources[%d]", i)
		if ds.Name == "" {
			ve.addf("%s: name: missing", where)
		} else {
			where += fmt.Sprintf(" (%q)", ds.Name)
			if j, dup := names[ds.Name]; dup {
				ve.addf("%s: name: also the name of datasources[%d]", where, j)
			}
			names[ds.Name] = i
		}
		if ds.Type == "" {
			ve.addf("%s: type: missing", where)
		}
		switch ds.Access {
		case "":
			ve.addf("%s: access: missing", where)
		case "proxy", "direct":
		default:
			ve.addf("%s: access: %q, want proxy or direct", where, ds.Access)
		}
		if ds.URL == "" {
			ve.addf("%s: url: missing", where)
		}
		if ds.UID == "" {
			ve.addf("%s: uid: missing", where)
		} else {
			if p := checkUID(ds.UID); p != "" {
				ve.addf("%s: uid: %s", where, p)
			}
			if j, dup := uids[ds.UID]; dup {
				ve.addf("%s: uid: %q is also the uid of datasources[%d]", where, ds.UID, j)
			}
			uids[ds.UID] = i
		}
		if ds.IsDefault {
			if j, dup := defaults[ds.OrgID]; dup {
				ve.addf("%s: isDefault: datasources[%d] of the same organisation is the default already", where, j)
			}
			defaults[ds.OrgID] = i
		}
	}
	return ve.err()
}

func validateDashboardProvisioning(data []byte) error {
	ve := &ValidationError{Subject: "dashboard provisioning"}
	var f dashboardProvisioning
	if err := yaml.Unmarshal(data, &f); err != nil {
		ve.addf("invalid YAML: %v", err)
		return ve
	}
	checkAPIVersion(ve, f.APIVersion)
	if len(f.Providers) == 0 {
		ve.addf("providers: missing")
	}
	names := map[string]int{}
	for i, p := range f.Providers {
		where := fmt.Sprintf("providers[%d]", i)
		if p.Name == "" {
			ve.addf("%s: name: missing", where)
		} else {
			where += fmt.Sprintf(" (%q)", p.Name)
			if j, dup := names[p.Name]; dup {
				ve.addf("%s: name: also the name of providers[%d]", where, j)
			}
			names[p.Name] = i
		}
		switch p.Type {
		case "":
			ve.addf("%s: type: missing, want file", where)
		case "file":
		default:
			ve.addf("%s: type: %q, want file", where, p.Type)
		}
		if p.Options.Path == "" {
			ve.addf("%s: options.path: missing", where)
		}
	}
	return ve.err()
}
