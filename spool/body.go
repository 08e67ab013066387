package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrSpool marks a failure to write a body to its temporary file (a full
// disk, a missing temp directory): the server's fault, not the client's.
var ErrSpool = errors.New("spooling body to a temporary file")

// ErrReleased is what reading a body gives after it was released: an
// error, never another request's bytes.
var ErrReleased = errors.New("spool: read from a released body")

// maxPrealloc bounds the memory taken on an announced size alone, so a
// client that announces a large body must send it before it costs memory.
const maxPrealloc = 1 << 20

// spillChunk is the copy buffer of a body that streams to its file.
const spillChunk = 32 << 10

// TempPrefix starts the name of every temporary file a body spills to.
const TempPrefix = "hookguard-"

// Body is a request body read whole, held in memory or in a temporary
// file. It is an io.ReadCloser (and io.WriterTo) that gives the exact bytes
// read, for the next handler.
//
// Its memory and file are given back once nobody can need them: when it
// has been read to the end and closed (what an HTTP transport does once it
// has sent it), or when Release says the request is over, whichever comes
// first. A body closed before its end (a transport that failed to dial,
// and may retry with the same body) stays readable until Release. A read
// in progress delays the release to its end; reading after the release
// fails with ErrReleased.
type Body struct {
	mu       sync.Mutex
	budget   *Budget
	buf      []byte // the bytes, while in memory (pooled)
	reserved int64  // bytes of budget held for buf
	file     *os.File
	name     string // the file's name while it is still linked (not Unix)
	size     int64
	off      int64
	busy     int  // reads in progress
	pending  bool // release when the last read in progress ends
	released bool
	spooled  bool
}

// Read reads src to its end into a new Body, writing every byte to w as
// it arrives, so a signature is computed in the same pass; w must not fail
// (a hash, io.Discard). size is the length the sender announced, or -1.
// The bytes stay in memory while budget grants them; once it does not,
// they move to a temporary file in dir (os.TempDir() if empty) and the
// rest of the body streams there. On error nothing is kept.
func Read(src io.Reader, size int64, budget *Budget, dir string, w io.Writer) (*Body, error) {
	b := &Body{budget: budget}
	if err := b.fill(src, size, dir, w); err != nil {
		b.mu.Lock()
		b.releaseLocked()
		b.mu.Unlock()
		return nil, err
	}
	return b, nil
}

func (b *Body) fill(src io.Reader, size int64, dir string, w io.Writer) error {
	if size != 0 {
		first := 4096
		if size > 0 {
			first = int(min(size, maxPrealloc))
		}
		if !b.grow(first) {
			return b.spill(src, dir, w, nil)
		}
	}
	var scratch [1]byte
	for {
		dst := b.buf[len(b.buf):cap(b.buf)]
		if len(dst) == 0 {
			if size >= 0 && int64(len(b.buf)) >= size {
				// Announced size reached: one more read confirms the end
				// without growing the buffer.
				dst = scratch[:]
			} else {
				next := max(2*cap(b.buf), 4096)
				if size > int64(len(b.buf)) && int64(next) > size {
					next = int(size)
				}
				if !b.grow(next) {
					return b.spill(src, dir, w, nil)
				}
				dst = b.buf[len(b.buf):cap(b.buf)]
			}
		}
		n, err := src.Read(dst)
		if n > 0 {
			_, _ = w.Write(dst[:n]) // w hashes the body: its writes do not fail
			if &dst[0] == &scratch[0] {
				// More than announced (a source that does not hold the
				// sender to its length): keep it all the same.
				size = -1
				if !b.grow(max(2*cap(b.buf), 4096)) {
					return b.spill(src, dir, w, scratch[:n])
				}
				b.buf = append(b.buf, scratch[:n]...)
			} else {
				b.buf = b.buf[:len(b.buf)+n]
			}
			b.size = int64(len(b.buf))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// grow moves the bytes to a buffer with room for n, charging the budget
// first; it reports false, changing nothing, if the budget is spent.
func (b *Body) grow(n int) bool {
	if n <= cap(b.buf) {
		return true
	}
	c := int64(allocSize(n))
	if b.budget == nil || !b.budget.TryReserve(c) {
		return false
	}
	bigger := append(getBuf(n), b.buf...)
	b.dropMemory()
	b.buf, b.reserved = bigger, c
	return true
}

// dropMemory gives the buffer back to its pool and its bytes to the budget.
func (b *Body) dropMemory() {
	if b.buf != nil {
		putBuf(b.buf)
		b.buf = nil
	}
	if b.reserved > 0 {
		b.budget.Release(b.reserved)
		b.reserved = 0
	}
}

// spill moves what was read so far, then pending (already given to w), to
// a temporary file, gives the memory back, and streams the rest of src
// there.
func (b *Body) spill(src io.Reader, dir string, w io.Writer, pending []byte) error {
	f, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSpool, err)
	}
	b.file, b.spooled = f, true
	// Unlinked at once where the system allows it (Unix): the file then
	// lives exactly as long as the descriptor, and nothing is left behind
	// even if the process dies. Elsewhere it is removed on release.
	if os.Remove(f.Name()) != nil {
		b.name = f.Name()
	}
	for _, p := range [][]byte{b.buf, pending} {
		if _, err := f.Write(p); err != nil {
			return fmt.Errorf("%w: %v", ErrSpool, err)
		}
	}
	b.size = int64(len(b.buf) + len(pending))
	b.dropMemory()
	chunk := getBuf(spillChunk)[:spillChunk]
	defer putBuf(chunk)
	for {
		n, err := src.Read(chunk)
		if n > 0 {
			_, _ = w.Write(chunk[:n]) // w hashes the body: its writes do not fail
			if _, werr := f.Write(chunk[:n]); werr != nil {
				return fmt.Errorf("%w: %v", ErrSpool, werr)
			}
			b.size += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Len is the size of the body in bytes.
func (b *Body) Len() int64 { return b.size }

// Spooled reports whether the body went to a temporary file.
func (b *Body) Spooled() bool { return b.spooled }

// begin starts a read: it reports the offset, or false once released.
func (b *Body) begin() (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return 0, false
	}
	b.busy++
	return b.off, true
}

// end finishes a read that consumed n bytes, and carries out a release
// that waited for it.
func (b *Body) end(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.off += n
	b.busy--
	if b.pending && b.busy == 0 {
		b.releaseLocked()
	}
}

func (b *Body) Read(p []byte) (int, error) {
	off, ok := b.begin()
	if !ok {
		return 0, ErrReleased
	}
	var n int
	var err error
	switch {
	case off >= b.size:
		err = io.EOF
	case b.file != nil:
		n, err = b.file.ReadAt(p[:min(int64(len(p)), b.size-off)], off)
		if err == io.EOF && n > 0 {
			err = nil
		}
	default:
		n = copy(p, b.buf[off:])
	}
	b.end(int64(n))
	return n, err
}

// WriteTo sends the rest of the body in one write from memory, or copies
// it from the file (with sendfile where the writer allows it).
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	off, ok := b.begin()
	if !ok {
		return 0, ErrReleased
	}
	var n int64
	var err error
	switch {
	case off >= b.size:
	case b.file != nil:
		n, err = io.Copy(w, io.NewSectionReader(b.file, off, b.size-off))
	default:
		var m int
		m, err = w.Write(b.buf[off:])
		n = int64(m)
	}
	b.end(n)
	return n, err
}

// Close gives the memory or file back if the body was read to its end;
// otherwise the body stays readable (a retry may read it again) until
// Release.
func (b *Body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.off >= b.size {
		b.releaseLocked()
	}
	return nil
}

// Release says the request is over: the memory or file goes back now, or
// at the end of a read in progress. It may be called more than once, and
// on a nil Body.
func (b *Body) Release() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releaseLocked()
}

func (b *Body) releaseLocked() {
	if b.released {
		return
	}
	if b.busy > 0 {
		b.pending = true
		return
	}
	b.released = true
	b.dropMemory()
	if b.file != nil {
		b.file.Close()
		if b.name != "" {
			_ = os.Remove(b.name) // best effort: the file is already closed and freed
		}
		b.file = nil
	}
}
