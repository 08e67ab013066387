package caddymodule

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeRejectionLog is a rejectionLog on a clock the test moves, whose
// flush timers only record what they would run: the test fires them.
type fakeRejectionLog struct {
	*rejectionLog
	logs  *observer.ObservedLogs
	clock time.Time

	mu     sync.Mutex
	timers []fakeTimer
}

type fakeTimer struct {
	after time.Duration
	due   time.Time // the fake clock when it was set, plus after
	fire  func()
}

const (
	testBurst    = 3
	testInterval = time.Minute
)

func newFakeRejectionLog(t *testing.T, level zapcore.Level) *fakeRejectionLog {
	t.Helper()
	core, logs := observer.New(level)
	f := &fakeRejectionLog{logs: logs, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRejectionLog(zap.New(core), "webhook rejected")
	l.now = func() time.Time { return f.clock }
	l.burst, l.interval = testBurst, testInterval
	l.afterFunc = func(d time.Duration, fn func()) *time.Timer {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.timers = append(f.timers, fakeTimer{after: d, due: f.clock.Add(d), fire: fn})
		// A real timer, so that Stop works, that never fires in a test.
		return time.AfterFunc(time.Hour, func() {})
	}
	f.rejectionLog = l
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.flush != nil {
			l.flush.Stop()
		}
	})
	return f
}

// refuse is route.refuse's use of the log: it writes the line if check
// lets it.
func (f *fakeRejectionLog) refuse(reason string) bool {
	ce := f.check(reason)
	if ce == nil {
		return false
	}
	ce.Write(zap.String("reason", reason))
	return true
}

// refuseN refuses n requests of reason and returns how many were logged.
func (f *fakeRejectionLog) refuseN(n int, reason string) int {
	logged := 0
	for range n {
		if f.refuse(reason) {
			logged++
		}
	}
	return logged
}

func (f *fakeRejectionLog) advance(d time.Duration) { f.clock = f.clock.Add(d) }

// timer returns the i-th flush timer set so far.
func (f *fakeRejectionLog) timer(t *testing.T, i int) fakeTimer {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.timers) {
		t.Fatalf("%d flush timers set, want at least %d", len(f.timers), i+1)
	}
	return f.timers[i]
}

func (f *fakeRejectionLog) timerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// summaries returns the summary lines written since the last call, as
// reason -> suppressed, and fails on a summary that says something else
// than the test expects of its logged and interval fields.
func (f *fakeRejectionLog) summaries(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, e := range f.logs.TakeAll() {
		if e.Message != "webhook rejected: more not logged (rate limit)" {
			continue
		}
		fields := e.ContextMap()
		reason, _ := fields["reason"].(string)
		if _, dup := out[reason]; dup {
			t.Errorf("two summaries of %s in one report", reason)
		}
		out[reason], _ = fields["suppressed"].(int64)
		if got := fields["logged"]; got != int64(testBurst) {
			t.Errorf("summary of %s: logged = %v, want %d (the burst)", reason, got, testBurst)
		}
		if got := fields["interval"]; got != testInterval {
			t.Errorf("summary of %s: interval = %v, want %v", reason, got, testInterval)
		}
		if e.Level != zapcore.InfoLevel {
			t.Errorf("summary at level %v, want INFO", e.Level)
		}
	}
	return out
}

func wantSummaries(t *testing.T, got map[string]int64, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("summaries %v, want %v", got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("summaries %v, want %v", got, want)
			return
		}
	}
}

// TestRejectionLogBurst: within one interval, each reason gets burst
// lines of its own, the rest are held back and nothing is summarized
// before the interval ends; the first one held back sets one flush timer
// for the end of the interval.
func TestRejectionLogBurst(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.InfoLevel)
	if n := f.refuseN(10, "wrong_signature"); n != testBurst {
		t.Errorf("%d of 10 wrong_signature refusals logged, want %d", n, testBurst)
	}
	f.advance(testInterval / 2)
	if n := f.refuseN(5, "stale_timestamp"); n != testBurst {
		t.Errorf("%d of 5 stale_timestamp refusals logged, want %d (each reason has its own burst)", n, testBurst)
	}
	if n := f.refuseN(5, "wrong_signature"); n != 0 {
		t.Errorf("%d more wrong_signature refusals logged in the same interval, want 0", n)
	}
	if s := f.summaries(t); len(s) != 0 {
		t.Errorf("summary before the interval ended: %v", s)
	}
	if n := f.timerCount(); n != 1 {
		t.Fatalf("%d flush timers set, want 1 for the interval", n)
	}
	if d := f.timer(t, 0).after; d != testInterval {
		t.Errorf("flush timer set for %v after the first refusal held back, want %v (the interval's end)", d, testInterval)
	}
}

// TestRejectionLogRollover: a refusal after the interval ended writes the
// last interval's summary (suppressed per reason) and starts a new one
// with a fresh burst; the old flush timer, fired late, does nothing.
func TestRejectionLogRollover(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.InfoLevel)
	f.refuseN(10, "wrong_signature")     // 3 logged, 7 held
	f.refuseN(4, "missing_header")       // 3 logged, 1 held
	f.refuseN(testBurst, "read_timeout") // all logged: no summary for it
	f.logs.TakeAll()
	stale := f.timer(t, 0)

	f.advance(testInterval)
	if !f.refuse("wrong_signature") {
		t.Error("the first refusal of a new interval was not logged")
	}
	wantSummaries(t, f.summaries(t), map[string]int64{"wrong_signature": 7, "missing_header": 1})
	if n := f.refuseN(10, "wrong_signature"); n != testBurst-1 {
		t.Errorf("%d logged in the new interval after the first, want %d", n, testBurst-1)
	}
	if n := f.timerCount(); n != 2 {
		t.Fatalf("%d flush timers, want 2 (one per interval with refusals held back)", n)
	}

	// The first interval's timer fires only now (it raced the rollover):
	// it must not end the new interval early, which would report it and
	// let another burst through within it.
	stale.fire()
	if s := f.summaries(t); len(s) != 0 {
		t.Errorf("a stale flush timer wrote summaries %v", s)
	}
	if n := f.refuseN(5, "wrong_signature"); n != 0 {
		t.Errorf("after a stale flush timer, %d more lines in the same interval, want 0", n)
	}
	f.advance(testInterval / 2) // the second interval ends at the timer's time
	if d := f.timer(t, 1).after; d != testInterval {
		t.Errorf("second flush timer set for %v, want %v", d, testInterval)
	}
	f.timer(t, 1).fire()
	wantSummaries(t, f.summaries(t), map[string]int64{"wrong_signature": 10 - (testBurst - 1) + 5})
}

// TestRejectionLogFlushTimer: when the flood stops, the timer writes the
// summary at the interval's end and starts a new interval; the next
// refusal is logged and a new burst is allowed.
func TestRejectionLogFlushTimer(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.InfoLevel)
	f.advance(time.Second)
	f.refuse("wrong_signature")
	f.advance(20 * time.Second)
	f.refuseN(12, "wrong_signature") // 2 more logged, 10 held
	if d := f.timer(t, 0).after; d != testInterval-20*time.Second {
		t.Errorf("flush timer set for %v, want %v: the rest of the interval", d, testInterval-20*time.Second)
	}
	f.advance(testInterval - 20*time.Second)
	f.timer(t, 0).fire()
	wantSummaries(t, f.summaries(t), map[string]int64{"wrong_signature": 10})
	f.advance(time.Second)
	if n := f.refuseN(10, "wrong_signature"); n != testBurst {
		t.Errorf("%d logged after the flush, want %d", n, testBurst)
	}
	// The interval restarted when the timer fired: it ends a full
	// interval after that, not after the refusals that follow.
	if d := f.timer(t, 1).after; d != testInterval-time.Second {
		t.Errorf("next flush timer set for %v, want %v", d, testInterval-time.Second)
	}
}

// TestRejectionLogClose: close (config unload) writes what is held back
// at once and stops the flush timer; refusals that still arrive after it
// (requests in flight during the unload) are each logged, since no
// summary would ever count them; a closed log with nothing held back
// writes nothing.
func TestRejectionLogClose(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.InfoLevel)
	f.refuseN(25, "wrong_signature")
	f.logs.TakeAll()
	f.close()
	wantSummaries(t, f.summaries(t), map[string]int64{"wrong_signature": 25 - testBurst})
	f.mu.Lock()
	if f.flush != nil {
		t.Error("close left a flush timer")
	}
	f.mu.Unlock()
	if n := f.refuseN(5, "wrong_signature"); n != 5 {
		t.Errorf("%d of 5 refusals after close logged, want all", n)
	}
	if n := f.timerCount(); n != 1 {
		t.Errorf("%d flush timers set, want 1: none after close", n)
	}
	f.close()
	if s := f.summaries(t); len(s) != 0 {
		t.Errorf("closing again wrote %v", s)
	}
	// The first timer, fired after close, writes nothing either.
	f.timer(t, 0).fire()
	if s := f.summaries(t); len(s) != 0 {
		t.Errorf("a flush timer fired after close wrote %v", s)
	}
}

// TestRejectionLogCountsEveryRefusal: over many intervals, with flush
// timers firing when they are due, the lines written plus the suppressed
// counts of the summaries add up to every refusal, and there are at most
// burst lines per reason per interval.
func TestRejectionLogCountsEveryRefusal(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.InfoLevel)
	const n, step = 5000, 37 * time.Millisecond
	lines, suppressed, fired := 0, int64(0), 0
	for i := range n {
		f.advance(step)
		for ; fired < f.timerCount() && !f.timer(t, fired).due.After(f.clock); fired++ {
			f.timer(t, fired).fire()
		}
		reason := "wrong_signature"
		if i%7 == 6 {
			reason = "stale_timestamp"
		}
		if f.refuse(reason) {
			lines++
		}
		for _, s := range f.summaries(t) {
			suppressed += s
		}
	}
	f.close()
	for _, s := range f.summaries(t) {
		suppressed += s
	}
	if int64(lines)+suppressed != n {
		t.Errorf("%d lines + %d suppressed = %d, want every one of %d refusals", lines, suppressed, int64(lines)+suppressed, n)
	}
	// Every interval lasts at least testInterval.
	intervals := int(n*step/testInterval) + 1
	if max := 2 * testBurst * intervals; lines > max {
		t.Errorf("%d lines over at most %d intervals, want at most %d", lines, intervals, max)
	}
	if fired == 0 {
		t.Error("no flush timer fired: the test does not exercise them")
	}
}

// TestRejectionLogOffAtInfo: with the log above INFO, check writes and
// counts nothing and sets no timer.
func TestRejectionLogOffAtInfo(t *testing.T) {
	f := newFakeRejectionLog(t, zapcore.WarnLevel)
	if n := f.refuseN(20, "wrong_signature"); n != 0 {
		t.Errorf("%d lines at WARN level", n)
	}
	if n := f.timerCount(); n != 0 {
		t.Errorf("%d flush timers with the log off", n)
	}
	f.close()
	if n := f.logs.Len(); n != 0 {
		t.Errorf("%d log entries with the log off", n)
	}
}
