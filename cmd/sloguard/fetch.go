package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// Pages of the status handler, relative to its mount point.
const (
	pageStatus  = "status.json"
	pageRelease = "release"
)

// maxBody bounds the responses read: a status document with hundreds of
// objectives, their history and the timeline stays far below it.
const maxBody = 16 << 20

// envToken names the environment variable whose value, when set, is sent
// as a bearer token (doc.go, "Credentials").
const envToken = "SLOGUARD_TOKEN"

// notShown stands in for a command-line value that may hold credentials.
const notShown = "[not shown: it may hold credentials]"

// target is where a command reads from: the flags every network command
// shares, and the credentials from the environment.
type target struct {
	url     string
	timeout time.Duration

	base  *url.URL // parsed from url by check
	token string   // from envToken, set by check
}

func (t *target) define(fs *flag.FlagSet) {
	fs.StringVar(&t.url, "url", "", "`URL` where the service mounts the sloguard status handler, e.g. https://svc.internal/sloguard (required; never printed with its user name, password or query)")
	fs.DurationVar(&t.timeout, "timeout", defaultTimeout, "give up on the service after this `DURATION`")
}

// check reports a missing or unusable URL, a useless timeout, or unusable
// credentials, and keeps the parsed URL and the token. Its errors never
// quote the URL: it may hold credentials.
func (t *target) check() error {
	switch {
	case t.url == "":
		return errors.New("--url is required")
	case t.timeout <= 0:
		return fmt.Errorf("--timeout %v must be positive", t.timeout)
	}
	u, err := parseBase(t.url)
	if err != nil {
		return err
	}
	token := os.Getenv(envToken)
	switch {
	case token == "":
	case u.User != nil:
		return fmt.Errorf("--url has a user name and %s is set: give the credentials one way", envToken)
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }):
		return fmt.Errorf("%s holds a character that is not printable ASCII, which a token can not have", envToken)
	}
	t.base, t.token = u, token
	return nil
}

// open checks a command's arguments and the target, as every command that
// asks the service does first, and returns the client; with ok false, the
// command exits with code, the usage error written to stderr.
func (t *target) open(c *command, args []string, stderr io.Writer) (cl *client, code int, ok bool) {
	if code, ok := noArgs(stderr, c, args); !ok {
		return nil, code, false
	}
	if err := t.check(); err != nil {
		return nil, usageError(stderr, c, "%v", err), false
	}
	return t.client(), exitOK, true
}

// client returns the HTTP client for the target; check must have passed.
func (t *target) client() *client {
	return newClient(t.timeout, t.token, secrets(t.base, t.token))
}

// parseBase parses the --url flag. Its errors do not quote the URL, nor the
// error of url.Parse, which does.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("--url could not be parsed as a URL: check its scheme, host, port and %-escapes (the URL is not shown: it may hold credentials)")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("--url: want an http:// or https:// URL with a host")
	}
	return u, nil
}

// endpoint returns the URL of page under the status handler mounted at base.
// Base may already name one of the handler's pages, as when the status
// document's URL is copied from a browser: that page is replaced.
func endpoint(base *url.URL, page string) *url.URL {
	u := *base
	p := strings.TrimRight(u.Path, "/")
	for _, known := range []string{pageStatus, pageRelease} {
		if strings.HasSuffix(p, "/"+known) {
			p = strings.TrimSuffix(p, "/"+known)
			break
		}
	}
	u.Path, u.RawPath, u.Fragment = p+"/"+page, "", ""
	return &u
}

// shown returns u as sloguard prints it: scheme, host and path, without the
// user name, password, query and fragment, which may hold credentials.
func shown(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

// secrets lists what must not be printed even where a response repeats
// it: the credentials and query of u, in the forms a server may echo them
// (decoded, escaped, as a basic-auth header), and the token. Strings
// shorter than 4 bytes are left out: replacing them would garble messages.
func secrets(u *url.URL, token string) []string {
	var s []string
	if u.User != nil {
		name := u.User.Username()
		pass, _ := u.User.Password()
		s = append(s, name, url.PathEscape(name), url.QueryEscape(name), pass, url.PathEscape(pass), url.QueryEscape(pass),
			u.User.String(), base64.StdEncoding.EncodeToString([]byte(name+":"+pass)))
	}
	if u.RawQuery != "" {
		s = append(s, u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				s = append(s, v, url.QueryEscape(v))
			}
		}
	}
	if token != "" {
		s = append(s, token)
	}
	s = slices.DeleteFunc(s, func(v string) bool { return len(v) < 4 })
	// Longest first, so that no secret is left half replaced.
	slices.SortFunc(s, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return slices.Compact(s)
}

// sensitive reports whether a command-line argument may hold credentials:
// a user name (before an @) or a query.
func sensitive(arg string) bool { return strings.ContainsAny(arg, "@?") }

// quoteArg quotes a command-line argument for a message, unless it may hold
// credentials.
func quoteArg(arg string) string {
	if sensitive(arg) {
		return notShown
	}
	return strconv.Quote(arg)
}

// hideArgs replaces the arguments in msg that may hold credentials, as the
// flag package quotes bad values in its errors.
func hideArgs(msg string, args []string) string {
	for _, a := range args {
		vals := []string{a}
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			vals = append(vals, v)
		}
		for _, v := range vals {
			if sensitive(v) {
				msg = strings.ReplaceAll(msg, strconv.Quote(v), notShown)
				msg = strings.ReplaceAll(msg, v, notShown)
			}
		}
	}
	return msg
}

// client makes the command's HTTP requests: GET only, each bounded by the
// timeout, with sloguard's User-Agent.
type client struct {
	http    *http.Client
	timeout time.Duration
	token   string            // sent as a bearer token when not empty
	redact  *strings.Replacer // hides the secrets in quoted responses
}

// newClient returns a client that sends token, if any, and never prints
// any of secrets.
func newClient(timeout time.Duration, token string, secrets []string) *client {
	// A transport of its own, closed by close, so that no idle connection
	// outlives the command (or a test calling run).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, "[redacted]")
	}
	return &client{
		http:    &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: sameHostAuth},
		timeout: timeout,
		token:   token,
		redact:  strings.NewReplacer(pairs...),
	}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// sameHostAuth follows redirects as the http package does (at most 10),
// and sends the bearer token only to the host and port of --url: the
// http package would send it to any port of the same domain and its
// subdomains. (It never sends the basic auth of the URL on a redirect.)
func sameHostAuth(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}

// response is an HTTP response read in full.
type response struct {
	url    string // as shown, without credentials or query
	status int
	body   []byte
	redact *strings.Replacer
}

// get fetches u. Any status is a response; failing to get one, or to read
// it within the timeout, is an error.
// Its errors name the URL as shown (without credentials or query).
func (c *client) get(ctx context.Context, target *url.URL) (*response, error) {
	u := shown(target)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		// Not err: a *url.Error quotes the URL.
		return nil, fmt.Errorf("GET %s: can not make the request", u)
	}
	req.Header.Set("User-Agent", "sloguard/"+commandVersion())
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		// The client drops it on a redirect to another domain.
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
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
	return &response{url: u, status: resp.StatusCode, body: body, redact: c.redact}, nil
}

// describe turns a transport error into one line that says what happened.
func (c *client) describe(u string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("GET %s: no answer within %v", u, c.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and the full URL
	}
	return fmt.Errorf("GET %s: %s", u, c.redact.Replace(err.Error()))
}

// unexpected is the error for a response with a status the command can not
// use; it quotes the start of the body, which often says why, with the
// request's secrets redacted, as some servers repeat the request.
func (r *response) unexpected() error {
	msg := fmt.Sprintf("GET %s: %d %s", r.url, r.status, http.StatusText(r.status))
	if s := snippet([]byte(r.redact.Replace(string(r.body)))); s != "" {
		msg += ": " + s
	}
	return errors.New(msg)
}

// decode unmarshals the body into v; its errors name the URL.
func (r *response) decode(v any) error {
	if err := decodeJSON(r.body, v); err != nil {
		return fmt.Errorf("GET %s: %s", r.url, r.redact.Replace(err.Error()))
	}
	return nil
}

// decodeJSON unmarshals a body of the status handler into v, explaining the
// usual mistake: a URL that serves a web page instead of the status handler.
func decodeJSON(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '<' {
		return errors.New("got HTML, not JSON: does --url point at the sloguard status handler?")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// decodeDocument decodes a status document, the body of status.json.
func decodeDocument(body []byte) (*statusjson.Document, error) {
	var doc statusjson.Document
	if err := decodeJSON(body, &doc); err != nil {
		return nil, err
	}
	if len(doc.Objectives) == 0 {
		// An Engine has at least one objective: this is some other JSON.
		return nil, errors.New("no objectives: does --url point at the sloguard status handler?")
	}
	return &doc, nil
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
func fetchDocument(ctx context.Context, c *client, base *url.URL) (*statusjson.Document, *response, error) {
	r, err := c.get(ctx, endpoint(base, pageStatus))
	if err != nil {
		return nil, nil, err
	}
	if r.status != http.StatusOK {
		return nil, nil, r.unexpected()
	}
	doc, err := decodeDocument(r.body)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %s", r.url, r.redact.Replace(err.Error()))
	}
	return doc, r, nil
}
