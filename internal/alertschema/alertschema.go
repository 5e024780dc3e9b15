// Package alertschema finds the Avro schema a run's alerts are written
// with (the experiment's alert.schema): the testbed's own
// (agents/alert/schema/lsst_alert.avsc), one of Rubin's published schemas,
// or an .avsc file; and resolves it to one self-contained schema text, which
// the agents are given with the run.
//
// Rubin's schemas come from the lsst-alert-packet package on PyPI (GPL-3.0:
// fetched, checked against PyPI's SHA-256 and cached under the workspace's
// cache, never committed). Its wheel carries lsst/alert/packet/schema/
// MAJOR/MINOR/lsst.vMAJOR_MINOR.*.avsc, one file per record type, which
// name each other; Resolve inlines each named type at its first use, as
// fastavro's load_schema does. The Confluent schema id of a Rubin schema is
// MAJOR x 100 + MINOR (1101 for lsst.v11_1), as the package's own
// Schema.get_schema_id computes it.
package alertschema

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/agents/alert"
)

// PacketVersion is the lsst-alert-packet release the Rubin schemas are
// taken from (its newest schema is lsst.v11_1).
const PacketVersion = "30.2026.2700"

// Names of alert.schema.
const (
	Testbed = "testbed" // the project's own lsst.testbed.Alert
	Rubin   = "rubin"   // the newest schema of PacketVersion
)

// Schema is a resolved alert schema.
type Schema struct {
	Name string // as the experiment names it: testbed, rubin-11.1, or the file's path
	// JSON is the schema, self-contained (every named type defined at its
	// first use) and compact, without "doc" strings.
	JSON string
	// ID is the Confluent schema id its convention gives (Rubin's:
	// MAJOR*100+MINOR), 0 when it has none (the testbed's and a file's:
	// the experiment's alert.schema_id).
	ID uint32
}

var rubinVersionRE = regexp.MustCompile(`^rubin-(\d+)\.(\d+)$`)

// Latest is the newest schema of PacketVersion (its latest.txt; FromWheel
// reads it from there, a test checks the two agree).
const Latest = "11.1"

// ConventionID is the Confluent schema id that name's convention gives:
// Rubin's MAJOR*100+MINOR; def for the others (testbed, a file), which
// have none.
func ConventionID(name string, def int) int {
	if name == Rubin {
		name = "rubin-" + Latest
	}
	if m := rubinVersionRE.FindStringSubmatch(name); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		return major*100 + minor
	}
	return def
}

var rubinAlertRE = regexp.MustCompile(`^lsst\.v(\d+)_(\d+)\.alert$`)

// WriterConventionID is the Confluent schema id of a replayed file's writer
// schema (JSON text) by Rubin's convention, MAJOR*100+MINOR for a record
// named lsst.vMAJOR_MINOR.alert; def for any other schema.
func WriterConventionID(schema string, def int) int {
	var t map[string]any
	if json.Unmarshal([]byte(schema), &t) != nil {
		return def
	}
	if m := rubinAlertRE.FindStringSubmatch(fullName(t, "")); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		return major*100 + minor
	}
	return def
}

// Check says whether name is a valid alert.schema without fetching
// anything: testbed, rubin, rubin-MAJOR.MINOR or a path ending in .avsc
// (whether that version exists is known only once the package is there).
func Check(name string) error {
	switch {
	case name == Testbed, name == Rubin, rubinVersionRE.MatchString(name):
		return nil
	case strings.HasSuffix(name, ".avsc"):
		return nil
	}
	return fmt.Errorf("%q is not an alert schema: use testbed (the project's own), rubin (Rubin's newest), rubin-MAJOR.MINOR (e.g. rubin-7.4; lsst-alert-packet %s carries 3.0 to 11.1) or the path of an .avsc file", name, PacketVersion)
}

// Resolve finds the schema named name (see Check); relative .avsc paths
// are taken from dir (the experiment file's folder). Rubin's come from the
// lsst-alert-packet wheel in cacheDir, downloaded from PyPI the first time.
func Resolve(ctx context.Context, name, dir, cacheDir string) (Schema, error) {
	if err := Check(name); err != nil {
		return Schema{}, err
	}
	switch {
	case name == Testbed:
		js, err := Compact(alert.AlertSchema(), nil)
		return Schema{Name: Testbed, JSON: js}, err
	case strings.HasSuffix(name, ".avsc"):
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return Schema{}, fmt.Errorf("alert.schema: %w", err)
		}
		js, err := Compact(string(data), nil)
		if err != nil {
			return Schema{}, fmt.Errorf("alert.schema %s: %w", path, err)
		}
		return Schema{Name: name, JSON: js}, nil
	}
	wheel, err := FetchPacket(ctx, cacheDir)
	if err != nil {
		return Schema{}, err
	}
	return FromWheel(wheel, name)
}

// FromWheel resolves rubin or rubin-MAJOR.MINOR from the lsst-alert-packet
// wheel at path.
func FromWheel(path, name string) (Schema, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Schema{}, fmt.Errorf("lsst-alert-packet wheel %s: %w", path, err)
	}
	defer zr.Close()
	const root = "lsst/alert/packet/schema/"
	read := func(n string) ([]byte, error) {
		f, err := zr.Open(n)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	var major, minor int
	if name == Rubin {
		latest, err := read(root + "latest.txt")
		if err != nil {
			return Schema{}, fmt.Errorf("lsst-alert-packet wheel %s: %w", path, err)
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(string(latest)), "%d.%d", &major, &minor); err != nil {
			return Schema{}, fmt.Errorf("lsst-alert-packet wheel %s: latest.txt %q: %w", path, latest, err)
		}
	} else {
		m := rubinVersionRE.FindStringSubmatch(name)
		major, _ = strconv.Atoi(m[1])
		minor, _ = strconv.Atoi(m[2])
	}
	dir := fmt.Sprintf("%s%d/%d/", root, major, minor)
	types := map[string]map[string]any{}
	var versions []string
	seen := map[string]bool{}
	for _, f := range zr.File {
		if rest, ok := strings.CutPrefix(f.Name, root); ok {
			if parts := strings.Split(rest, "/"); len(parts) == 3 && strings.HasSuffix(parts[2], ".avsc") && !seen[parts[0]+"."+parts[1]] {
				seen[parts[0]+"."+parts[1]] = true
				versions = append(versions, parts[0]+"."+parts[1])
			}
		}
		if !strings.HasPrefix(f.Name, dir) || strings.Contains(strings.TrimPrefix(f.Name, dir), "/") || !strings.HasSuffix(f.Name, ".avsc") {
			continue
		}
		data, err := read(f.Name)
		if err != nil {
			return Schema{}, err
		}
		var t map[string]any
		if err := json.Unmarshal(data, &t); err != nil {
			return Schema{}, fmt.Errorf("%s in %s: %w", f.Name, path, err)
		}
		types[fullName(t, "")] = t
	}
	rootName := fmt.Sprintf("lsst.v%d_%d.alert", major, minor)
	top, ok := types[rootName]
	if !ok {
		sort.Slice(versions, func(i, j int) bool {
			var ai, aj, bi, bj int
			fmt.Sscanf(versions[i], "%d.%d", &ai, &bi)
			fmt.Sscanf(versions[j], "%d.%d", &aj, &bj)
			return ai < aj || (ai == aj && bi < bj)
		})
		return Schema{}, fmt.Errorf("alert.schema %s: lsst-alert-packet %s has no schema %d.%d (it has %s)", name, PacketVersion, major, minor, strings.Join(versions, ", "))
	}
	js, err := Compact(top, types)
	if err != nil {
		return Schema{}, fmt.Errorf("%s: %w", rootName, err)
	}
	return Schema{Name: fmt.Sprintf("rubin-%d.%d", major, minor), JSON: js, ID: uint32(major*100 + minor)}, nil
}

// Compact returns schema (JSON text or a decoded object) self-contained
// and without "doc": every name it uses that is not defined in it is
// taken from types (by full name) and defined at its first use.
func Compact(schema any, types map[string]map[string]any) (string, error) {
	if s, ok := schema.(string); ok {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return "", fmt.Errorf("not JSON: %w", err)
		}
		schema = v
	}
	defined := map[string]bool{}
	out, err := inline(schema, "", types, defined)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true, "bytes": true, "string": true}

// inline walks a schema, defining referenced named types at first use.
func inline(t any, ns string, types map[string]map[string]any, defined map[string]bool) (any, error) {
	switch v := t.(type) {
	case string:
		if primitives[v] {
			return v, nil
		}
		name := v
		if !strings.Contains(name, ".") && ns != "" {
			name = ns + "." + name
		}
		if defined[name] {
			return name, nil
		}
		def, ok := types[name]
		if !ok {
			return nil, fmt.Errorf("type %q is used but not defined", name)
		}
		return inline(def, ns, types, defined)
	case []any:
		out := make([]any, len(v))
		for i, b := range v {
			x, err := inline(b, ns, types, defined)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case map[string]any:
		out := withoutDoc(v)
		typ, _ := v["type"].(string)
		switch typ {
		case "record", "error", "enum", "fixed":
			name := fullName(v, ns)
			defined[name] = true
			if i := strings.LastIndex(name, "."); i >= 0 {
				ns = name[:i]
			}
			if typ == "record" || typ == "error" {
				fields, _ := v["fields"].([]any)
				var fs []any
				for _, f := range fields {
					fm, ok := f.(map[string]any)
					if !ok {
						return nil, errors.New("a record field is not an object")
					}
					nf := withoutDoc(fm)
					ft, err := inline(fm["type"], ns, types, defined)
					if err != nil {
						return nil, fmt.Errorf("field %v: %w", fm["name"], err)
					}
					nf["type"] = ft
					fs = append(fs, nf)
				}
				out["fields"] = fs
			}
		case "array":
			items, err := inline(v["items"], ns, types, defined)
			if err != nil {
				return nil, err
			}
			out["items"] = items
		case "map":
			values, err := inline(v["values"], ns, types, defined)
			if err != nil {
				return nil, err
			}
			out["values"] = values
		default:
			if _, ok := v["type"].(string); !ok {
				inner, err := inline(v["type"], ns, types, defined)
				if err != nil {
					return nil, err
				}
				out["type"] = inner
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected %T in a schema", t)
}

// withoutDoc is a copy of m without its "doc".
func withoutDoc(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k != "doc" {
			out[k] = x
		}
	}
	return out
}

// fullName is a named type's full name: its name if dotted, else its
// namespace (or the enclosing one) and its name.
func fullName(t map[string]any, ns string) string {
	name, _ := t["name"].(string)
	if strings.Contains(name, ".") {
		return name
	}
	if n, ok := t["namespace"].(string); ok && n != "" {
		ns = n
	}
	if ns == "" {
		return name
	}
	return ns + "." + name
}

// PacketSHA256 is the SHA-256 of the PacketVersion wheel, as PyPI lists
// it: the download is checked against it.
const PacketSHA256 = "ee1992cba0bcd218d6806dd5bbded835d61dbd5506e204202e27ef27b3550a9c"

const packetWheel = "lsst_alert_packet-" + PacketVersion + "-py3-none-any.whl"

// pypiSimple is PyPI's simple index of the package (PEP 691, JSON).
var pypiSimple = "https://pypi.org/simple/lsst-alert-packet/"

// FetchPacket returns the path of the lsst-alert-packet PacketVersion
// wheel in cacheDir, downloading it from PyPI the first time (checked
// against PacketSHA256).
func FetchPacket(ctx context.Context, cacheDir string) (string, error) {
	dir := filepath.Join(cacheDir, "lsst-alert-packet")
	path := filepath.Join(dir, packetWheel)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("Rubin's alert schemas come from lsst-alert-packet %s on PyPI: %w (alert.schema testbed needs no download)", PacketVersion, err)
	}
	index, err := get(ctx, pypiSimple, "application/vnd.pypi.simple.v1+json")
	if err != nil {
		return fail(err)
	}
	var idx struct {
		Files []struct {
			Filename string `json:"filename"`
			URL      string `json:"url"`
		} `json:"files"`
	}
	if err := json.Unmarshal(index, &idx); err != nil {
		return fail(fmt.Errorf("PyPI's index: %w", err))
	}
	for _, f := range idx.Files {
		if f.Filename != packetWheel {
			continue
		}
		data, err := get(ctx, f.URL, "")
		if err != nil {
			return fail(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != PacketSHA256 {
			return fail(fmt.Errorf("%s has SHA-256 %s, want %s", f.URL, got, PacketSHA256))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		tmp := path + ".part"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return "", err
		}
		return path, os.Rename(tmp, path)
	}
	return fail(fmt.Errorf("PyPI's index lists no %s", packetWheel))
}

func get(ctx context.Context, url, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
