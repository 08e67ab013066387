package verifier_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

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
				s := mustPreset(b, name, verifier.Options{})
				key := []byte("0123456789abcdef0123456789abcdef")
				body := make([]byte, size)
				rand.New(rand.NewSource(1)).Read(body)
				h := signer.Sign(s, [][]byte{key}, signer.Message{Body: body, ID: "msg_bench", Time: now})
				keys := []verifier.Key{{Label: "k", Secret: key}}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := s.Verify(h, body, keys, 5*time.Minute, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
