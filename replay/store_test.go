package replay

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Durations of the semantics table: long enough that the Redis store,
// which really waits, is not flaky, short enough that it waits little.
const (
	testHold   = 150 * time.Millisecond
	testWindow = 300 * time.Millisecond
	testSlack  = 60 * time.Millisecond
)

// step is one operation of a semantics case. Tokens are named: a
// reserve that is Reserved saves its token under tok; commit and release
// use the token saved under tok ("forged" is a token never issued).
type step struct {
	op   string // reserve, commit, release, advance
	tok  string
	want State         // for reserve
	d    time.Duration // for advance
}

func reserve(tok string, want State) step { return step{op: "reserve", tok: tok, want: want} }
func commit(tok string) step              { return step{op: "commit", tok: tok} }
func release(tok string) step             { return step{op: "release", tok: tok} }
func advance(d time.Duration) step        { return step{op: "advance", d: d} }

var semantics = []struct {
	name  string
	steps []step
}{
	{"reserve, commit, duplicate, window ends", []step{
		reserve("a", Reserved),
		reserve("", InFlight),
		commit("a"),
		reserve("", Delivered),
		advance(testWindow - testSlack),
		reserve("", Delivered),
		advance(2 * testSlack),
		reserve("b", Reserved),
	}},
	{"release then reserve again", []step{
		reserve("a", Reserved),
		release("a"),
		reserve("b", Reserved),
		reserve("", InFlight),
	}},
	{"a forged token commits and releases nothing", []step{
		reserve("a", Reserved),
		commit("forged"),
		reserve("", InFlight),
		release("forged"),
		reserve("", InFlight),
		commit(""),
		release(""),
		reserve("", InFlight),
		commit("a"),
		reserve("", Delivered),
	}},
	{"hold ends: a dead reservation frees the key", []step{
		reserve("a", Reserved),
		advance(testHold + testSlack),
		reserve("b", Reserved),
		commit("a"), // the first owner, too late: b's reservation stands
		reserve("", InFlight),
		release("a"),
		reserve("", InFlight),
		commit("b"),
		reserve("", Delivered),
	}},
	{"a commit after the hold ended is lost", []step{
		reserve("a", Reserved),
		advance(testHold + testSlack),
		commit("a"),
		reserve("b", Reserved),
	}},
	{"release after commit changes nothing", []step{
		reserve("a", Reserved),
		commit("a"),
		release("a"),
		reserve("", Delivered),
	}},
}

// testSemantics runs the table against stores from newStore; advance
// moves the store's clock (or waits).
func testSemantics(t *testing.T, newStore func(t *testing.T) Store, advance func(time.Duration)) {
	for _, c := range semantics {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			key := "delivery-" + c.name
			toks := map[string]Token{"forged": "forged-token"}
			for i, st := range c.steps {
				switch st.op {
				case "reserve":
					got, tok, err := s.Reserve(ctx, key, testHold)
					if err != nil {
						t.Fatalf("step %d: reserve: %v", i, err)
					}
					if got != st.want {
						t.Fatalf("step %d: reserve = %v, want %v", i, got, st.want)
					}
					if (got == Reserved) != (tok != "") {
						t.Fatalf("step %d: reserve %v came with token %q", i, got, tok)
					}
					if st.tok != "" {
						toks[st.tok] = tok
					}
				case "commit":
					if err := s.Commit(ctx, key, toks[st.tok], testWindow); err != nil {
						t.Fatalf("step %d: commit: %v", i, err)
					}
				case "release":
					if err := s.Release(ctx, key, toks[st.tok]); err != nil {
						t.Fatalf("step %d: release: %v", i, err)
					}
				case "advance":
					advance(st.d)
				}
			}
		})
	}
}

// testOneWinner has 50 goroutines reserve one key at once: exactly one
// gets it, the others see it in flight.
func testOneWinner(t *testing.T, stores []Store) {
	const n = 50
	var reserved, inFlight atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			st, _, err := stores[i%len(stores)].Reserve(context.Background(), "one-key", time.Minute)
			switch {
			case err != nil:
				errs <- err
			case st == Reserved:
				reserved.Add(1)
			case st == InFlight:
				inFlight.Add(1)
			default:
				errs <- errors.New("unexpected " + st.String())
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reserved.Load() != 1 || inFlight.Load() != n-1 {
		t.Fatalf("reserved %d, in flight %d; want 1 and %d", reserved.Load(), inFlight.Load(), n-1)
	}
}
