package statuspage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// Handler serves an Engine's status page, its JSON and the release gate
// (see the package documentation for the routes). Every response is built
// from the engine's latest published state; nothing in a request changes
// anything, and nothing from a request is echoed back.
//
// A Handler is safe for concurrent use.
//
// The zero Handler is not usable: use New.
type Handler struct {
	eng        *slo.Engine
	title      string
	eventLimit int
	logger     *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler for eng. It reports a nil engine and every invalid
// option at once, each wrapping ErrInvalidOption.
func New(eng *slo.Engine, opts ...Option) (*Handler, error) {
	cfg := config{title: "sloguard"} // eventLimit 0: see WithEventLimit
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "option", func(o Option) { o.apply(&cfg) })
	errs := cfg.errs
	if eng == nil {
		errs = append([]error{fmt.Errorf("%w: nil engine", ErrInvalidOption)}, errs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	return &Handler{eng: eng, title: cfg.title, eventLimit: cfg.eventLimit, logger: cfg.logger}, nil
}

// ServeHTTP serves GET and HEAD requests; see the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "", "/":
		hdr.Add("Vary", "Accept")
		if wantsJSON(r) {
			h.writeJSON(w, r, http.StatusOK, h.document(h.eventLimit))
			return
		}
		h.writeHTML(w, r)
	case "/status.json":
		h.writeJSON(w, r, http.StatusOK, h.document(h.eventLimit))
	case "/release":
		rel := releaseOf(h.eng.Status().Release)
		code := http.StatusOK
		if rel.Frozen {
			code = http.StatusConflict
		}
		h.writeJSON(w, r, code, rel)
	default:
		http.NotFound(w, r)
	}
}

// pageEvents is how many events the page shows without WithEventLimit.
const pageEvents = 100

// document returns the engine's Document with at most limit events; all
// of them for limit 0.
func (h *Handler) document(limit int) statusjson.Document {
	doc := Build(h.eng)
	if n := len(doc.Events); limit > 0 && n > limit {
		doc.Events = doc.Events[n-limit:]
	}
	return doc
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		h.fail(w, "encoding JSON", err)
		return
	}
	body = append(body, '\n')
	h.write(w, r, code, "application/json", body)
}

func (h *Handler) writeHTML(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, newPage(h.title, h.document(cmp.Or(h.eventLimit, pageEvents)))); err != nil {
		h.fail(w, "rendering the page", err)
		return
	}
	// The page has no script and loads nothing: forbid both.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.write(w, r, http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// write sends a complete body, rendered beforehand so that a failure can
// still become a 500; HEAD gets the same headers and no body.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, code int, contentType string, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client is gone; nothing to do
	}
}

func (h *Handler) fail(w http.ResponseWriter, what string, err error) {
	h.logger.Error("statuspage: "+what, "error", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// wantsJSON reports whether a request for the page asks for JSON: with
// ?format=json, or with an Accept header that ranks application/json above
// text/html. Without either, people get the page.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return false
	}
	ranges := strings.Join(accept, ",")
	return quality(ranges, "application", "json") > quality(ranges, "text", "html")
}

// quality returns the q-value that the Accept header value ranges gives
// the media type typ/sub: that of the most specific matching range, 0 when
// none matches.
func quality(ranges, typ, sub string) float64 {
	best, q := -1, 0.0
	for part := range strings.SplitSeq(ranges, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		t, s, _ := strings.Cut(mt, "/")
		spec := -1
		switch {
		case t == typ && s == sub:
			spec = 2
		case t == typ && s == "*":
			spec = 1
		case t == "*" && s == "*":
			spec = 0
		}
		if spec <= best {
			continue
		}
		v := 1.0
		if p, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			v = f
		}
		best, q = spec, v
	}
	return q
}
