package caddymodule

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/spool"
)

// TestRelayBodyBudget: bodies read by a relay take memory from the route's
// budget; past it the read fails as busy (answered 503 with Retry-After),
// and what was taken goes back once the body is done with.
func TestRelayBodyBudget(t *testing.T) {
	b := spool.NewBudget(100)
	first := &budgetReader{r: strings.NewReader(strings.Repeat("a", 80)), b: b}
	if _, err := io.ReadAll(first); err != nil {
		t.Fatal(err)
	}
	second := &budgetReader{r: strings.NewReader(strings.Repeat("b", 80)), b: b}
	if _, err := io.ReadAll(second); !errors.Is(err, errRelayBusy) {
		t.Fatalf("a body past the budget: %v, want busy", err)
	}
	second.release()
	first.release()
	if b.Used() != 0 {
		t.Fatalf("%d bytes still reserved", b.Used())
	}
	third := &budgetReader{r: strings.NewReader(strings.Repeat("c", 80)), b: b}
	if _, err := io.ReadAll(third); err != nil {
		t.Fatalf("after release: %v", err)
	}
}
