package server

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/olops/olops/internal/api"
)

// route is one documented route of an API.
type route struct {
	method, path string
	h            http.HandlerFunc
	summary      string
	open         bool   // served without a token
	body         string // request body schema (OpenAPI component), if any
	optionalBody bool   // the body may be left out
	reply        string // reply schema
	status       int    // success status
}

// PublicHandler is the public API (predict, learn, stream, OIP, health).
func (s *Server) PublicHandler() http.Handler {
	return s.handler(s.publicRoutes(), s.o.PublicToken, "public")
}

// ManagementHandler is the management API.
func (s *Server) ManagementHandler() http.Handler {
	return s.handler(s.managementRoutes(), s.o.ManagementToken, "management")
}

func (s *Server) handler(routes []route, token, api string) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := http.Handler(rt.h)
		if !rt.open && token != "" {
			h = auth(token, api, h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	return s.logged(api, fallback(mux))
}

// fallback answers unknown routes and wrong methods with JSON errors.
func fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pat := mux.Handler(r); pat != "" {
			if strings.Contains(pat, "{") {
				mux.ServeHTTP(w, r) // sets the path values
			} else {
				h.ServeHTTP(w, r) // without matching the route twice
			}
			return
		}
		var allowed []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, pat := mux.Handler(r2); pat != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeErr(w, http.StatusMethodNotAllowed, api.Error{Error: fmt.Sprintf("method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))})
			return
		}
		writeErr(w, http.StatusNotFound, api.Error{Error: fmt.Sprintf("no route %s %s: see /openapi.json", r.Method, r.URL.Path)})
	})
}

// auth requires "Authorization: Bearer <token>".
func auth(token, which string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		got, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || got == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="olops `+which+`"`)
			writeErr(w, http.StatusUnauthorized, api.Error{Error: fmt.Sprintf("missing token: send \"Authorization: Bearer <token>\" with the %s API token", which)})
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="olops `+which+`", error="invalid_token"`)
			writeErr(w, http.StatusUnauthorized, api.Error{Error: fmt.Sprintf("wrong token for the %s API", which)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.status == 0 {
		w.status = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged writes one debug line per request (only when debug is on, so the
// hot path pays nothing otherwise) and errors at error level.
func (s *Server) logged(which string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", "api", which, "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "ms", float64(time.Since(t0).Microseconds())/1000, "remote", remoteIP(r))
	})
}

func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, api.Error{Error: "encode reply: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b = append(b, '\n')
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, status int, e api.Error) {
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) refuse(w http.ResponseWriter, e *reqError) {
	if e.status != http.StatusUnauthorized && e.status < 500 {
		s.rejected.Add(1)
	}
	if e.status >= 500 {
		s.log.Error("request failed", "status", e.status, "err", e.body.Error)
	}
	writeErr(w, e.status, e.body)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads a body up to the guard's limit into a pooled buffer;
// call release when done with the bytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), *reqError) {
	limit := s.cfg.Load().Spec.Guard.MaxBodyBytes
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	release := func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		release()
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, newReqError(http.StatusRequestEntityTooLarge, "", "the body is larger than %d bytes (spec.guard.maxBodyBytes): send less per request, or use /v1/stream", limit)
		}
		return nil, nil, newReqError(http.StatusBadRequest, "", "read the body: %v", err)
	}
	return buf.Bytes(), release, nil
}

// readBodyTo reads a body up to the guard's limit into dst's array (grown
// as needed) and returns it.
func (s *Server) readBodyTo(w http.ResponseWriter, r *http.Request, dst []byte) ([]byte, *reqError) {
	limit := s.cfg.Load().Spec.Guard.MaxBodyBytes
	if n := r.ContentLength; n >= 0 && n <= limit {
		// The length is known and allowed: one read, no limiting reader.
		dst = slices.Grow(dst[:0], int(n))[:n]
		if _, err := io.ReadFull(r.Body, dst); err != nil {
			return dst[:0], newReqError(http.StatusBadRequest, "", "read the body: %v", err)
		}
		return dst, nil
	}
	buf := bytes.NewBuffer(dst[:0])
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return dst[:0], newReqError(http.StatusRequestEntityTooLarge, "", "the body is larger than %d bytes (spec.guard.maxBodyBytes): send less per request, or use /v1/stream", limit)
		}
		return dst[:0], newReqError(http.StatusBadRequest, "", "read the body: %v", err)
	}
	return buf.Bytes(), nil
}

// readLine reads one NDJSON line of at most limit bytes. A longer line is
// skipped (long is true). err is io.EOF after the last line.
func readLine(br *bufio.Reader, limit int, dst []byte) (line []byte, long bool, err error) {
	dst = dst[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(dst)+len(chunk) > limit+1 {
				long = true
				dst = dst[:0]
			} else {
				dst = append(dst, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return dst, long, err
		}
		if n := len(dst); n > 0 && dst[n-1] == '\n' {
			dst = dst[:n-1]
		}
		return dst, long, err
	}
}
