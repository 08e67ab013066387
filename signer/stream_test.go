package signer

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/verifier"
)

// A body signed as it streams, in pieces, verifies like one signed whole.
func TestSigningStreamsInPieces(t *testing.T) {
	body := make([]byte, 100_003)
	for i := range body {
		body[i] = byte(i * 31)
	}
	now := time.Unix(1_700_000_000, 0)
	keys := [][]byte{[]byte("kX3vQ9mR2pL8nT5wY7zB4cF6"), []byte("second-key-0123456789abcd")}
	for _, name := range []string{"github", "stripe", "standard", "slack", "gitlab"} {
		s, err := preset.Get(name, preset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		g := Begin(s, Secrets(keys...), Message{ID: "msg_1", Time: now})
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 4093)
			g.Write(rest[:n])
			rest = rest[n:]
		}
		got, err := g.Header()
		if err != nil {
			t.Fatal(err)
		}
		if want := Sign(s, keys, Message{Body: body, ID: "msg_1", Time: now}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: streamed %v, whole %v", name, got, want)
		}
		h := http.Header{}
		for k, v := range got {
			h[k] = v
		}
		if _, err := verifier.Verify(s, h, body, []verifier.Key{{Secret: keys[0], Label: "a"}}, 0, now); err != nil {
			t.Errorf("%s: streamed signature does not verify: %v", name, err)
		}
	}
}
