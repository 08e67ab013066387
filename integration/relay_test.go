package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookguard/hookguard/replay/redistest"
)

// relaySite is the Caddyfile of the conformance runs: every route relays
// to rc, keeping its messages in store.
//
//	/keep/*    URL without a path: the request's path and query are kept
//	/fixed     URL with a path and query: those are used
//	/full      max_queued 10KiB
//	/signed    sign standard, retry 1300ms (so each attempt's second differs)
//	/verified  webhook_verify standard before the relay
func relaySite(rc *relayReceiver, store, signSecret, verifySecret, keepRetry string) string {
	return fmt.Sprintf(`http://localhost:%[1]d {
	handle /keep/* {
		webhook_relay %[2]s {
			name keep
			retry %[6]s
			%[3]s
		}
	}
	handle /fixed {
		webhook_relay %[2]s/in/fixed?k=v {
			name fixed
			retry 50ms
			%[3]s
		}
	}
	handle /full {
		webhook_relay %[2]s {
			name full
			retry 50ms
			max_queued 10KiB
			%[3]s
		}
	}
	handle /signed {
		webhook_relay %[2]s {
			name signed
			retry 1300ms
			sign standard %[4]s
			%[3]s
		}
	}
	handle /verified {
		webhook_verify standard %[5]s
		webhook_relay %[2]s {
			name verified
			retry 50ms
			%[3]s
		}
	}
%[7]s
}
`, httpPort, rc.url(), store, signSecret, verifySecret, keepRetry, errorsBlock)
}

// TestRelayConformance runs the relay's promises against a real Caddy
// (in this process) with each store: bbolt in a temporary directory and a
// real redis-server.
func TestRelayConformance(t *testing.T) {
	skipShort(t)
	for _, kind := range []string{"bbolt", "redis"} {
		t.Run(kind, func(t *testing.T) {
			var arg string
			var redis *redistest.Server
			if kind == "redis" {
				redis = redistest.Start(t)
				arg = redis.Addr
			} else {
				arg = filepath.Join(t.TempDir(), "relay.db")
			}
			runRelayConformance(t, kind, arg, redis)
		})
	}
}

func runRelayConformance(t *testing.T, kind, storeArg string, redis *redistest.Server) {
	rc := newRelayReceiver(t, "", true)
	signSecret, verifySecret := whsecSecret(t), whsecSecret(t)
	wh, err := standardwebhooks.NewWebhook(signSecret)
	if err != nil {
		t.Fatal(err)
	}
	store := relayStoreLine(kind, storeArg)
	loadConfig(t, relaySite(rc, store, signSecret, verifySecret, "50ms"))
	admin := fmt.Sprintf("localhost:%d", adminPort)
	base := gatewayURL

	// The receiver's behaviour, by the key's prefix.
	var (
		mu         sync.Mutex
		gateOpen   bool                // full-*: 503 until open
		deadOK     = map[string]bool{} // dead-*: 404 until replayed
		verifyErrs []string            // signed-*: attempts the library refused
		held       = make(chan struct{}, 1)
		release    = make(chan struct{})
	)
	rc.setPolicy(func(key string, n int, r *http.Request) int {
		switch {
		case strings.HasPrefix(key, "retry-"):
			if n <= 3 {
				return http.StatusServiceUnavailable
			}
		case strings.HasPrefix(key, "dead-"):
			mu.Lock()
			defer mu.Unlock()
			if !deadOK[key] {
				return http.StatusNotFound
			}
		case strings.HasPrefix(key, "full-"):
			mu.Lock()
			defer mu.Unlock()
			if !gateOpen {
				return http.StatusServiceUnavailable
			}
		case strings.HasPrefix(key, "signed-"):
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
		case strings.HasPrefix(key, "reload-1"):
			if n == 1 {
				return http.StatusServiceUnavailable
			}
		case strings.HasPrefix(key, "reload-2"):
			if n <= 6 {
				return http.StatusServiceUnavailable
			}
		}
		return http.StatusOK
	})
	rc.setHold(func(key string, n int) {
		if key == "reload-1" && n == 2 {
			held <- struct{}{}
			<-release
		}
	})
	// The signed route's attempts are verified as they arrive, before the
	// policy answers (the hit records the body only afterwards).
	rcPolicy := rc.policy
	rc.setPolicy(func(key string, n int, r *http.Request) int {
		if strings.HasPrefix(key, "signed-") {
			body := rc.bodyOf(r)
			if err := wh.Verify(body, r.Header); err != nil {
				mu.Lock()
				verifyErrs = append(verifyErrs, fmt.Sprintf("attempt %d: %v", n, err))
				mu.Unlock()
			}
		}
		return rcPolicy(key, n, r)
	})

	// 1. Accepted, then delivered once: method, path, query, headers and
	// body as sent.
	t.Run("delivered as sent", func(t *testing.T) {
		body := randomBody(t, 10<<10)
		h := http.Header{"X-Multi": {"one", "two"}, "Content-Type": {"application/vnd.test+json"}, "X-Empty": {""}}
		status, id, _ := relaySend(t, http.MethodPut, base+"/keep/a/b%2Fc?x=1&y=%2F&x=2", "plain-1", body, h)
		if status != http.StatusAccepted || !strings.HasPrefix(id, "rly_") {
			t.Fatalf("answer %d, Webhook-Relay-Id %q; want 202 and an id", status, id)
		}
		got := rc.waitDelivered(t, "plain-1", 5*time.Second)
		if !bytes.Equal(got.Body, body) {
			t.Errorf("body differs: %d bytes delivered, %d sent", len(got.Body), len(body))
		}
		if got.Method != http.MethodPut || got.Path != "/keep/a/b/c" || got.RawQuery != "x=1&y=%2F&x=2" {
			t.Errorf("delivered %s %s ? %s; want PUT /keep/a/b/c ? x=1&y=%%2F&x=2", got.Method, got.Path, got.RawQuery)
		}
		if err := headerSent(got.Header, h); err != nil {
			t.Error(err)
		}
		if n := got.Header.Get("Content-Length"); n != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length %q, want %d", n, len(body))
		}

		status, _, _ = relaySend(t, http.MethodPost, base+"/fixed?ignored=1", "fixed-1", []byte(`{"a":1}`), nil)
		if status != http.StatusAccepted {
			t.Fatalf("/fixed answered %d", status)
		}
		got = rc.waitDelivered(t, "fixed-1", 5*time.Second)
		if got.Path != "/in/fixed" || got.RawQuery != "k=v" || string(got.Body) != `{"a":1}` {
			t.Errorf("URL with a path: delivered to %s?%s body %q; want /in/fixed?k=v", got.Path, got.RawQuery, got.Body)
		}
		eventually(t, 2*time.Second, "queues empty", func() bool {
			return relayQueueOf(t, admin, "keep").Queued == 0 && relayQueueOf(t, admin, "fixed").Queued == 0
		})
		time.Sleep(300 * time.Millisecond) // six retry periods: a second delivery would have come
		for _, k := range []string{"plain-1", "fixed-1"} {
			if n := len(rc.attempts(k)); n != 1 {
				t.Errorf("%s: %d attempts, want exactly 1", k, n)
			}
		}
	})

	// 2. 503 three times, then 200: delivered once, byte for byte each time.
	t.Run("retried until delivered", func(t *testing.T) {
		body := randomBody(t, 4<<10)
		status, _, _ := relaySend(t, http.MethodPost, base+"/keep/retry", "retry-1", body, nil)
		if status != http.StatusAccepted {
			t.Fatalf("answered %d", status)
		}
		rc.waitDelivered(t, "retry-1", 5*time.Second)
		time.Sleep(300 * time.Millisecond)
		hits := rc.attempts("retry-1")
		if len(hits) != 4 || rc.delivered("retry-1") != 1 {
			t.Fatalf("%d attempts, %d delivered; want 4 attempts (3 refused), 1 delivery", len(hits), rc.delivered("retry-1"))
		}
		for i, h := range hits {
			if !bytes.Equal(h.Body, body) || h.Path != "/keep/retry" {
				t.Errorf("attempt %d: %s, %d bytes; want /keep/retry with the body as sent", i+1, h.Path, len(h.Body))
			}
		}
	})

	// 3. 404: a dead letter, shown without body or header values, replayed
	// through the admin API and through `hookguard webhook relay`.
	t.Run("dead letter and replay", func(t *testing.T) {
		const secretish = "hdr-value-never-shown-7f3a"
		body := []byte(`{"marker":"body-never-shown-91c2"}`)
		ids := map[string]string{}
		for _, k := range []string{"dead-api", "dead-cli"} {
			status, id, _ := relaySend(t, http.MethodPost, base+"/keep/dead?token=query-never-shown", k, body, http.Header{"Authorization": {secretish}})
			if status != http.StatusAccepted {
				t.Fatalf("answered %d", status)
			}
			ids[k] = id
		}
		var dead struct {
			Dead []map[string]any `json:"dead"`
		}
		var raw []byte
		eventually(t, 5*time.Second, "two dead letters listed", func() bool {
			dead.Dead = nil
			relayAdmin(t, admin, http.MethodGet, "/webhooks/relay/dead", &dead)
			raw, _ = json.Marshal(dead)
			return strings.Contains(string(raw), ids["dead-api"]) && strings.Contains(string(raw), ids["dead-cli"])
		})
		for _, leak := range []string{secretish, "body-never-shown", "query-never-shown", "eyJtYXJrZXIi" /* base64 of the body */} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("GET /webhooks/relay/dead shows %q: %s", leak, raw)
			}
		}
		for _, m := range dead.Dead {
			if m["id"] != ids["dead-api"] {
				continue
			}
			if m["attempts"] != float64(1) || m["last_status"] != float64(404) || m["route"] != "keep" {
				t.Errorf("dead letter shown as %v; want attempts 1, last_status 404, route keep", m)
			}
		}
		if n := len(rc.attempts("dead-api")); n != 1 {
			t.Errorf("a 404 was tried %d times, want once", n)
		}
		if q := relayQueueOf(t, admin, "keep"); q.Dead < 2 {
			t.Errorf("GET /webhooks/relay/ shows %d dead letters, want >= 2", q.Dead)
		}

		mu.Lock()
		deadOK["dead-api"], deadOK["dead-cli"] = true, true
		mu.Unlock()
		if code := relayAdmin(t, admin, http.MethodPost, "/webhooks/relay/dead/"+ids["dead-api"]+"/replay", nil); code != http.StatusOK {
			t.Fatalf("POST replay: %d", code)
		}
		got := rc.waitDelivered(t, "dead-api", 5*time.Second)
		if !bytes.Equal(got.Body, body) || got.Header.Get("Authorization") != secretish || got.RawQuery != "token=query-never-shown" {
			t.Errorf("replayed message differs from the one sent: %q %v %q", got.Body, got.Header, got.RawQuery)
		}

		// The CLI, a client of the same admin API.
		out := signRun(t, "webhook", "relay", "dead", "--address", admin)
		if out.Code != 0 || !strings.Contains(out.Stdout, ids["dead-cli"]) || !strings.Contains(out.Stdout, "404") {
			t.Fatalf("webhook relay dead: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
		}
		if strings.Contains(out.Stdout, ids["dead-api"]) {
			t.Errorf("webhook relay dead still lists the replayed %s:\n%s", ids["dead-api"], out.Stdout)
		}
		if strings.Contains(out.Stdout, secretish) || strings.Contains(out.Stdout, "never-shown") {
			t.Errorf("webhook relay dead shows a secret:\n%s", out.Stdout)
		}
		out = signRun(t, "webhook", "relay", "replay", ids["dead-cli"], "--address", admin)
		if out.Code != 0 {
			t.Fatalf("webhook relay replay: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
		}
		rc.waitDelivered(t, "dead-cli", 5*time.Second)
		if code := relayAdmin(t, admin, http.MethodPost, "/webhooks/relay/dead/"+ids["dead-api"]+"/replay", nil); code == http.StatusOK {
			t.Errorf("replaying a delivered message again answered 200")
		}
		time.Sleep(200 * time.Millisecond)
		for _, k := range []string{"dead-api", "dead-cli"} {
			if n := rc.delivered(k); n != 1 {
				t.Errorf("%s delivered %d times after replay, want 1", k, n)
			}
		}
	})

	// 5. A config reload while one message's attempt is in flight and
	// another is being retried: each is delivered exactly once.
	t.Run("reload while retrying", func(t *testing.T) {
		for _, k := range []string{"reload-1", "reload-2"} {
			if status, _, _ := relaySend(t, http.MethodPost, base+"/keep/reload", k, []byte(k), nil); status != http.StatusAccepted {
				t.Fatalf("%s answered %d", k, status)
			}
		}
		select {
		case <-held: // reload-1's second attempt is at the receiver
		case <-time.After(5 * time.Second):
			t.Fatal("reload-1 was not retried")
		}
		loaded := make(chan error, 1)
		go func() {
			// A changed config: another retry schedule.
			loaded <- postLoad(t, globalOptions+relaySite(rc, store, signSecret, verifySecret, "50ms 70ms"))
		}()
		time.Sleep(300 * time.Millisecond) // the reload is under way, the attempt still held
		close(release)
		if err := <-loaded; err != nil {
			t.Fatal(err)
		}
		rc.waitDelivered(t, "reload-1", 5*time.Second)
		rc.waitDelivered(t, "reload-2", 5*time.Second)
		time.Sleep(1500 * time.Millisecond) // past a lease poll: a duplicate would have come
		if n, a := rc.delivered("reload-1"), len(rc.attempts("reload-1")); n != 1 || a != 2 {
			t.Errorf("reload-1: %d deliveries in %d attempts; want 1 in 2", n, a)
		}
		if n, a := rc.delivered("reload-2"), len(rc.attempts("reload-2")); n != 1 || a != 7 {
			t.Errorf("reload-2: %d deliveries in %d attempts; want 1 in 7", n, a)
		}
		if q := relayQueueOf(t, admin, "keep"); q.Queued != 0 {
			t.Errorf("queue after delivery: %+v", q)
		}
	})

	// 8. max_queued: 503 with Retry-After when full, room again once
	// delivered.
	t.Run("max_queued", func(t *testing.T) {
		accepted, full := 0, false
		for i := 0; i < 5 && !full; i++ {
			status, _, h := relaySend(t, http.MethodPost, base+"/full", fmt.Sprintf("full-%d", i), randomBody(t, 4<<10), nil)
			switch status {
			case http.StatusAccepted:
				accepted++
			case http.StatusServiceUnavailable:
				full = true
				if h.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
			default:
				t.Fatalf("answered %d", status)
			}
		}
		if !full || accepted < 1 || accepted > 3 {
			t.Fatalf("%d accepted of 4KiB bodies, full=%v; want 1..3 before a 503 with max_queued 10KiB", accepted, full)
		}
		mu.Lock()
		gateOpen = true
		mu.Unlock()
		for i := range accepted {
			rc.waitDelivered(t, fmt.Sprintf("full-%d", i), 5*time.Second)
		}
		eventually(t, 5*time.Second, "queue empty", func() bool { return relayQueueOf(t, admin, "full").Queued == 0 })
		if status, _, _ := relaySend(t, http.MethodPost, base+"/full", "full-again", randomBody(t, 4<<10), nil); status != http.StatusAccepted {
			t.Errorf("after delivery, answered %d; want 202", status)
		}
		rc.waitDelivered(t, "full-again", 5*time.Second)
	})

	// 9. sign standard: every attempt verifies with the official library,
	// all with one webhook-id, each with a fresh timestamp.
	t.Run("signed attempts", func(t *testing.T) {
		body := []byte(`{"type":"invoice.paid","n":42}`)
		status, id, _ := relaySend(t, http.MethodPost, base+"/signed", "signed-1", body,
			http.Header{"Webhook-Signature": {"v1,c3RhbGU="}, "Webhook-Timestamp": {"1"}, "Webhook-Id": {"stale"}})
		if status != http.StatusAccepted {
			t.Fatalf("answered %d", status)
		}
		rc.waitDelivered(t, "signed-1", 10*time.Second)
		hits := rc.attempts("signed-1")
		if len(hits) != 3 {
			t.Fatalf("%d attempts, want 3", len(hits))
		}
		mu.Lock()
		if len(verifyErrs) > 0 {
			t.Errorf("the Standard Webhooks library refused: %v", verifyErrs)
		}
		mu.Unlock()
		var last int64
		for i, h := range hits {
			if h.Header.Get("Webhook-Id") != id {
				t.Errorf("attempt %d: webhook-id %q, want the relay id %q", i+1, h.Header.Get("Webhook-Id"), id)
			}
			if n := len(h.Header.Values("Webhook-Signature")); n != 1 {
				t.Errorf("attempt %d: %d webhook-signature headers, want 1 (the sender's stale one dropped)", i+1, n)
			}
			ts, err := strconv.ParseInt(h.Header.Get("Webhook-Timestamp"), 10, 64)
			if err != nil || ts <= last || time.Since(time.Unix(ts, 0)) > time.Since(h.At)+2*time.Second {
				t.Errorf("attempt %d: webhook-timestamp %q not fresh (previous %d, received %v)", i+1, h.Header.Get("Webhook-Timestamp"), last, h.At)
			}
			last = ts
			if !bytes.Equal(h.Body, body) {
				t.Errorf("attempt %d: body %q", i+1, h.Body)
			}
		}
	})

	// 10. webhook_verify before webhook_relay: unsigned gets 401 and is
	// never queued; signed is relayed.
	t.Run("verify before relay", func(t *testing.T) {
		status, _, _ := relaySend(t, http.MethodPost, base+"/verified", "unsigned-1", []byte(`{"x":1}`), nil)
		if status != http.StatusUnauthorized {
			t.Errorf("unsigned: %d, want 401", status)
		}
		if q := relayQueueOf(t, admin, "verified"); q.Queued != 0 || q.Dead != 0 {
			t.Errorf("an unsigned request was queued: %+v", q)
		}
		body := []byte(`{"x":2}`)
		h := presetSigner(t, "standard")(verifySecret, body, deliveryID(t), time.Now())
		status, _, _ = relaySend(t, http.MethodPost, base+"/verified", "signed-in-1", body, h)
		if status != http.StatusAccepted {
			t.Fatalf("signed: %d, want 202", status)
		}
		rc.waitDelivered(t, "signed-in-1", 5*time.Second)
		if n := len(rc.attempts("unsigned-1")); n != 0 {
			t.Errorf("the unsigned request reached the receiver %d times", n)
		}
	})

	// Exactly once, for everything this run sent: past a worker's poll
	// (1s), a message acked wrongly would have been delivered again.
	t.Run("no message delivered twice", func(t *testing.T) {
		time.Sleep(1200 * time.Millisecond)
		for _, k := range rc.keys() {
			if d := rc.delivered(k); d > 1 {
				t.Errorf("%s delivered %d times", k, d)
			}
		}
	})

	// 7. Redis down: 503 with Retry-After, accepted again once it is back.
	if redis != nil {
		t.Run("redis down", func(t *testing.T) {
			redis.Stop()
			status, _, h := relaySend(t, http.MethodPost, base+"/keep/down", "down-1", []byte("x"), nil)
			if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
				t.Errorf("Redis down: %d Retry-After %q; want 503 with Retry-After", status, h.Get("Retry-After"))
			}
			redis.Restart()
			var ok bool
			eventually(t, 10*time.Second, "accepted again", func() bool {
				status, _, _ := relaySend(t, http.MethodPost, base+"/keep/down", "down-2", []byte("y"), nil)
				ok = status == http.StatusAccepted
				return ok
			})
			rc.waitDelivered(t, "down-2", 10*time.Second)
			if n := len(rc.attempts("down-1")); n != 0 {
				t.Errorf("a refused webhook reached the receiver")
			}
		})
	}
}

// TestRelaySurvivesSIGKILL: webhooks answered 202 by a hookguard killed
// with SIGKILL at once, its receiver down, are delivered after a restart
// on the same bbolt file, each exactly once.
func TestRelaySurvivesSIGKILL(t *testing.T) {
	skipShort(t)
	rc := newRelayReceiver(t, fmt.Sprintf("127.0.0.1:%d", relayRecvPort), false)
	db := filepath.Join(t.TempDir(), "relay.db")
	cfg := relayGlobal(relayAdminPortA, relayHTTPPortA) + fmt.Sprintf(`http://127.0.0.1:%d {
	bind 127.0.0.1
	webhook_relay %s {
		name crash
		retry 100ms
		timeout 2s
		store bbolt %s
	}
}
`, relayHTTPPortA, rc.url(), db)
	p := startRelayProc(t, cfg, relayHTTPPortA)
	const n = 20
	bodies := map[string][]byte{}
	for i := range n {
		k := fmt.Sprintf("crash-%d", i)
		bodies[k] = randomBody(t, 1<<10)
		status, _, _ := relaySend(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/in?i=%d", relayHTTPPortA, i), k, bodies[k], nil)
		if status != http.StatusAccepted {
			t.Fatalf("%s: %d", k, status)
		}
	}
	p.kill() // right after the last 202
	rc.start(t)
	p.run(relayHTTPPortA)
	for k, body := range bodies {
		got := rc.waitDelivered(t, k, 20*time.Second)
		if !bytes.Equal(got.Body, body) {
			t.Errorf("%s: body differs after the restart", k)
		}
	}
	time.Sleep(1200 * time.Millisecond) // past a worker's poll
	for k := range bodies {
		if d := rc.delivered(k); d != 1 {
			t.Errorf("%s delivered %d times, want 1", k, d)
		}
	}
}

// TestRelayTwoInstancesOneRedis: two hookguard processes share one Redis;
// 100 webhooks sent to either are each delivered exactly once while the
// receiver refuses every message's first attempt.
func TestRelayTwoInstancesOneRedis(t *testing.T) {
	skipShort(t)
	redis := redistest.Start(t)
	rc := newRelayReceiver(t, "", true)
	rc.setPolicy(func(key string, n int, r *http.Request) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	site := func(admin, port int) string {
		return relayGlobal(admin, port) + fmt.Sprintf(`http://127.0.0.1:%d {
	bind 127.0.0.1
	webhook_relay %s {
		name shared
		retry 50ms
		store redis {
			address %s
		}
	}
}
`, port, rc.url(), redis.Addr)
	}
	startRelayProc(t, site(relayAdminPortA, relayHTTPPortA), relayHTTPPortA)
	startRelayProc(t, site(relayAdminPortB, relayHTTPPortB), relayHTTPPortB)

	const n = 100
	ids := make([]string, n)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				port := relayHTTPPortA
				if i%2 == 1 {
					port = relayHTTPPortB
				}
				status, id, _ := relaySend(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/m", port), fmt.Sprint(i), []byte(fmt.Sprint(i)), nil)
				if status != http.StatusAccepted {
					failed.Add(1)
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d webhooks not accepted", failed.Load())
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("relay id %q empty or given twice", id)
		}
		seen[id] = true
	}
	for i := range n {
		rc.waitDelivered(t, fmt.Sprint(i), 20*time.Second)
	}
	time.Sleep(1500 * time.Millisecond) // past a poll of both instances
	byID := map[string]int{}
	for i := range n {
		byID[ids[i]] = rc.delivered(fmt.Sprint(i))
		if a := len(rc.attempts(fmt.Sprint(i))); a != 2 {
			t.Errorf("message %d (%s): %d attempts, want 2 (one refused, one delivered)", i, ids[i], a)
		}
	}
	for id, d := range byID {
		if d != 1 {
			t.Errorf("%s delivered %d times, want 1", id, d)
		}
	}
}
