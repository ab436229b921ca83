package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
)

// Client talks to a node's API.
type Client struct {
	Base  string // e.g. https://127.0.0.1:8443
	Token string
	HTTP  *http.Client
}

// ClientTLS builds the TLS configuration for a client: the system roots,
// a CA file (the node's tls/cert.pem), or no verification at all.
func ClientTLS(caFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		c.InsecureSkipVerify = true
		return c, nil
	}
	if caFile != "" {
		pemBytes, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("ca %s: no PEM certificate found", caFile)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// NewClient returns a client for base with token.
func NewClient(base, token string, tlsConf *tls.Config) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token,
		HTTP: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}}}
}

// APIError is a non-2xx answer.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return resp, nil, err
	}
	return resp, b, nil
}

func apiError(resp *http.Response, b []byte) error {
	var eb errorBody
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	return &APIError{Status: resp.StatusCode, Message: msg}
}

// Publish ingests a bundle or object. A result with refusals comes back
// with a nil error: the caller decides what a partial landing means.
func (c *Client) Publish(ctx context.Context, body io.Reader, label string) (*node.IngestResult, error) {
	p := "/api/v1/objects"
	if label != "" {
		p += "?label=" + url.QueryEscape(label)
	}
	resp, b, err := c.do(ctx, http.MethodPost, p, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
		return nil, apiError(resp, b)
	}
	var res node.IngestResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("publish: reading answer: %w", err)
	}
	return &res, nil
}

// GetRaw fetches path and returns the body of a 200 answer.
func (c *Client) GetRaw(ctx context.Context, path string) ([]byte, error) {
	resp, b, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp, b)
	}
	return b, nil
}

// Get fetches one object.
func (c *Client) Get(ctx context.Context, id string) ([]byte, error) {
	return c.GetRaw(ctx, "/api/v1/objects/"+url.PathEscape(id))
}

// ListPage is one page of GET /api/v1/objects.
type ListPage struct {
	Objects []json.RawMessage `json:"objects"`
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
}

// List fetches one page.
func (c *Client) List(ctx context.Context, types []string, limit int, next string) (*ListPage, error) {
	q := url.Values{}
	if len(types) > 0 {
		q.Set("type", strings.Join(types, ","))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if next != "" {
		q.Set("next", next)
	}
	b, err := c.GetRaw(ctx, "/api/v1/objects?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var p ListPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("list: reading answer: %w", err)
	}
	return &p, nil
}

// AddUser creates a user through the API (admin only).
func (c *Client) AddUser(ctx context.Context, u map[string]any) (*UserBody, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	resp, b, err := c.do(ctx, http.MethodPost, "/api/v1/users", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, apiError(resp, b)
	}
	var out UserBody
	return &out, json.Unmarshal(b, &out)
}

// ExportPage fetches one page of GET /api/v1/export: the objects of its
// bundle (objects, their bindings, the labels they name) and the cursor of
// the next page, "" after the last.
func (c *Client) ExportPage(ctx context.Context, types []string, limit int, next string) ([]json.RawMessage, string, error) {
	q := url.Values{}
	if len(types) > 0 {
		q.Set("type", strings.Join(types, ","))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if next != "" {
		q.Set("next", next)
	}
	resp, b, err := c.do(ctx, http.MethodGet, "/api/v1/export?"+q.Encode(), nil)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", apiError(resp, b)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, "", fmt.Errorf("export: reading answer: %w", err)
	}
	return bundle.Objects, resp.Header.Get("X-Tearline-Next"), nil
}
