package verifier_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// signedWith signs body for every kind of scheme, token schemes included
// (whose "signature" is the secret itself).
func signedWith(s *verifier.Scheme, key, body []byte, now time.Time) http.Header {
	if s.Compares() {
		return hdr(s.HeaderSets[0].Signature, token(s, string(key)))
	}
	return signPost(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_expired", Time: now})
}

// TestExpiredSecretNamed (issue 12, item 3): a request signed with a key
// past its NotAfter is refused, whatever the scheme, as ExpiredSecret
// naming the key by label, in Verify and in the streaming path alike; a
// current key still passes and a key the route never had is still
// WrongSignature.
func TestExpiredSecretNamed(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"rotate"}`)
	current, old, stranger := []byte("current-secret-0123456789"), []byte("old-secret-0123456789abc"), []byte("stranger-secret-987654321")
	keys := []verifier.Key{
		{Label: "current", Secret: current},
		{Label: "2026-q3", Secret: old, NotAfter: now.Add(-time.Hour)},
	}
	for _, name := range append(preset.Names(), "github-legacy") {
		s := mustPreset(t, strings.TrimSuffix(name, "-legacy"), preset.Options{LegacySHA1: strings.HasSuffix(name, "-legacy")})
		sign := func(key []byte) http.Header { return signedWith(s, key, body, now) }
		if name == "github-legacy" {
			// Only the SHA-1 header: the fallback scheme is checked.
			sign = func(key []byte) http.Header {
				return signedWith(s.Fallback, key, body, now)
			}
		}
		t.Run(name, func(t *testing.T) {
			res, err := verifyPost(s, sign(current), body, keys, 5*time.Minute, now)
			if err != nil || res.Key != "current" {
				t.Fatalf("current key: %+v, %v", res, err)
			}
			_, err = verifyPost(s, sign(stranger), body, keys, 5*time.Minute, now)
			wantReason(t, err, verifier.WrongSignature)

			_, err = verifyPost(s, sign(old), body, keys, 5*time.Minute, now)
			wantExpired(t, err, "2026-q3")

			// Streaming, as webhook_verify does: the expired key is only
			// tried after Finish, on the body read again.
			c, err := verifier.Begin(s, post(sign(old)), keys, 5*time.Minute, now)
			if s.Compares() {
				wantExpired(t, err, "2026-q3") // a token is known before the body
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.Write(body)
			_, err = c.Finish()
			wantReason(t, err, verifier.WrongSignature)
			wantExpired(t, c.MatchExpired(err, strings.NewReader(string(body))), "2026-q3")
			if s.Strategy != nil {
				// A Strategy's message was read from the body at Finish:
				// MatchExpired signs that, and does not read the body again.
				return
			}
			// The body read again must be the body: another one does not
			// match the expired key either.
			c, _ = verifier.Begin(s, post(sign(old)), keys, 5*time.Minute, now)
			c.Write(body)
			_, err = c.Finish()
			err = c.MatchExpired(err, strings.NewReader("tampered"))
			wantReason(t, err, verifier.WrongSignature)
		})
	}
}

func wantExpired(t *testing.T, err error, label string) {
	t.Helper()
	wantReason(t, err, verifier.ExpiredSecret)
	var ve *verifier.Error
	errors.As(err, &ve)
	if ve.Key != label || !strings.Contains(ve.Detail, strconv.Quote(label)) || !strings.Contains(ve.Detail, "expired") {
		t.Errorf("expired-secret error names %q, detail %q; want key %q named in the detail", ve.Key, ve.Detail, label)
	}
}

// failingReader fails the test if MatchExpired reads the body when it
// has no reason to.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("the body was read again with no expired key to try")
	return 0, io.ErrUnexpectedEOF
}

// TestMatchExpiredBounded: MatchExpired reads the body again only after a
// WrongSignature with expired keys to try, tries at most
// MaxExpiredChecked of them (the ones that expired last), and leaves
// every other error as it is.
func TestMatchExpiredBounded(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := mustPreset(t, "github", preset.Options{})
	body := []byte("{}")
	current := []byte("current-secret-0123456789")
	begin := func(signWith []byte, keys []verifier.Key) (*verifier.Check, error) {
		t.Helper()
		c, err := verifier.Begin(s, verifier.Request{Header: signer.Sign(s, [][]byte{signWith}, signer.Message{Body: body})}, keys, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(body)
		_, err = c.Finish()
		return c, err
	}

	// No expired key: the body is not read again.
	c, err := begin([]byte("stranger-0123456789"), []verifier.Key{{Label: "current", Secret: current}})
	wantReason(t, c.MatchExpired(err, failingReader{t}), verifier.WrongSignature)
	// A request that passed, or failed for another reason, is left alone.
	c, err = begin(current, []verifier.Key{{Label: "current", Secret: current}, {Label: "old", Secret: []byte("old"), NotAfter: now}})
	if err != nil || c.MatchExpired(nil, failingReader{t}) != nil {
		t.Fatalf("a verified request: %v", err)
	}
	other := errors.New("reading the body failed")
	if got := c.MatchExpired(other, failingReader{t}); got != other {
		t.Errorf("MatchExpired changed %v into %v", other, got)
	}

	// MaxExpiredChecked + 1 expired keys: the one that expired first is
	// not tried, whatever its place in the list.
	if verifier.MaxExpiredChecked != 2 {
		t.Fatalf("MaxExpiredChecked is %d; this test lists 3 expired keys", verifier.MaxExpiredChecked)
	}
	keys := []verifier.Key{
		{Label: "current", Secret: current},
		{Label: "q2", Secret: []byte("q2-secret-0123456789"), NotAfter: now.Add(-48 * time.Hour)},
		{Label: "q1", Secret: []byte("q1-secret-0123456789"), NotAfter: now.Add(-72 * time.Hour)},
		{Label: "q3", Secret: []byte("q3-secret-0123456789"), NotAfter: now.Add(-24 * time.Hour)},
	}
	for _, k := range keys[1:] {
		c, err := begin(k.Secret, keys)
		err = c.MatchExpired(err, strings.NewReader(string(body)))
		if k.Label == "q1" {
			wantReason(t, err, verifier.WrongSignature)
			continue
		}
		wantExpired(t, err, k.Label)
	}
}

// TestExplainExpiredSecret: webhook verify (Explain) says that the
// signature matches an expired secret, by label, and what to do.
func TestExplainExpiredSecret(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := mustPreset(t, "github", preset.Options{})
	body := []byte("{}")
	old := []byte("old-secret-0123456789abc")
	keys := []verifier.Key{{Label: "current", Secret: []byte("current-secret-0123456789")}, {Label: "old", Secret: old, NotAfter: now.Add(-time.Minute)}}
	var out strings.Builder
	_, err := verifier.Explain(s, &out, signer.Sign(s, [][]byte{old}, signer.Message{Body: body}), body, keys, 0, now)
	wantExpired(t, err, "old")
	for _, want := range []string{`FAIL: expired_secret X-Hub-Signature-256: signature matches secret "old"`, "hint:      the sender still signs with a secret that has expired"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Explain lacks %q:\n%s", want, out.String())
		}
	}
}
