package relay

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTestBolt(t *testing.T) Store {
	s, err := OpenBolt(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBoltConformance(t *testing.T) {
	runConformance(t, openTestBolt)
}

func TestBoltFileModeAndLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "relay.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	// A second handle on the file (another process, for flock) waits for
	// the lock and then says who has it.
	start := time.Now()
	_, err = OpenBolt(path, BoltLockTimeout(100*time.Millisecond))
	if err == nil {
		t.Fatal("a second OpenBolt of a held file succeeded")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another process") {
		t.Errorf("error does not name the file and say another process has it: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gave up after %s", took)
	}
}

func TestBoltReopenedDelivers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, status(200, func(int) bool { return false }))
	m := deliveryMessage("r1", rc.URL+"/in")
	mustEnqueue(t, s, m)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenBolt(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if st, _ := s.Stats(context.Background(), "r1", time.Now()); st.Queued != 1 || st.Bytes != m.Size() {
		t.Fatalf("after reopen: %+v", st)
	}
	w, stop := startWorker(t, s, Config{Route: "r1"})
	w.Wake()
	eventually(t, "delivery", settled(s, m.ID))
	stop()
	if hits := rc.all(); len(hits) != 1 || !bytes.Equal(hits[0].body, m.Body) || hits[0].uri != "/in" {
		t.Fatalf("%d deliveries", len(hits))
	}
}

// A lease dies with its process: after a restart the message is due again
// (at least once).
func TestBoltLeaseForgottenOnRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("r1", []byte("in flight"))
	mustEnqueue(t, s, m)
	l := mustLease(t, s, "r1", time.Now(), time.Hour)
	s.Close()

	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l2 := mustLease(t, s, "r1", time.Now(), time.Hour)
	if l2.Message.ID != m.ID {
		t.Fatalf("leased %s", l2.Message.ID)
	}
	if err := s.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Ack with the old process's lease: %v", err)
	}
	if err := s.Ack(ctx, l2); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBoltEnqueue measures accepts: parallel Enqueues of 4 KiB bodies,
// each returning after its batch's commit and fsync, with bbolt's batch
// delay at 10ms (the default) and shorter. RunParallel runs GOMAXPROCS
// senders: -cpu 32 gives 32 concurrent senders on any machine. Besides
// ns/op it reports accepts/s and each Enqueue's p50 and p99.
func BenchmarkBoltEnqueue(b *testing.B) {
	for _, delay := range []time.Duration{DefaultBoltBatchDelay, 5 * time.Millisecond, 2 * time.Millisecond} {
		b.Run("delay="+delay.String(), func(b *testing.B) { benchEnqueue(b, delay) })
	}
}

func benchEnqueue(b *testing.B, delay time.Duration) {
	s, err := OpenBolt(filepath.Join(b.TempDir(), "relay.db"), BoltBatchDelay(delay))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := bytes.Repeat([]byte("x"), 4096)
	hdr := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_x"}, "User-Agent": {"bench"}}
	var mu sync.Mutex
	var took []time.Duration
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		var mine []time.Duration
		for pb.Next() {
			now := time.Now()
			m := &Message{ID: testID(), Route: "bench", URL: "http://127.0.0.1:9/hook", Method: "POST", Header: hdr, Body: body, Created: now, NextAt: now}
			if err := s.Enqueue(ctx, m, 0); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(now))
		}
		mu.Lock()
		took = append(took, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accepts/s")
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	}
}
