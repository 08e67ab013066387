package integration

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/replay/redistest"
)

// Ports of the two hookguard processes the Redis replay tests start:
// their own, clear of caddytest's (2999, 9080, 9443) and the burst
// test's (2996, 9380).
const (
	redisAdminPortA = 2992
	redisAdminPortB = 2993
	redisHTTPPortA  = 9390
	redisHTTPPortB  = 9391
)

// deliveryCounter is the app behind both instances: it counts the
// requests that reach it by Webhook-Id, and can hold each one for a
// while (so that copies of a webhook overlap it in flight).
type deliveryCounter struct {
	srv  *httptest.Server
	mu   sync.Mutex
	byID map[string]int
	hold time.Duration
}

func newDeliveryCounter(t *testing.T) *deliveryCounter {
	t.Helper()
	u := &deliveryCounter{byID: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.byID[r.Header.Get("Webhook-Id")]++
		hold := u.hold
		u.mu.Unlock()
		time.Sleep(hold)
		io.WriteString(w, "app got it")
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// of is how often the webhook id reached the app.
func (u *deliveryCounter) of(id string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byID[id]
}

// total is how many requests reached the app.
func (u *deliveryCounter) total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.byID {
		n += c
	}
	return n
}

func (u *deliveryCounter) setHold(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hold = d
}

// redisInstance is one hookguard process of a Redis replay test.
type redisInstance struct {
	name string
	base string // http://127.0.0.1:port
	logs *syncBuffer
}

// redisSite is an instance's Caddyfile. Every route verifies Standard
// Webhooks with the secret in {env.HG_REPLAY_SECRET}:
//
//	/redis  replay redis (503 while Redis is unreachable)
//	/redis-other  the same for another sender: the secret in
//	        {env.HG_REPLAY_SECRET_OTHER}, no name either
//	/open   replay redis with fail_open
//	/plain  no replay (the latency baseline)
func redisSite(adminPort, httpPort int, redisAddr, upstream string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	http_port %d
	auto_https off
	persist_config off
	grace_period 1ns
}
http://127.0.0.1:%d {
	bind 127.0.0.1
	handle /redis {
		webhook_verify standard {env.HG_REPLAY_SECRET} {
			replay redis {
				address %s
			}
		}
		reverse_proxy %s
	}
	handle /redis-other {
		webhook_verify standard {env.HG_REPLAY_SECRET_OTHER} {
			replay redis {
				address %s
			}
		}
		reverse_proxy %s
	}
	handle /open {
		webhook_verify standard {env.HG_REPLAY_SECRET} {
			name open
			replay redis {
				address %s
				fail_open
			}
		}
		reverse_proxy %s
	}
	handle /plain {
		webhook_verify standard {env.HG_REPLAY_SECRET} {
			name plain
		}
		reverse_proxy %s
	}
%s
}
`, adminPort, httpPort, httpPort, redisAddr, upstream, redisAddr, upstream, redisAddr, upstream, upstream, errorsBlock)
}

// startRedisInstance runs the built hookguard binary on redisSite with a
// private home, stops it when the test ends, and waits until it serves.
func startRedisInstance(t *testing.T, name string, adminPort, httpPort int, redisAddr, upstream, secret, other string) *redisInstance {
	t.Helper()
	bin := signBinary(t)
	home := t.TempDir()
	cfg := filepath.Join(home, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(redisSite(adminPort, httpPort, redisAddr, upstream)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "TMPDIR="+home,
		"HG_REPLAY_SECRET="+secret, "HG_REPLAY_SECRET_OTHER="+other)
	logs := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		// Reaps the process; how it ended is in its log.
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("hookguard %s log:\n%s", name, logs.String())
		}
	})
	in := &redisInstance{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), logs: logs}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort)); err == nil {
			c.Close()
			return in
		}
		select {
		case <-exited:
			t.Fatalf("hookguard %s exited at start:\n%s", name, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookguard %s did not start listening:\n%s", name, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisPair is the setup of the Redis replay tests: one real Redis, one
// app, two hookguard processes in front of it sharing the Redis.
type redisPair struct {
	redis  *redistest.Server
	up     *deliveryCounter
	a, b   *redisInstance
	secret string // of every route but /redis-other
	other  string // of /redis-other
	sign   signFunc
}

func startRedisPair(t *testing.T) *redisPair {
	t.Helper()
	skipShort(t)
	p := &redisPair{redis: redistest.Start(t), up: newDeliveryCounter(t), secret: whsecSecret(t), other: whsecSecret(t), sign: presetSigner(t, "standard")}
	upAddr := strings.TrimPrefix(p.up.srv.URL, "http://")
	p.a = startRedisInstance(t, "A", redisAdminPortA, redisHTTPPortA, p.redis.Addr, upAddr, p.secret, p.other)
	p.b = startRedisInstance(t, "B", redisAdminPortB, redisHTTPPortB, p.redis.Addr, upAddr, p.secret, p.other)
	return p
}

// signedHook is one signed delivery, sent as often as a test likes.
type signedHook struct {
	id     string
	body   []byte
	header http.Header
}

func (p *redisPair) webhook(t *testing.T, body []byte) signedHook {
	t.Helper()
	id := deliveryID(t)
	return signedHook{id: id, body: body, header: p.sign(p.secret, body, id, time.Now())}
}

// redisClient sends the webhooks of these tests: keep-alive, enough idle
// connections for the concurrency test.
var redisClient = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	Timeout:   30 * time.Second,
}

// post sends w to path on in. Safe in goroutines: it fails no test.
func (w signedHook) post(in *redisInstance, path string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, in.base+path, bytes.NewReader(w.body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range w.header {
		req.Header[k] = slices.Clone(vs)
	}
	resp, err := redisClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{Status: resp.StatusCode, Body: string(b), Header: resp.Header}, nil
}

// mustPost is post for the test's own goroutine.
func (w signedHook) mustPost(t *testing.T, in *redisInstance, path string) answer {
	t.Helper()
	a, err := w.post(in, path)
	if err != nil {
		t.Fatalf("POST %s%s: %v", in.base, path, err)
	}
	return a
}

func isDuplicate(a answer) bool {
	return a.Status == http.StatusOK && a.Header.Get("Webhook-Duplicate") == "true"
}

func isDelivered(a answer) bool {
	return a.Status == http.StatusOK && a.Header.Get("Webhook-Duplicate") == ""
}

// TestReplayRedisSharedAcrossInstances: a webhook delivered through one
// instance is a duplicate at the other, which shares its Redis; the app
// gets it once. Another sender's webhook under the same id, on another
// route, is its own delivery.
func TestReplayRedisSharedAcrossInstances(t *testing.T) {
	p := startRedisPair(t)
	for _, order := range [][2]*redisInstance{{p.a, p.b}, {p.b, p.a}} {
		first, second := order[0], order[1]
		w := p.webhook(t, []byte(`{"type":"invoice.paid","via":"`+first.name+`"}`))
		if a := w.mustPost(t, first, "/redis"); !isDelivered(a) {
			t.Fatalf("first delivery through %s: %d, duplicate %q (%q); want 200, not a duplicate",
				first.name, a.Status, a.Header.Get("Webhook-Duplicate"), a.Body)
		}
		a := w.mustPost(t, second, "/redis")
		if !isDuplicate(a) {
			t.Errorf("the same webhook at %s after delivery through %s: %d, duplicate %q (%q); want 200 + Webhook-Duplicate: true",
				second.name, first.name, a.Status, a.Header.Get("Webhook-Duplicate"), a.Body)
		}
		if n := p.up.of(w.id); n != 1 {
			t.Errorf("%s then %s: the app got the webhook %d times, want 1", first.name, second.name, n)
		}
	}

	// Another sender, with its own secret, on another route of the same
	// scheme (neither route named) uses the same delivery id, as Svix
	// does when it fans one message out to several endpoints: the Redis
	// they share must keep their deliveries apart, or the second
	// sender's webhook is dropped as a "duplicate" and lost.
	w := p.webhook(t, []byte(`{"type":"fan-out","to":"first endpoint"}`))
	if a := w.mustPost(t, p.a, "/redis"); !isDelivered(a) {
		t.Fatalf("to /redis: %d, duplicate %q (%q)", a.Status, a.Header.Get("Webhook-Duplicate"), a.Body)
	}
	body := []byte(`{"type":"fan-out","to":"second endpoint"}`)
	o := signedHook{id: w.id, body: body, header: p.sign(p.other, body, w.id, time.Now())}
	if a := o.mustPost(t, p.b, "/redis-other"); !isDelivered(a) {
		t.Errorf("the other sender's webhook under the same id, to /redis-other: %d, duplicate %q (%q); want it delivered",
			a.Status, a.Header.Get("Webhook-Duplicate"), a.Body)
	}
	if a := o.mustPost(t, p.a, "/redis-other"); !isDuplicate(a) {
		t.Errorf("the other sender's webhook sent again: %d, duplicate %q; want a duplicate", a.Status, a.Header.Get("Webhook-Duplicate"))
	}
	if n := p.up.of(w.id); n != 2 {
		t.Errorf("the app got the id %d times, want 2 (once per sender)", n)
	}
}

// TestReplayRedisConcurrency: 50 copies of one webhook sent at once, half
// to each instance, reach the app exactly once; every other copy is
// answered 409 (in flight) or 200 + Webhook-Duplicate (delivered).
func TestReplayRedisConcurrency(t *testing.T) {
	p := startRedisPair(t)
	// The app takes a moment, so that copies arrive while the first is
	// in flight as well as after it.
	p.up.setHold(100 * time.Millisecond)
	const copies = 50
	w := p.webhook(t, []byte(`{"type":"concurrent"}`))
	// Warm both instances' connections to Redis, so the copies race each
	// other rather than a dial.
	for _, in := range []*redisInstance{p.a, p.b} {
		if a := p.webhook(t, []byte(`{"type":"warm-up"}`)).mustPost(t, in, "/redis"); !isDelivered(a) {
			t.Fatalf("warm-up through %s: %d %q", in.name, a.Status, a.Body)
		}
	}
	start := make(chan struct{})
	answers := make([]answer, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		in := p.a
		if i%2 == 1 {
			in = p.b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i], errs[i] = w.post(in, "/redis")
		}()
	}
	close(start)
	wg.Wait()
	var delivered, inFlight, duplicate int
	for i, a := range answers {
		switch {
		case errs[i] != nil:
			t.Errorf("copy %d: %v", i, errs[i])
		case isDelivered(a):
			delivered++
		case a.Status == http.StatusConflict:
			inFlight++
		case isDuplicate(a):
			duplicate++
		default:
			t.Errorf("copy %d: %d, duplicate %q (%q); want 200, 409 or 200 + duplicate", i, a.Status, a.Header.Get("Webhook-Duplicate"), a.Body)
		}
	}
	t.Logf("%d copies at once to two instances: %d delivered, %d answered 409 (in flight), %d answered 200 + Webhook-Duplicate", copies, delivered, inFlight, duplicate)
	if delivered != 1 {
		t.Errorf("%d copies were answered as delivered, want 1", delivered)
	}
	if n := p.up.of(w.id); n != 1 {
		t.Errorf("the app got the webhook %d times, want exactly 1", n)
	}
}

// TestReplayRedisDown: with Redis gone, both instances answer 503 fast
// and pass nothing on, except the fail_open route, which passes requests
// on unchecked and logs it. Once Redis is back, the sender's retries of
// the refused webhooks are each delivered exactly once.
func TestReplayRedisDown(t *testing.T) {
	p := startRedisPair(t)
	// Redis is known to both instances (a pooled connection each) before
	// it dies.
	for _, in := range []*redisInstance{p.a, p.b} {
		if a := p.webhook(t, []byte(`{"type":"before"}`)).mustPost(t, in, "/redis"); !isDelivered(a) {
			t.Fatalf("before the outage, through %s: %d %q", in.name, a.Status, a.Body)
		}
	}
	p.redis.Stop()

	type refused struct {
		w  signedHook
		in *redisInstance
	}
	var pending []refused
	before := p.up.total()
	for i := range 3 {
		for _, in := range []*redisInstance{p.a, p.b} {
			w := p.webhook(t, fmt.Appendf(nil, `{"type":"during outage","n":%d}`, i))
			t0 := time.Now()
			a := w.mustPost(t, in, "/redis")
			took := time.Since(t0)
			if a.Status != http.StatusServiceUnavailable {
				t.Errorf("Redis down, %s: %d (%q), want 503", in.name, a.Status, a.Body)
			}
			if took > 3*time.Second {
				t.Errorf("Redis down, %s: the 503 took %v, want under 3s", in.name, took)
			}
			if i == 0 {
				t.Logf("Redis down, %s: %d in %v", in.name, a.Status, took.Round(time.Millisecond))
			}
			pending = append(pending, refused{w, in})
		}
	}
	if n := p.up.total() - before; n != 0 {
		t.Errorf("with Redis down, %d refused webhooks reached the app", n)
	}

	// fail_open: passed on unchecked, and logged.
	for _, in := range []*redisInstance{p.a, p.b} {
		w := p.webhook(t, []byte(`{"type":"fail open"}`))
		t0 := time.Now()
		a := w.mustPost(t, in, "/open")
		if !isDelivered(a) || p.up.of(w.id) != 1 {
			t.Errorf("fail_open with Redis down, %s: %d (%q), app got it %d times; want 200, passed on once", in.name, a.Status, a.Body, p.up.of(w.id))
		}
		if took := time.Since(t0); took > 3*time.Second {
			t.Errorf("fail_open with Redis down, %s: took %v", in.name, took)
		}
		if !strings.Contains(in.logs.String(), "passed on UNCHECKED (fail_open)") {
			t.Errorf("hookguard %s did not log the request it passed on unchecked", in.name)
		}
	}

	p.redis.Restart()
	// The sender retries each refused webhook, a few times at most,
	// alternating instances as a load balancer might, until it gets 200.
	for i, r := range pending {
		ins := []*redisInstance{r.in, p.a, p.b}
		var last answer
		ok := false
		for try := range 10 {
			in := ins[try%len(ins)]
			a, err := r.w.post(in, "/redis")
			if err != nil {
				t.Fatalf("retry of webhook %d through %s: %v", i, in.name, err)
			}
			last = a
			if a.Status == http.StatusOK {
				if isDuplicate(a) {
					t.Errorf("webhook %d: its first 200 after the outage was a duplicate: it was never delivered", i)
				}
				ok = true
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !ok {
			t.Errorf("webhook %d refused during the outage was not delivered after Redis came back: last %d %q", i, last.Status, last.Body)
		}
	}
	for i, r := range pending {
		// A replay afterwards, at either instance, is a duplicate.
		for _, in := range []*redisInstance{p.a, p.b} {
			if a := r.w.mustPost(t, in, "/redis"); !isDuplicate(a) {
				t.Errorf("webhook %d sent again to %s after its delivery: %d, duplicate %q", i, in.name, a.Status, a.Header.Get("Webhook-Duplicate"))
			}
		}
		if n := p.up.of(r.w.id); n != 1 {
			t.Errorf("webhook %d refused during the outage reached the app %d times, want exactly 1", i, n)
		}
	}
}

// TestReplayRedisValidateWithoutRedis: hookguard validate loads a config
// whose Redis is not there: the client connects lazily.
func TestReplayRedisValidateWithoutRedis(t *testing.T) {
	skipShort(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Caddyfile")
	site := redisSite(redisAdminPortA, redisHTTPPortA, dead, "127.0.0.1:1")
	// A literal secret: validate runs without the test's environment.
	site = strings.ReplaceAll(site, "{env.HG_REPLAY_SECRET}", whsecSecret(t))
	site = strings.ReplaceAll(site, "{env.HG_REPLAY_SECRET_OTHER}", whsecSecret(t))
	if err := os.WriteFile(cfg, []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	res := signRun(t, "validate", "--config", cfg)
	if res.Code != 0 || !strings.Contains(res.Stdout+res.Stderr, "Valid configuration") {
		t.Fatalf("validate with Redis at a dead address %s: exit %d\nstdout:\n%s\nstderr:\n%s", dead, res.Code, res.Stdout, res.Stderr)
	}
}

// TestReplayRedisLatency logs what replay redis adds to a verified 1 KiB
// webhook: the median of sequential requests through /redis against the
// same route without replay. It asserts nothing about time.
func TestReplayRedisLatency(t *testing.T) {
	p := startRedisPair(t)
	const n, warm = 200, 20
	body := bytes.Repeat([]byte("x"), 1<<10)
	median := func(path string) time.Duration {
		ws := make([]signedHook, warm+n)
		for i := range ws {
			ws[i] = p.webhook(t, body)
		}
		var took []time.Duration
		for i, w := range ws {
			t0 := time.Now()
			a := w.mustPost(t, p.a, path)
			d := time.Since(t0)
			if !isDelivered(a) {
				t.Fatalf("%s: %d %q", path, a.Status, a.Body)
			}
			if i >= warm {
				took = append(took, d)
			}
		}
		slices.Sort(took)
		return took[len(took)/2]
	}
	// Interleaved runs, so drift of the machine hits both alike.
	var plain, redis []time.Duration
	for range 3 {
		plain = append(plain, median("/plain"))
		redis = append(redis, median("/redis"))
	}
	slices.Sort(plain)
	slices.Sort(redis)
	mp, mr := plain[1], redis[1]
	t.Logf("median of %d sequential verified 1 KiB webhooks (median of 3 runs): no replay %v, replay redis %v, added by a Redis round trip %v",
		n, mp, mr, mr-mp)
	if p.up.total() != 3*2*(warm+n) {
		t.Errorf("the app got %d requests, want %d", p.up.total(), 3*2*(warm+n))
	}
}
