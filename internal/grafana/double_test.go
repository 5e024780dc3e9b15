package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const (
	testUser     = "admin"
	testPassword = "s3cret"
)

// call is one request the double expects, in order, and its answer.
type call struct {
	method string
	path   string
	query  url.Values // the exact query; nil for none
	body   string     // the JSON body, compared as JSON; "" for no body

	status      int    // 200 if 0
	answer      string // the answer body
	contentType string // application/json if "" and answer is set
	// hang, when set, answers nothing until the client gives up.
	hang bool
}

// double is a stand-in for Grafana's HTTP API: it expects exactly the
// given calls in order, checks each one's method, path, query, basic-auth
// credentials, headers and JSON body, and fails the test on anything else.
type double struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	calls []call
	next  int
}

func newDouble(t *testing.T, calls ...call) *double {
	t.Helper()
	d := &double{t: t, calls: calls}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(func() {
		d.srv.Close()
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.next != len(d.calls) {
			var missed []string
			for _, c := range d.calls[d.next:] {
				missed = append(missed, c.method+" "+c.path)
			}
			t.Errorf("the client did not make %d expected requests: %s", len(missed), strings.Join(missed, ", "))
		}
	})
	return d
}

// client returns a Client of the double, at the given sub-path if any.
func (d *double) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(d.srv.URL, testUser, testPassword, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refuse answers a request the test did not expect in a way that makes the
// client fail too.
func refuse(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTeapot)
	msg, _ := json.Marshal(fmt.Sprintf(format, args...))
	fmt.Fprintf(w, `{"message":%s}`, msg)
}

func (d *double) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		d.t.Errorf("reading the request body: %v", err)
	}
	d.mu.Lock()
	if d.next >= len(d.calls) {
		d.mu.Unlock()
		d.t.Errorf("unexpected request %s %s (all %d expected requests were made)", r.Method, r.URL, len(d.calls))
		refuse(w, "unexpected request")
		return
	}
	c := d.calls[d.next]
	n := d.next
	d.next++
	d.mu.Unlock()

	where := fmt.Sprintf("request %d (%s %s)", n+1, c.method, c.path)
	ok := true
	fail := func(format string, args ...any) {
		d.t.Errorf(where+": "+format, args...)
		ok = false
	}
	if user, pass, has := r.BasicAuth(); !has || user != testUser || pass != testPassword {
		fail("basic auth is %q/%q (present %v), want %q/%q", user, pass, has, testUser, testPassword)
	}
	if r.Method != c.method {
		fail("method %s, want %s", r.Method, c.method)
	}
	if r.URL.Path != c.path {
		fail("path %s, want %s", r.URL.Path, c.path)
	}
	if q := r.URL.Query(); !(len(q) == 0 && len(c.query) == 0) && !reflect.DeepEqual(q, c.query) {
		fail("query %q, want %q", r.URL.RawQuery, c.query.Encode())
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		fail("Accept %q, want application/json", a)
	}
	if c.body == "" {
		if len(body) != 0 {
			fail("unexpected body %s", body)
		}
	} else {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			fail("Content-Type %q, want application/json", ct)
		}
		if diff := jsonDiff(body, []byte(c.body)); diff != "" {
			fail("body differs: %s", diff)
		}
	}
	if !ok {
		refuse(w, "%s did not match", where)
		return
	}
	if c.hang {
		<-r.Context().Done()
		return
	}
	if c.answer != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
	}
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, c.answer)
}

// jsonDiff compares two JSON documents by value; it returns "" when equal
// and otherwise both, canonically formatted.
func jsonDiff(got, want []byte) string {
	g, err := canonicalJSON(got)
	if err != nil {
		return fmt.Sprintf("got invalid JSON %s: %v", got, err)
	}
	w, err := canonicalJSON(want)
	if err != nil {
		return fmt.Sprintf("the test's want is invalid JSON: %v", err)
	}
	if g == w {
		return ""
	}
	return fmt.Sprintf("\n got  %s\n want %s", g, w)
}

func canonicalJSON(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	out, err := json.Marshal(v) // maps are marshalled with sorted keys
	return string(out), err
}

// mustJSON marshals v for the double's wants and answers.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
