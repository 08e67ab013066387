package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

var errBodyTooLarge = errors.New("body is larger than max_body")

// maxPrealloc bounds the buffer allocated on a Content-Length alone.
const maxPrealloc = 1 << 20

// readBody reads the whole body, at most max bytes, feeding every byte to w
// as it arrives so the signature is computed in the same pass.
func readBody(rw http.ResponseWriter, r *http.Request, max int64, w io.Writer) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body := http.MaxBytesReader(rw, r.Body, max)
	defer body.Close()

	size := 4096
	if r.ContentLength >= 0 {
		// The announced size, so a correct client costs one allocation (the
		// final read into scratch confirms the end); but at most
		// maxPrealloc up front, so a client that announces a large body
		// must send it before it costs memory.
		size = int(min(r.ContentLength, maxPrealloc))
	}
	buf := make([]byte, 0, size)
	var scratch [1]byte
	for {
		dst := buf[len(buf):cap(buf)]
		if len(dst) == 0 {
			if r.ContentLength >= 0 && int64(len(buf)) == r.ContentLength {
				dst = scratch[:]
			} else {
				buf = append(buf, 0)[:len(buf)]
				dst = buf[len(buf):cap(buf)]
			}
		}
		n, err := body.Read(dst)
		if n > 0 {
			if &dst[0] == &scratch[0] {
				buf = append(buf, scratch[:n]...)
			} else {
				buf = buf[:len(buf)+n]
			}
			w.Write(dst[:n])
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errBodyTooLarge
			}
			return nil, err
		}
	}
}

// restoreBody puts the exact bytes back for the next handler, with a
// length, so reverse_proxy sends them with a Content-Length.
func restoreBody(r *http.Request, body []byte) {
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	if len(body) == 0 {
		r.Body = http.NoBody
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
}
