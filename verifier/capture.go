package verifier

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
)

// Capture is a recorded request: what the `webhook verify` subcommand reads.
type Capture struct {
	Method string
	// URL is the request-target as captured ("/path?q", or a whole URL in
	// a JSON capture); Host the Host header of a raw HTTP one.
	URL    string
	Host   string
	Header http.Header
	Body   []byte
}

// captureJSON is the JSON form of a capture. Header values may be a string
// or a list of strings; the body is text, or base64 in body_base64.
type captureJSON struct {
	Method     string                     `json:"method"`
	URL        string                     `json:"url"`
	Headers    map[string]json.RawMessage `json:"headers"`
	Body       *string                    `json:"body"`
	BodyBase64 *string                    `json:"body_base64"`
}

// ReadCapture reads a captured request: raw HTTP/1.1 (request line,
// headers, blank line, body) or a JSON object. The body of raw HTTP is
// everything after the blank line, exactly, unless Content-Length or
// chunked encoding says otherwise.
func ReadCapture(data []byte) (*Capture, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return readJSONCapture(trimmed)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(trimmed)))
	if err != nil {
		return nil, fmt.Errorf("not a raw HTTP/1.1 request or a JSON capture: %w", err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("reading captured body: %w", err)
	}
	if len(req.TransferEncoding) == 0 && req.Header.Get("Content-Length") == "" {
		// No length given: the capture's remaining bytes are the body.
		body = rest(trimmed)
	}
	return &Capture{Method: req.Method, URL: req.RequestURI, Host: req.Host, Header: req.Header, Body: body}, nil
}

// rest returns what follows the header block of raw HTTP.
func rest(raw []byte) []byte {
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(raw, sep); i >= 0 {
			return raw[i+len(sep):]
		}
	}
	return nil
}

func readJSONCapture(data []byte) (*Capture, error) {
	var cj captureJSON
	if err := json.Unmarshal(data, &cj); err != nil {
		return nil, fmt.Errorf("JSON capture: %w", err)
	}
	c := &Capture{Method: cj.Method, URL: cj.URL, Header: make(http.Header)}
	for name, raw := range cj.Headers {
		var one string
		var many []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			many = []string{one}
		case json.Unmarshal(raw, &many) == nil:
		default:
			return nil, fmt.Errorf("JSON capture: header %s must be a string or a list of strings", name)
		}
		c.Header[textproto.CanonicalMIMEHeaderKey(name)] = append(c.Header[textproto.CanonicalMIMEHeaderKey(name)], many...)
	}
	switch {
	case cj.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*cj.BodyBase64)
		if err != nil {
			return nil, fmt.Errorf("JSON capture: body_base64: %w", err)
		}
		c.Body = b
	case cj.Body != nil:
		c.Body = []byte(*cj.Body)
	}
	return c, nil
}
