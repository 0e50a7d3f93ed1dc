package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter remembers the status a handler sends. It keeps the
// optional interfaces handlers rely on: Flush, Hijack and ReadFrom directly,
// and everything else through Unwrap, which http.ResponseController follows.
type responseWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	// breaker says Error answered for an open breaker downstream: the
	// request counts as Shed.
	breaker bool
}

func (w *responseWriter) reset(rw http.ResponseWriter) {
	*w = responseWriter{ResponseWriter: rw}
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote {
		// 1xx other than 101 are informational; the final status is still
		// to come.
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			w.ResponseWriter.WriteHeader(code)
			return
		}
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.implicitOK()
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	w.implicitOK()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

// FlushError is Flush with its error, which http.ResponseController.Flush
// prefers to Flush: without it, a failed write or a writer that can not
// flush (http.ErrNotSupported) would look like success.
func (w *responseWriter) FlushError() error {
	w.implicitOK()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && !w.wrote {
		w.status, w.wrote = http.StatusSwitchingProtocols, true
	}
	return c, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) implicitOK() {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)
