package replay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/replay/redistest"
)

func newTestRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	r, err := NewRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// testPrefix keeps tests that share a server apart.
func testPrefix(t testing.TB) string { return "test:" + t.Name() + ":" }

func TestRedisSemantics(t *testing.T) {
	srv := redistest.Start(t)
	testSemantics(t, func(t *testing.T) Store {
		return newTestRedis(t, RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)})
	}, time.Sleep)
}

// TestRedisOneWinner: 50 goroutines on two clients (two instances) race
// for one key; exactly one reserves it.
func TestRedisOneWinner(t *testing.T) {
	srv := redistest.Start(t)
	opts := RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)}
	testOneWinner(t, []Store{newTestRedis(t, opts), newTestRedis(t, opts)})
}

// TestRedisOwnership: one instance never commits or releases another's
// reservation, even one whose hold ended and was taken over.
func TestRedisOwnership(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	opts := RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)}
	a, b := newTestRedis(t, opts), newTestRedis(t, opts)

	st, tokA, err := a.Reserve(ctx, "k", 100*time.Millisecond)
	if err != nil || st != Reserved {
		t.Fatalf("a reserve: %v %v", st, err)
	}
	if st, _, _ := b.Reserve(ctx, "k", time.Minute); st != InFlight {
		t.Fatalf("b sees %v, want in flight", st)
	}
	// b guessing tokens: neither a made-up one nor a's own value works
	// without the token itself.
	for _, tok := range []Token{"x", "r:" + tokA, tokA[:len(tokA)-1]} {
		b.Release(ctx, "k", tok)
		b.Commit(ctx, "k", tok, time.Hour)
	}
	if st, _, _ := b.Reserve(ctx, "k", time.Minute); st != InFlight {
		t.Fatalf("after b's attempts: %v, want in flight", st)
	}
	// a's hold ends; b takes the key; a, late, can neither commit nor
	// release b's reservation.
	time.Sleep(150 * time.Millisecond)
	st, tokB, err := b.Reserve(ctx, "k", time.Minute)
	if err != nil || st != Reserved {
		t.Fatalf("b reserve after a's hold: %v %v", st, err)
	}
	if tokB == tokA {
		t.Fatal("two reservations with one token")
	}
	if err := a.Release(ctx, "k", tokA); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, "k", tokA, time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := a.Reserve(ctx, "k", time.Minute); st != InFlight {
		t.Fatalf("a's late commit or release touched b's reservation: %v", st)
	}
	if err := b.Commit(ctx, "k", tokB, time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := a.Reserve(ctx, "k", time.Minute); st != Delivered {
		t.Fatalf("a sees %v after b's commit, want delivered", st)
	}
}

// TestRedisUnavailable: Redis killed mid-test answers ErrUnavailable
// fast; once it is back the same store works again.
func TestRedisUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	r := newTestRedis(t, RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)})
	if _, _, err := r.Reserve(ctx, "before", time.Minute); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	for i := range 3 { // a pooled connection, then fresh dials
		start := time.Now()
		_, _, err := r.Reserve(ctx, fmt.Sprint("down", i), time.Minute)
		took := time.Since(start)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("reserve %d with Redis down: %v", i, err)
		}
		t.Logf("reserve %d with Redis down: %v after %v", i, err, took)
		if took > 2*time.Second {
			t.Errorf("reserve %d took %v", i, took)
		}
	}
	for _, err := range []error{r.Commit(ctx, "k", "t", time.Minute), r.Release(ctx, "k", "t")} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("commit or release with Redis down: %v", err)
		}
	}

	srv.Restart()
	// go-redis probes a refused server once a second before it dials
	// for commands again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, tok, err := r.Reserve(ctx, "after", time.Minute)
		if err == nil {
			if st != Reserved {
				t.Fatalf("after restart: %v", st)
			}
			if err := r.Commit(ctx, "after", tok, time.Minute); err != nil {
				t.Fatal(err)
			}
			break
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _, err := r.Reserve(ctx, "after", time.Minute); err != nil || st != Delivered {
		t.Fatalf("after restart: %v %v", st, err)
	}
}

// TestRedisPaused: a Redis that accepts connections but does not answer
// costs at most the operation's Timeout, then works again when resumed.
func TestRedisPaused(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	r := newTestRedis(t, RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)})
	if _, _, err := r.Reserve(ctx, "before", time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	start := time.Now()
	_, _, err := r.Reserve(ctx, "paused", time.Minute)
	took := time.Since(start)
	srv.Resume()
	t.Logf("reserve with Redis paused: %v after %v", err, took)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reserve with Redis paused: %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, err := r.Reserve(ctx, "after", time.Minute)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after resume: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisStalledReserveIsReleased: a reserve that timed out while Redis
// was stalled still runs once Redis answers again; the store releases that
// reservation by itself, so the sender's retry is not answered 409 for the
// whole hold (minutes) but delivered within seconds.
func TestRedisStalledReserveIsReleased(t *testing.T) {
	srv := redistest.Start(t)
	r := newTestRedis(t, RedisOptions{Address: srv.Addr})
	ctx := context.Background()
	if _, _, err := r.Reserve(ctx, "warm", time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	_, _, err := r.Reserve(ctx, "stalled", 5*time.Minute)
	srv.Resume()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reserve with Redis stalled: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, tok, err := r.Reserve(ctx, "stalled", 5*time.Minute)
		if err == nil && st == Reserved {
			_ = r.Release(ctx, "stalled", tok)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after Redis came back, the retry still gets %v, %v: the stalled reservation was never released", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRedisReserveRetry: go-redis retries a command whose answer was
// lost; the reserve script then finds its own token and answers
// Reserved again, not InFlight (which would strand the reservation).
func TestRedisReserveRetry(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	r := newTestRedis(t, RedisOptions{Address: srv.Addr, Prefix: testPrefix(t)})
	keys := []string{r.prefix + "k"}
	for i, want := range []int{0, 0} {
		n, err := reserveScript.Run(ctx, r.client, keys, "r:tok", 60000).Int()
		if err != nil || n != want {
			t.Fatalf("run %d: %d %v, want %d", i, n, err, want)
		}
	}
	if n, _ := reserveScript.Run(ctx, r.client, keys, "r:other", 60000).Int(); n != 1 {
		t.Fatalf("another token: %d, want 1 (in flight)", n)
	}
}

// TestRedisLazy: NewRedis does not dial, so a configuration loads while
// Redis is down; the first operation dials.
func TestRedisLazy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	r := newTestRedis(t, RedisOptions{Address: l.Addr().String(), ReadTimeout: 100 * time.Millisecond})
	select {
	case <-accepted:
		t.Fatal("NewRedis dialled")
	case <-time.After(200 * time.Millisecond):
	}
	if _, _, err := r.Reserve(context.Background(), "k", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reserve against a non-Redis: %v", err)
	}
	select {
	case <-accepted:
	case <-time.After(time.Second):
		t.Fatal("Reserve did not dial")
	}
	l.Close()

	// A closed port: no error until used, then ErrUnavailable.
	dead := newTestRedis(t, RedisOptions{Address: l.Addr().String()})
	if _, _, err := dead.Reserve(context.Background(), "k", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reserve on a closed port: %v", err)
	}
}

func TestRedisClose(t *testing.T) {
	srv := redistest.Start(t)
	r := newTestRedis(t, RedisOptions{Address: srv.Addr})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Reserve(context.Background(), "k", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reserve after close: %v", err)
	}
}

// TestRedisAuth: a password from the options reaches a server that
// requires one; a wrong one is ErrUnavailable, and the error does not
// echo it.
func TestRedisAuth(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "s3cret-pass")
	ctx := context.Background()
	good := newTestRedis(t, RedisOptions{URL: "redis://" + srv.Addr + "/2", Password: "s3cret-pass"})
	if _, _, err := good.Reserve(ctx, "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	bad := newTestRedis(t, RedisOptions{URL: "redis://:wrong-pass@" + srv.Addr})
	_, _, err := bad.Reserve(ctx, "k", time.Minute)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-pass") {
		t.Fatalf("error echoes the password: %v", err)
	}
}

func TestRedisOptions(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    RedisOptions
		wantErr string
		check   func(t *testing.T, r *Redis)
	}{
		{name: "neither", opts: RedisOptions{}, wantErr: "address or a url"},
		{name: "both", opts: RedisOptions{Address: "a:1", URL: "redis://a:1"}, wantErr: "both"},
		{name: "no port", opts: RedisOptions{Address: "redis.internal"}, wantErr: "address"},
		{name: "bad url", opts: RedisOptions{URL: "http://a:1"}, wantErr: "invalid URL scheme"},
		{name: "defaults", opts: RedisOptions{Address: "a:1"}, check: func(t *testing.T, r *Redis) {
			o := r.client.Options()
			if r.prefix != DefaultRedisPrefix || o.TLSConfig != nil || o.DialTimeout != time.Second ||
				o.ReadTimeout != time.Second || o.WriteTimeout != time.Second || o.MaxRetries != 1 {
				t.Errorf("prefix %q, options %+v", r.prefix, o)
			}
		}},
		{name: "tls", opts: RedisOptions{Address: "redis.internal:6380", TLS: true}, check: func(t *testing.T, r *Redis) {
			c := r.client.Options().TLSConfig
			if c == nil || c.ServerName != "redis.internal" || c.MinVersion != tls.VersionTLS12 {
				t.Errorf("tls config %+v", c)
			}
		}},
		{name: "rediss url", opts: RedisOptions{URL: "rediss://u:p@redis.internal:6380/3", Prefix: "x:"}, check: func(t *testing.T, r *Redis) {
			o := r.client.Options()
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "redis.internal" || o.TLSConfig.MinVersion < tls.VersionTLS12 ||
				o.Username != "u" || o.Password != "p" || o.DB != 3 || r.prefix != "x:" {
				t.Errorf("options %+v", o)
			}
		}},
		{name: "options override the url", opts: RedisOptions{URL: "redis://u:p@h:1/3", Username: "v", Password: "q", DB: 4}, check: func(t *testing.T, r *Redis) {
			o := r.client.Options()
			if o.Username != "v" || o.Password != "q" || o.DB != 4 {
				t.Errorf("options %+v", o)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewRedis(c.opts)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			c.check(t, r)
		})
	}
}

// BenchmarkRedisReserveCommit is a first delivery through Redis on this
// machine's loopback: two round trips (reserve, then commit).
func BenchmarkRedisReserveCommit(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	r := newTestRedis(b, RedisOptions{Address: srv.Addr})
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("%064x", i)
		st, tok, err := r.Reserve(ctx, key, time.Minute)
		if err != nil || st != Reserved {
			b.Fatal(st, err)
		}
		if err := r.Commit(ctx, key, tok, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisDuplicate is a replay caught by Redis: one round trip.
func BenchmarkRedisDuplicate(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	r := newTestRedis(b, RedisOptions{Address: srv.Addr})
	_, tok, err := r.Reserve(ctx, "dup", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Commit(ctx, "dup", tok, time.Hour); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if st, _, err := r.Reserve(ctx, "dup", time.Minute); err != nil || st != Delivered {
			b.Fatal(st, err)
		}
	}
}
