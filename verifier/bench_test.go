package verifier_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// BenchmarkVerify measures a full verification (header parsing, HMAC of
// the body, comparison) for github and standard at 1 KiB and 1 MiB.
//
//	go test -run=^$ -bench=BenchmarkVerify ./verifier/
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1700000000, 0)
	for _, name := range []string{"github", "standard"} {
		for _, size := range []int{1 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", name, size>>10), func(b *testing.B) {
				s := mustPreset(b, name, preset.Options{})
				key := []byte("0123456789abcdef0123456789abcdef")
				body := make([]byte, size)
				rand.New(rand.NewSource(1)).Read(body)
				h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_bench", Time: now})
				keys := []verifier.Key{{Label: "k", Secret: key}}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := verifier.Verify(s, h, body, keys, 5*time.Minute, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerifyExpiredKey is BenchmarkVerify for github with a second,
// expired key configured next to the current one: a request signed with
// the current key (ok), with neither (wrong) and with the expired one
// (expired). The expired key is hashed only after no current key matched.
//
//	go test -run=^$ -bench=BenchmarkVerifyExpiredKey ./verifier/
func BenchmarkVerifyExpiredKey(b *testing.B) {
	now := time.Unix(1700000000, 0)
	s := mustPreset(b, "github", preset.Options{})
	current, old, stranger := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"), []byte("not-a-configured-key-0123456789!")
	keys := []verifier.Key{{Label: "current", Secret: current}, {Label: "old", Secret: old, NotAfter: now.Add(-time.Hour)}}
	for _, size := range []int{1 << 10, 1 << 20} {
		body := make([]byte, size)
		rand.New(rand.NewSource(1)).Read(body)
		for _, c := range []struct {
			name string
			key  []byte
		}{{"ok", current}, {"wrong", stranger}, {"expired", old}} {
			h := signer.Sign(s, [][]byte{c.key}, signer.Message{Body: body, Time: now})
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for range b.N {
					if _, err := verifier.Verify(s, h, body, keys, 5*time.Minute, now); (err == nil) != (c.name == "ok") {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
