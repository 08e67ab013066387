package caddymodule

import (
	"errors"
	"io"
	"math/bits"
	"net/http"
	"sync"
)

var errBodyTooLarge = errors.New("body is larger than max_body")

// maxPrealloc bounds the buffer allocated on a Content-Length alone.
const maxPrealloc = 1 << 20

// Body buffers are pooled by size class, 4 KiB << k up to 4 MiB: a
// webhook gateway reads every body whole, and at tens of KiB a request the
// allocations otherwise drive the garbage collector.
const (
	minClassShift = 12
	numClasses    = 11 // 4 KiB .. 4 MiB
)

var bufPools [numClasses]sync.Pool

// class returns the size class that holds n bytes, or -1 if none does.
func class(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= numClasses {
		return -1
	}
	return c
}

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 1<<(c+minClassShift))
}

// putBuf returns a buffer from getBuf to its pool. Only call it when no
// one can read the buffer any more.
func putBuf(b []byte) {
	c := class(cap(b))
	if c < 0 || cap(b) != 1<<(c+minClassShift) {
		return
	}
	bufPools[c].Put(&b)
}

// readBody reads the whole body, at most max bytes, feeding every byte to w
// as it arrives so the signature is computed in the same pass. The buffer
// comes from the pool: hand it to restoreBody, or putBuf it.
func readBody(rw http.ResponseWriter, r *http.Request, max int64, w io.Writer) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body := http.MaxBytesReader(rw, r.Body, max)
	defer body.Close()

	size := 4096
	if r.ContentLength >= 0 {
		// The announced size (the final read into scratch confirms the
		// end), but at most maxPrealloc up front, so a client that
		// announces a large body must send it before it costs memory.
		size = int(min(r.ContentLength, maxPrealloc))
	}
	buf := getBuf(size)
	var scratch [1]byte
	for {
		dst := buf[len(buf):cap(buf)]
		if len(dst) == 0 {
			if r.ContentLength >= 0 && int64(len(buf)) == r.ContentLength {
				dst = scratch[:]
			} else {
				bigger := append(getBuf(2*cap(buf)), buf...)
				putBuf(buf)
				buf = bigger
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
			putBuf(buf)
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
		putBuf(body)
		r.Body = http.NoBody
		return
	}
	r.Body = &pooledBody{buf: body}
}

// pooledBody is a request body over a pooled buffer. The buffer goes back
// to the pool only once the body has been read to the end AND closed: the
// transport closes a body when it has sent it, and then no one reads it
// again. A body closed before the end (a failed dial, which reverse_proxy
// may retry with the same body) stays readable and is left to the garbage
// collector. Reading after the buffer went back is an error, never another
// request's bytes. The mutex orders a transport's Close against a Read in
// progress on its write loop.
type pooledBody struct {
	mu       sync.Mutex
	buf      []byte
	off      int
	recycled bool
}

func (b *pooledBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recycled {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off >= len(b.buf) {
		return 0, io.EOF
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}

// WriteTo lets the transport send the body in one write.
func (b *pooledBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recycled {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := w.Write(b.buf[b.off:])
	b.off += n
	return int64(n), err
}

func (b *pooledBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.recycled && b.off >= len(b.buf) {
		b.recycled = true
		putBuf(b.buf)
		b.buf = nil
	}
	return nil
}
