package integration

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bodySizes are the body sizes every route must pass through untouched.
var bodySizes = []struct {
	name string
	n    int
}{
	{"0B", 0},
	{"1KiB", 1 << 10},
	{"1MiB", 1 << 20},
	{"max_body", maxBody},
}

// TestSendHelperChunks makes sure the client really sends what the other
// tests claim: a Content-Length when asked, chunked with none otherwise,
// including for an empty body. It talks to an upstream directly.
func TestSendHelperChunks(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	for _, size := range []int{0, 1000} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dB/chunked=%v", size, chunked), func(t *testing.T) {
				up.reset()
				body := randomBody(t, size)
				d := delivery{Path: "/x", Body: body, Chunked: chunked}
				// Same request construction as send, pointed at the upstream.
				a := sendTo(t, up.srv.URL, d)
				wantStatus(t, a, http.StatusOK)
				got := up.only(t)
				if chunked {
					if got.ContentLength != -1 || len(got.TransferEncoding) != 1 || got.TransferEncoding[0] != "chunked" {
						t.Errorf("upstream got Content-Length %d, Transfer-Encoding %q; want chunked", got.ContentLength, got.TransferEncoding)
					}
				} else if got.ContentLength != int64(size) || len(got.TransferEncoding) != 0 {
					t.Errorf("upstream got Content-Length %d, Transfer-Encoding %q; want Content-Length %d", got.ContentLength, got.TransferEncoding, size)
				}
				if got.Size != int64(size) {
					t.Errorf("upstream read %d bytes, want %d", got.Size, size)
				}
			})
		}
	}
}

// TestPresetsPassBodyThrough sends a valid webhook of 0 B, 1 KiB, 1 MiB and
// exactly max_body, with Content-Length and chunked, to the route of every
// preset and of the generic hmac and token schemes: the upstream must get
// the body byte for byte (same SHA-256, length and Content-Length), every
// header as sent, and the webhook placeholders.
func TestPresetsPassBodyThrough(t *testing.T) {
	g := startGateway(t)
	for _, r := range g.routes {
		for _, size := range bodySizes {
			for _, chunked := range []bool{false, true} {
				mode := "content-length"
				if chunked {
					mode = "chunked"
				}
				t.Run(r.name+"/"+size.name+"/"+mode, func(t *testing.T) {
					g.up.reset()
					body := randomBody(t, size.n)
					id, now := deliveryID(t), time.Now()
					h := r.sign(r.secret, body, id, now)
					a := send(t, delivery{Path: "/" + r.name, Body: body, Header: h, Chunked: chunked})
					wantStatus(t, a, http.StatusOK)
					got := g.up.only(t)
					if got.Method != http.MethodPost || got.Path != "/"+r.name {
						t.Errorf("upstream got %s %s, want POST /%s", got.Method, got.Path, r.name)
					}
					wantBodyThrough(t, got, body)
					if r.tokenOnly {
						// The token is the secret: it never goes on.
						if v := got.Header.Get(r.sigHeader); v != "" {
							t.Errorf("the token header %s reached the upstream", r.sigHeader)
						}
						h = h.Clone()
						h.Del(r.sigHeader)
					}
					wantHeadersThrough(t, got, h)

					want := map[string]string{
						"X-Webhook-Verified":  "true",
						"X-Webhook-Scheme":    r.scheme,
						"X-Webhook-Key":       r.keyPlaceholder,
						"X-Webhook-Id":        "",
						"X-Webhook-Timestamp": "",
					}
					if r.idHeader != "" {
						want["X-Webhook-Id"] = id
					}
					if r.tolerance != 0 {
						want["X-Webhook-Timestamp"] = strconv.FormatInt(now.Unix(), 10)
					}
					for k, v := range want {
						if g := got.Header.Get(k); g != v {
							t.Errorf("upstream %s = %q, want %q", k, g, v)
						}
					}
				})
			}
		}
	}
}

// TestPresetsRejectBadSignatures sends, to every route, webhooks with a
// tampered body, a wrong secret, no signature header, a malformed one, a
// duplicated one (and a duplicated id or timestamp header, where the
// scheme has them): each gets 401 and nothing reaches the upstream.
func TestPresetsRejectBadSignatures(t *testing.T) {
	g := startGateway(t)
	for _, r := range g.routes {
		type tc struct {
			name string
			body []byte
			h    http.Header
		}
		body := randomBody(t, 1<<10)
		id, now := deliveryID(t), time.Now()
		signed := func() http.Header { return r.sign(r.secret, body, id, now) }

		var cases []tc
		if !r.tokenOnly {
			tampered := append([]byte(nil), body...)
			tampered[len(tampered)/2] ^= 0x01
			cases = append(cases, tc{"tampered_body", tampered, signed()})
		}
		cases = append(cases, tc{"wrong_secret", body, r.sign(r.other, body, id, now)})

		h := signed()
		h.Del(r.sigHeader)
		cases = append(cases, tc{"missing_signature", body, h})

		h = signed()
		h.Set(r.sigHeader, r.malformed)
		cases = append(cases, tc{"malformed_signature", body, h})

		h = signed()
		h.Add(r.sigHeader, h.Get(r.sigHeader))
		cases = append(cases, tc{"duplicated_signature", body, h})

		if r.tsHeader != "" {
			h = signed()
			h.Add(r.tsHeader, h.Get(r.tsHeader))
			cases = append(cases, tc{"duplicated_timestamp", body, h})
		}
		if r.idHeader != "" {
			h = signed()
			h.Add(r.idHeader, h.Get(r.idHeader))
			cases = append(cases, tc{"duplicated_id", body, h})
		}
		if r.tolerance != 0 {
			h = signed()
			if r.tsHeader != "" {
				h.Set(r.tsHeader, "17e8")
			} else { // stripe: the timestamp is inside the signature header
				h.Set(r.sigHeader, "t=17e8,v1=00")
			}
			cases = append(cases, tc{"malformed_timestamp", body, h})
		}

		for _, c := range cases {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				before := g.up.count()
				a := send(t, delivery{Path: "/" + r.name, Body: c.body, Header: c.h})
				wantRejected(t, a, http.StatusUnauthorized, g.up, before)
				for _, s := range []string{r.secret, r.other} {
					if s != "" && strings.Contains(a.Body, s) {
						t.Errorf("error response %q contains a secret", a.Body)
					}
				}
			})
		}
		// The control: the unaltered request passes.
		t.Run(r.name+"/control", func(t *testing.T) {
			g.up.reset()
			wantStatus(t, send(t, delivery{Path: "/" + r.name, Body: body, Header: signed()}), http.StatusOK)
			wantBodyThrough(t, g.up.only(t), body)
		})
	}
}

// TestTimestampTolerance checks every timestamped route (stripe, slack,
// standard, svix, and hmac with timestamp_header and tolerance 2m): a
// timestamp outside the tolerance, in the past or in the future, gets 401
// with nothing upstream; one just inside it passes, either way.
func TestTimestampTolerance(t *testing.T) {
	g := startGateway(t)
	n := 0
	for _, r := range g.routes {
		if r.tolerance == 0 {
			continue
		}
		n++
		const margin = 20 * time.Second
		for _, c := range []struct {
			name   string
			offset time.Duration
			pass   bool
		}{
			{"past_outside", -r.tolerance - margin, false},
			{"future_outside", r.tolerance + margin, false},
			{"past_inside", -r.tolerance + margin, true},
			{"future_inside", r.tolerance - margin, true},
		} {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				g.up.reset()
				body := randomBody(t, 512)
				ts := time.Now().Add(c.offset)
				h := r.sign(r.secret, body, deliveryID(t), ts)
				a := send(t, delivery{Path: "/" + r.name, Body: body, Header: h})
				if !c.pass {
					wantRejected(t, a, http.StatusUnauthorized, g.up, 0)
					return
				}
				wantStatus(t, a, http.StatusOK)
				got := g.up.only(t)
				wantBodyThrough(t, got, body)
				if want := strconv.FormatInt(ts.Unix(), 10); got.Header.Get("X-Webhook-Timestamp") != want {
					t.Errorf("X-Webhook-Timestamp = %q, want %q", got.Header.Get("X-Webhook-Timestamp"), want)
				}
			})
		}
	}
	if n != 5 {
		t.Errorf("%d timestamped routes, want 5 (stripe, slack, standard, svix, hmac)", n)
	}
}

// TestMaxBody sends max_body+1 bytes to every route: with a Content-Length
// it gets 413 before the body is read (the client, which waits for
// 100 Continue, never sends it); chunked, correctly signed, it gets 413 as
// soon as the limit is passed. Nothing reaches the upstream either way.
func TestMaxBody(t *testing.T) {
	g := startGateway(t)
	body := randomBody(t, maxBody+1)
	for _, r := range g.routes {
		h := r.sign(r.secret, body, deliveryID(t), time.Now())
		t.Run(r.name+"/content-length", func(t *testing.T) {
			before := g.up.count()
			a := send(t, delivery{Path: "/" + r.name, Body: body, Header: h, Expect100: true})
			wantRejected(t, a, http.StatusRequestEntityTooLarge, g.up, before)
			if a.BodyRead != 0 {
				t.Errorf("the client sent %d body bytes; a Content-Length over max_body should be refused before the body is read", a.BodyRead)
			}
		})
		t.Run(r.name+"/chunked", func(t *testing.T) {
			before := g.up.count()
			a := send(t, delivery{Path: "/" + r.name, Body: body, Header: h, Chunked: true})
			wantRejected(t, a, http.StatusRequestEntityTooLarge, g.up, before)
		})
	}
	// The same route still works on the next request.
	t.Run("after", func(t *testing.T) {
		g.up.reset()
		r := g.route(t, "github")
		small := randomBody(t, 100)
		wantStatus(t, send(t, delivery{Path: "/github", Body: small, Header: r.sign(r.secret, small, "x", time.Now())}), http.StatusOK)
		wantBodyThrough(t, g.up.only(t), small)
	})
}
