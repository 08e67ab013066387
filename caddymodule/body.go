package caddymodule

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookguard/hookguard/spool"
)

var (
	errBodyTooLarge = errors.New("body is larger than max_body")
	errReadTimeout  = errors.New("body not received within read_timeout")
)

// Defaults of the body options.
const (
	// DefaultBufferMemory is the memory a route holds its bodies in, in
	// total, before it spools them to temporary files: 64 MiB.
	DefaultBufferMemory = 64 << 20
	// DefaultReadTimeout bounds the time a client has to send its body.
	DefaultReadTimeout = caddy.Duration(30 * time.Second)
)

// BodyOptions bound what reading request bodies may cost a route; both
// webhook_verify and webhook_sign have them.
type BodyOptions struct {
	// BufferMemory is how many bytes of request bodies the route holds in
	// memory at once, shared by all its requests in flight. A body that
	// would go past it is spooled to a temporary file in the system's temp
	// directory while it is hashed, and the file is removed when the
	// request ends (at once on Unix, where it is unlinked as soon as it is
	// created). Default: 64 MiB.
	BufferMemory int64 `json:"buffer_memory,omitempty"`

	// ReadTimeout is how long a client has to send the whole body, from
	// when the handler starts reading it; a client that is slower gets a
	// 408 and the connection is closed. It tightens, never loosens, the
	// server's own timeouts (read_body, read_body_idle). Default: 30s.
	ReadTimeout caddy.Duration `json:"read_timeout,omitempty"`
}

func (o BodyOptions) validate() error {
	if o.BufferMemory < 0 || o.BufferMemory > maxSize {
		return fieldErrorf("buffer_memory", "buffer_memory %d is out of range: give a size from 1 byte to 1TiB, e.g. 64MiB (the default)", o.BufferMemory)
	}
	if o.ReadTimeout < 0 {
		return fieldErrorf("read_timeout", "read_timeout %s is negative: write a positive duration, e.g. 30s (the default)", time.Duration(o.ReadTimeout))
	}
	return nil
}

// readBody reads the whole body, at most max bytes, feeding every byte to w
// as it arrives so the signature is computed in the same pass. It is held
// in memory within budget, spooled to a temporary file beyond: hand it to
// restoreBody, or Release it.
func readBody(rw http.ResponseWriter, r *http.Request, max int64, budget *spool.Budget, w io.Writer) (*spool.Body, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body := http.MaxBytesReader(rw, r.Body, max)
	defer body.Close()
	b, err := spool.Read(body, r.ContentLength, budget, "", w)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	return b, nil
}

// restoreBody puts the exact bytes back for the next handler, with a
// length, so reverse_proxy sends them with a Content-Length. The caller
// releases the body once the next handler has returned; the transport
// releases it earlier if it reads it to the end and closes it.
func restoreBody(r *http.Request, body *spool.Body) {
	// Trailers arrive after the body and are covered by no signature: a
	// request's trailers (and the Trailer header announcing them) never go
	// on. Left in place they would reach the app as headers it could take
	// for verified ones, and make reverse_proxy send the body chunked.
	r.Trailer = nil
	r.Header.Del("Trailer")
	r.TransferEncoding = nil
	if body == nil || body.Len() == 0 {
		body.Release()
		r.ContentLength = 0
		r.Body = http.NoBody
		return
	}
	r.ContentLength = body.Len()
	r.Body = body
}

// isTimeout reports whether a body read failed on a read deadline: ours,
// or the server's own.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
