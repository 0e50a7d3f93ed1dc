package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/sloguard/sloguard/slo/statuspage"
)

// Pages of the status handler, relative to its mount point.
const (
	pageStatus  = "status.json"
	pageRelease = "release"
)

// maxBody bounds the responses read: a status document with hundreds of
// objectives, their history and the timeline stays far below it.
const maxBody = 16 << 20

// target is where a command reads from: the flags every network command
// shares.
type target struct {
	url     string
	timeout time.Duration
}

func (t *target) define(fs *flag.FlagSet) {
	fs.StringVar(&t.url, "url", "", "`URL` where the service mounts the sloguard status handler, e.g. https://svc.internal/sloguard (required)")
	fs.DurationVar(&t.timeout, "timeout", defaultTimeout, "give up on the service after this `DURATION`")
}

// check reports a missing URL or a useless timeout.
func (t *target) check() error {
	switch {
	case t.url == "":
		return errors.New("--url is required")
	case t.timeout <= 0:
		return fmt.Errorf("--timeout %v must be positive", t.timeout)
	}
	_, err := endpoint(t.url, pageStatus)
	return err
}

// endpoint returns the URL of page under the status handler mounted at base.
// Base may already name one of the handler's pages, as when the status
// document's URL is copied from a browser: that page is replaced.
func endpoint(base, page string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("--url %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("--url %q: want an http:// or https:// URL with a host", base)
	}
	p := strings.TrimRight(u.Path, "/")
	for _, known := range []string{pageStatus, pageRelease} {
		if strings.HasSuffix(p, "/"+known) {
			p = strings.TrimSuffix(p, "/"+known)
			break
		}
	}
	u.Path, u.RawPath, u.Fragment = p+"/"+page, "", ""
	return u.String(), nil
}

// client makes the command's HTTP requests: GET only, each bounded by the
// timeout, with sloguard's User-Agent.
type client struct {
	http    *http.Client
	timeout time.Duration
}

func newClient(timeout time.Duration) *client {
	// A transport of its own, closed by close, so that no idle connection
	// outlives the command (or a test calling run).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &client{http: &http.Client{Transport: tr, Timeout: timeout}, timeout: timeout}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// response is an HTTP response read in full.
type response struct {
	url    string
	status int
	body   []byte
}

// get fetches u. Any status is a response; failing to get one, or to read
// it within the timeout, is an error.
func (c *client) get(ctx context.Context, u string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	req.Header.Set("User-Agent", "sloguard/"+commandVersion())
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.describe(u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, c.describe(u, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: response is larger than %d MiB", u, maxBody>>20)
	}
	return &response{url: u, status: resp.StatusCode, body: body}, nil
}

// describe turns a transport error into one line that says what happened.
func (c *client) describe(u string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("GET %s: no answer within %v", u, c.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and URL
	}
	return fmt.Errorf("GET %s: %w", u, err)
}

// unexpected is the error for a response with a status the command can not
// use; it quotes the start of the body, which often says why.
func (r *response) unexpected() error {
	msg := fmt.Sprintf("GET %s: %d %s", r.url, r.status, http.StatusText(r.status))
	if s := snippet(r.body); s != "" {
		msg += ": " + s
	}
	return errors.New(msg)
}

// decode unmarshals the body into v, explaining the usual mistake: a URL
// that serves a web page instead of the status handler.
func (r *response) decode(v any) error {
	err := json.Unmarshal(r.body, v)
	if err == nil {
		return nil
	}
	if b := bytes.TrimSpace(r.body); len(b) > 0 && b[0] == '<' {
		return fmt.Errorf("GET %s: got HTML, not JSON: does --url point at the sloguard status handler?", r.url)
	}
	return fmt.Errorf("GET %s: invalid JSON: %w", r.url, err)
}

// snippet returns the start of a response body as one printable line.
func snippet(body []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(body))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// fetchDocument fetches the status document of the handler mounted at base.
func fetchDocument(ctx context.Context, c *client, base string) (*statuspage.Document, *response, error) {
	u, err := endpoint(base, pageStatus)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.get(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if r.status != http.StatusOK {
		return nil, nil, r.unexpected()
	}
	var doc statuspage.Document
	if err := r.decode(&doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Objectives) == 0 {
		// An Engine has at least one objective: this is some other JSON.
		return nil, nil, fmt.Errorf("GET %s: no objectives: does --url point at the sloguard status handler?", u)
	}
	return &doc, r, nil
}
