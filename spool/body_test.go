package spool

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// chunked reads src at most n bytes at a time and hides its length.
type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// openTemps lists this process's open files in dir (Linux only), deleted
// ones included: how a test sees a spool file that is already unlinked.
func openTemps(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dir, TempPrefix)) {
			out = append(out, target)
		}
	}
	return out
}

func readAll(t *testing.T, b *Body) []byte {
	t.Helper()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBudget(t *testing.T) {
	b := NewBudget(100)
	if !b.TryReserve(60) || b.TryReserve(41) || !b.TryReserve(40) || b.TryReserve(1) {
		t.Fatal("reservations do not add up to the limit")
	}
	b.Release(100)
	if b.Used() != 0 {
		t.Fatalf("used %d after releasing everything", b.Used())
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.TryReserve(10) {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 10 || b.Used() != 100 {
		t.Fatalf("granted %d reservations of 10 (used %d) from a budget of 100", granted, b.Used())
	}
}

func TestReadInMemory(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, 100_000, 1 << 20, 3<<20 + 5} {
		for _, known := range []bool{true, false} {
			data := randomBytes(size)
			budget := NewBudget(64 << 20)
			hint := int64(size)
			var src io.Reader = bytes.NewReader(data)
			if !known {
				hint, src = -1, &chunked{src, 3000}
			}
			h := sha256.New()
			b, err := Read(src, hint, budget, dir, h)
			if err != nil {
				t.Fatal(err)
			}
			if b.Spooled() {
				t.Fatalf("%d bytes spilled to a file with room in the budget", size)
			}
			if size > 0 && budget.Used() < int64(size) {
				t.Fatalf("%d bytes held in memory, budget charged %d", size, budget.Used())
			}
			if known && size > 4096 && budget.Used() > 2*int64(size) {
				t.Fatalf("%d announced bytes charged %d", size, budget.Used())
			}
			if b.Len() != int64(size) || !bytes.Equal(readAll(t, b), data) {
				t.Fatalf("size %d known %v: bytes differ", size, known)
			}
			if [32]byte(h.Sum(nil)) != sha256.Sum256(data) {
				t.Fatalf("size %d: w did not see the bytes read", size)
			}
			b.Close()
			if budget.Used() != 0 {
				t.Fatalf("size %d: %d bytes still charged after read to the end and closed", size, budget.Used())
			}
			if _, err := b.Read(make([]byte, 1)); !errors.Is(err, ErrReleased) {
				t.Fatalf("read after release: %v, want ErrReleased", err)
			}
		}
	}
}

func TestReadSpills(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		limit int64
		size  int
		known bool
	}{
		{"no_budget", 0, 10_000, true},
		{"over_budget_known", 64 << 10, 1 << 20, true},
		{"over_budget_unknown", 64 << 10, 1<<20 + 3, false},
		{"grows_past_budget", 1 << 20, 5 << 20, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := randomBytes(c.size)
			budget := NewBudget(c.limit)
			hint := int64(c.size)
			src := iotest.HalfReader(bytes.NewReader(data))
			if !c.known {
				hint, src = -1, &chunked{src, 7000}
			}
			h := sha256.New()
			b, err := Read(src, hint, budget, dir, h)
			if err != nil {
				t.Fatal(err)
			}
			if !b.Spooled() {
				t.Fatal("a body over the budget stayed in memory")
			}
			if budget.Used() != 0 {
				t.Fatalf("a spooled body still charges %d bytes of memory", budget.Used())
			}
			if [32]byte(h.Sum(nil)) != sha256.Sum256(data) {
				t.Fatal("w did not see the bytes read")
			}
			if entries, _ := os.ReadDir(dir); runtime.GOOS != "windows" && len(entries) != 0 {
				t.Fatalf("spool file still linked in %s: %v", dir, entries)
			}
			if runtime.GOOS == "linux" && len(openTemps(t, dir)) != 1 {
				t.Fatalf("open spool files: %v, want one", openTemps(t, dir))
			}
			// A transport closes a body it failed to send; a retry reads it again.
			b.Close()
			if b.Len() != int64(c.size) || !bytes.Equal(readAll(t, b), data) {
				t.Fatal("spooled bytes differ")
			}
			b.Close()
			if runtime.GOOS == "linux" && len(openTemps(t, dir)) != 0 {
				t.Fatalf("spool file still open after the body was read and closed: %v", openTemps(t, dir))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("spool files left in %s: %v", dir, entries)
			}
		})
	}
}

func TestWriteTo(t *testing.T) {
	dir := t.TempDir()
	for _, limit := range []int64{0, 1 << 20} {
		data := randomBytes(300_000)
		b, err := Read(bytes.NewReader(data), int64(len(data)), NewBudget(limit), dir, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		// Part read, the rest written in one go, as a transport may do.
		head := make([]byte, 1000)
		if _, err := io.ReadFull(b, head); err != nil {
			t.Fatal(err)
		}
		var rest bytes.Buffer
		if _, err := b.WriteTo(&rest); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(head, rest.Bytes()...), data) {
			t.Fatalf("limit %d: bytes differ", limit)
		}
		b.Release()
	}
}

// A body closed before its end (a failed dial) stays whole until the
// request is over; then it is gone, and reading it is an error.
func TestCloseBeforeEndKeepsBody(t *testing.T) {
	budget := NewBudget(1 << 20)
	data := randomBytes(50_000)
	b, err := Read(bytes.NewReader(data), int64(len(data)), budget, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if budget.Used() == 0 {
		t.Fatal("memory given back while a retry may still read the body")
	}
	if !bytes.Equal(readAll(t, b), data) {
		t.Fatal("bytes differ after an early close")
	}
	b.Release()
	b.Release()
	if budget.Used() != 0 {
		t.Fatalf("%d bytes still charged after release", budget.Used())
	}
	if _, err := b.Read(make([]byte, 10)); !errors.Is(err, ErrReleased) {
		t.Fatalf("read after release: %v", err)
	}
	if _, err := b.WriteTo(io.Discard); !errors.Is(err, ErrReleased) {
		t.Fatalf("WriteTo after release: %v", err)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	<-w.release
	return len(p), nil
}

// Release during a read in progress neither blocks nor frees the bytes
// under the reader: they go back when the read ends.
func TestReleaseWaitsForReadInProgress(t *testing.T) {
	for _, limit := range []int64{0, 1 << 20} {
		budget := NewBudget(limit)
		data := randomBytes(100_000)
		dir := t.TempDir()
		b, err := Read(bytes.NewReader(data), int64(len(data)), budget, dir, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		w := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error)
		go func() {
			_, err := b.WriteTo(w)
			done <- err
		}()
		<-w.started
		released := make(chan struct{})
		go func() { b.Release(); close(released) }()
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatal("Release blocked behind a read in progress")
		}
		if limit > 0 && budget.Used() == 0 {
			t.Fatal("memory given back under a read in progress")
		}
		close(w.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if budget.Used() != 0 {
			t.Fatalf("%d bytes still charged after the read ended", budget.Used())
		}
		if runtime.GOOS == "linux" && len(openTemps(t, dir)) != 0 {
			t.Fatal("spool file still open after the read ended")
		}
	}
}

// A body that fails to arrive keeps nothing: no memory, no file.
func TestReadErrorKeepsNothing(t *testing.T) {
	boom := errors.New("client went away")
	for _, limit := range []int64{0, 1 << 20, 1 << 30} {
		budget := NewBudget(limit)
		dir := t.TempDir()
		src := io.MultiReader(bytes.NewReader(randomBytes(2<<20)), iotest.ErrReader(boom))
		b, err := Read(src, -1, budget, dir, io.Discard)
		if !errors.Is(err, boom) || b != nil {
			t.Fatalf("limit %d: Read = %v, %v; want the source's error", limit, b, err)
		}
		if budget.Used() != 0 {
			t.Fatalf("limit %d: %d bytes charged after a failed read", limit, budget.Used())
		}
		if runtime.GOOS == "linux" && len(openTemps(t, dir)) != 0 {
			t.Fatal("spool file left open after a failed read")
		}
	}
}

// A directory that cannot hold the file is ErrSpool: the server's fault.
func TestSpoolError(t *testing.T) {
	budget := NewBudget(0)
	_, err := Read(bytes.NewReader([]byte("x")), 1, budget, filepath.Join(t.TempDir(), "missing"), io.Discard)
	if !errors.Is(err, ErrSpool) {
		t.Fatalf("err = %v, want ErrSpool", err)
	}
}

// The bytes come back exactly, whatever the budget, chunking and
// announced size.
func FuzzRead(f *testing.F) {
	f.Add([]byte("hello"), int64(4096), uint16(1), true)
	f.Add(randomBytes(10_000), int64(4096), uint16(100), false)
	f.Add(randomBytes(20_000), int64(0), uint16(7), true)
	f.Add(randomBytes(9000), int64(8192), uint16(4096), true)
	f.Fuzz(func(t *testing.T, data []byte, limit int64, chunk uint16, known bool) {
		hint := int64(len(data))
		if !known {
			hint = -1
		}
		budget := NewBudget(limit)
		h := sha256.New()
		b, err := Read(&chunked{bytes.NewReader(data), int(chunk) + 1}, hint, budget, t.TempDir(), h)
		if err != nil {
			t.Fatal(err)
		}
		if limit >= 0 && budget.Used() > limit {
			t.Fatalf("charged %d of a budget of %d", budget.Used(), limit)
		}
		if [32]byte(h.Sum(nil)) != sha256.Sum256(data) || !bytes.Equal(readAll(t, b), data) || b.Len() != int64(len(data)) {
			t.Fatal("bytes differ")
		}
		b.Close()
		if budget.Used() != 0 {
			t.Fatalf("%d bytes charged after read and closed", budget.Used())
		}
	})
}
