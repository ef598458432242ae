package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/olops/olops/internal/api"
)

// reqError is a refused request: the status and the JSON error body.
type reqError struct {
	status int
	body   api.Error
}

func (e *reqError) Error() string { return e.body.Error }

func newReqError(status int, field, format string, a ...any) *reqError {
	return &reqError{status: status, body: api.Error{Error: fmt.Sprintf(format, a...), Field: field}}
}

func fromAPI(status int, e *api.Error) *reqError {
	return &reqError{status: status, body: *e}
}

// decodeJSON decodes exactly one JSON value into v, refusing unknown
// fields, and says where a syntax or type error is.
func decodeJSON(b []byte, v any) *reqError {
	if len(bytes.TrimSpace(b)) == 0 {
		return newReqError(http.StatusBadRequest, "", "empty body: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(b, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newReqError(http.StatusBadRequest, "", "the body holds more than one JSON value: send one object (or use /v1/stream for NDJSON)")
	}
	return nil
}

func jsonError(b []byte, err error) *reqError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		e := newReqError(http.StatusBadRequest, "", "malformed JSON: %v", se)
		e.body.Line = lineAt(b, se.Offset)
		return e
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newReqError(http.StatusBadRequest, "", "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &te):
		field := te.Field
		e := newReqError(http.StatusBadRequest, field, "%s must be %s, not a JSON %s", orBody(field), kindName(te.Type.String()), te.Value)
		e.body.Line = lineAt(b, te.Offset)
		return e
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return newReqError(http.StatusBadRequest, f, "unknown field %q", f)
	}
	return newReqError(http.StatusBadRequest, "", "malformed JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map["), goType == "api.Features":
		return "an object"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a number"
	case strings.HasPrefix(goType, "api."), strings.HasPrefix(goType, "server."), strings.HasPrefix(goType, "struct"):
		return "an object"
	}
	return goType
}

// lineAt is the 1-based line of byte offset off in b.
func lineAt(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	return 1 + bytes.Count(b[:off], []byte{'\n'})
}

func decodePredict(b []byte) (*api.PredictRequest, *reqError) {
	var r api.PredictRequest
	if err := decodeJSON(b, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Features != nil && r.Instances != nil:
		return nil, newReqError(http.StatusBadRequest, "instances", "give features (one sample) or instances (a batch), not both")
	case r.Features == nil && r.Instances == nil:
		return nil, newReqError(http.StatusBadRequest, "features", "missing features: send {\"features\": {...}} or {\"instances\": [{...}, ...]}")
	case r.Instances != nil && r.ID != "":
		return nil, newReqError(http.StatusBadRequest, "id", "an id names one prediction: leave it out of a batch")
	}
	for i, in := range r.Instances {
		if in == nil {
			return nil, newReqError(http.StatusBadRequest, fmt.Sprintf("instances[%d]", i), "an instance must be an object of features, not null")
		}
	}
	return &r, nil
}

func decodeLearn(b []byte) (*api.LearnRequest, *reqError) {
	var r api.LearnRequest
	if err := decodeJSON(b, &r); err != nil {
		return nil, err
	}
	if r.Features == nil && r.ID == "" {
		return nil, newReqError(http.StatusBadRequest, "features", "missing features: send {\"features\": {...}, \"label\": ...} or {\"id\": \"<prediction id>\", \"label\": ...}")
	}
	return &r, nil
}

func decodeStreamLine(b []byte) (*api.StreamLine, *reqError) {
	var r api.StreamLine
	if err := decodeJSON(b, &r); err != nil {
		return nil, err
	}
	if r.Features == nil {
		return nil, newReqError(http.StatusBadRequest, "features", "missing features: each line is {\"features\": {...}, \"label\": ...}")
	}
	return &r, nil
}

// labelOf reads a request's label, or the target column among the
// features; ok is false when there is none.
func labelOf(label any, f api.Features, target string) (string, *reqError) {
	if label == nil {
		label = f[target]
	}
	if label == nil {
		return "", newReqError(http.StatusUnprocessableEntity, "label", "missing label: give \"label\" (or the target %q among the features)", target)
	}
	s, ok := labelString(label)
	if !ok {
		return "", newReqError(http.StatusUnprocessableEntity, "label", "a label must be a non-empty string, a number or a boolean, not %s", jsonKind(label))
	}
	return s, nil
}
