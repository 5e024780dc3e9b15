// Package grafana talks to the testbed's Grafana over its HTTP API, through
// the generated client github.com/grafana/grafana-openapi-client-go: it
// checks health, makes sure the Prometheus datasource exists, uploads the
// dashboards of dashboards/*.json, marks runs with annotations and takes
// snapshots. It also validates the dashboard JSON files and the
// provisioning YAML files offline (ValidateDashboard, ValidateProvisioning).
package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"

	goapi "github.com/grafana/grafana-openapi-client-go/client"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// DefaultTimeout bounds each request when New is given no WithTimeout.
const DefaultTimeout = 15 * time.Second

// Client is a Grafana HTTP API client authenticated with basic auth.
type Client struct {
	api     *goapi.GrafanaHTTPAPI
	baseURL string
	timeout time.Duration
}

// Option configures New.
type Option func(*options)

type options struct {
	timeout time.Duration
}

// WithTimeout sets the time limit of each request (DefaultTimeout if unset).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// New returns a client of the Grafana at baseURL (like http://1.2.3.4:3000,
// possibly with a sub-path when Grafana is served under one), logging in
// with basic auth as user/password.
//
// The transport is built here rather than with the generated
// NewHTTPClientWithConfig, which rewrites the TLS config of the process-wide
// http.DefaultTransport and wraps it in a retrying transport.
func New(baseURL, user, password string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("grafana: timeout must be positive, got %s", o.timeout)
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("grafana: base URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("grafana: base URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("grafana: base URL %q: no host", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("grafana: base URL %q: must not have a query or fragment", baseURL)
	}
	if user == "" {
		return nil, errors.New("grafana: no user given")
	}
	prefix := strings.TrimRight(u.Path, "/")
	basePath := prefix + goapi.DefaultBasePath

	rt := httptransport.NewWithClient(u.Host, basePath, []string{u.Scheme}, &http.Client{Timeout: o.timeout})
	rt.DefaultAuthentication = httptransport.BasicAuth(user, password)
	// The runtime's own JSON consumer turns numbers into json.Number only
	// for some paths and its text consumer cannot fill the error models;
	// one lenient consumer serves every media type Grafana answers with.
	for _, mt := range []string{runtime.JSONMime, runtime.TextMime, runtime.HTMLMime, "*/*"} {
		rt.Consumers[mt] = runtime.ConsumerFunc(consume)
	}
	cfg := &goapi.TransportConfig{
		Host:      u.Host,
		BasePath:  basePath,
		Schemes:   []string{u.Scheme},
		BasicAuth: url.UserPassword(user, password),
	}
	return &Client{
		api:     goapi.New(rt, cfg, strfmt.Default),
		baseURL: u.Scheme + "://" + u.Host + prefix,
		timeout: o.timeout,
	}, nil
}

// API returns the generated client, for calls this package does not wrap.
func (c *Client) API() *goapi.GrafanaHTTPAPI { return c.api }

// BaseURL is the Grafana address the client was made with, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// consume decodes a response body as JSON, keeping numbers as json.Number
// so that dashboards read back are re-sent unchanged. A body that is not
// JSON (a proxy's HTML page, Grafana's plain-text errors) is kept as the
// message when it is read into an error model, and is an error otherwise.
func consume(r io.Reader, data any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err = dec.Decode(data)
	if err == nil {
		return nil
	}
	if eb, ok := data.(*models.ErrorResponseBody); ok {
		msg := strings.TrimSpace(string(b))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		eb.Message = &msg
		return nil
	}
	return fmt.Errorf("decoding the answer: %w", err)
}

// APIError is a Grafana answer with an unexpected HTTP status.
type APIError struct {
	Op      string // what the client was doing, like `get datasource "x"`
	Status  int    // the HTTP status code
	Message string // Grafana's message, if it gave one
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("grafana: %s: HTTP %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsNotFound tells whether err is a Grafana 404 answer.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// wrap turns an error of the generated client into an error naming the
// operation and, when Grafana answered, the HTTP status and message.
//
// The generated client reports a status the spec lists as its own type
// per operation and status (with Code() and GetPayload()), and any other
// status as a *runtime.APIError.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var rae *runtime.APIError
	if errors.As(err, &rae) {
		return &APIError{Op: op, Status: rae.Code}
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		ae := &APIError{Op: op, Status: coded.Code()}
		if p, ok := coded.(interface {
			GetPayload() *models.ErrorResponseBody
		}); ok {
			if body := p.GetPayload(); body != nil {
				switch {
				case body.Message != nil && *body.Message != "":
					ae.Message = *body.Message
				case body.Error != "":
					ae.Message = body.Error
				}
			}
		}
		return ae
	}
	return fmt.Errorf("grafana: %s: %w", op, err)
}
