package caddymodule

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// A route logs at most rejectionBurst refusals of each reason per
// rejectionInterval. A flood of forged requests then writes a few lines a
// second, not one per request: the rest are counted, and their number is
// logged when the interval ends. The metrics count every one.
const (
	rejectionBurst    = 10
	rejectionInterval = 10 * time.Second
)

// rejectionLog rate-limits one route's refusal log lines per reason, or
// any other line a request can cause (limitedLog), so that no request an
// outsider can send writes a line of its own every time.
type rejectionLog struct {
	logger *zap.Logger
	level  zapcore.Level
	msg    string // the refusal's log message
	now    func() time.Time
	// burst, interval and afterFunc are rejectionBurst, rejectionInterval
	// and time.AfterFunc; unit tests set their own.
	burst     int
	interval  time.Duration
	afterFunc func(time.Duration, func()) *time.Timer

	mu      sync.Mutex
	start   time.Time // of the current interval
	logged  map[string]int
	dropped map[string]int
	flush   *time.Timer // set while refusals are held back
	gen     uint64      // counts reports, so a flush timer that lost the race to one does nothing
	closed  bool
}

func newRejectionLog(logger *zap.Logger, msg string) *rejectionLog {
	return newLimitedLog(logger, zapcore.InfoLevel, msg)
}

// newLimitedLog rate-limits the line msg at level the way refusals are.
func newLimitedLog(logger *zap.Logger, level zapcore.Level, msg string) *rejectionLog {
	return &rejectionLog{
		logger: logger, level: level, msg: msg, now: time.Now,
		burst: rejectionBurst, interval: rejectionInterval, afterFunc: time.AfterFunc,
		logged: map[string]int{}, dropped: map[string]int{},
	}
}

// check returns the entry to write a refusal for reason to, or nil if the
// log is off at INFO or this reason has had its share of the interval.
func (l *rejectionLog) check(reason string) *zapcore.CheckedEntry {
	ce := l.logger.Check(l.level, l.msg)
	if ce == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		// The route's config is unloaded: only requests that were in
		// flight then still arrive here, and no summary would ever count
		// what was held back now, so each is logged.
		return ce
	}
	now := l.now()
	if now.Sub(l.start) >= l.interval {
		l.reportLocked()
		l.start = now
	}
	if l.logged[reason] < l.burst {
		l.logged[reason]++
		return ce
	}
	l.dropped[reason]++
	if l.flush == nil {
		// Report at the end of the interval even if the flood stops.
		gen := l.gen
		l.flush = l.afterFunc(l.interval-now.Sub(l.start), func() { l.report(gen) })
	}
	return nil
}

// report writes what was held back and starts a new interval, unless
// another report (a refusal that came after the interval's end, or
// close) has done so since the timer that calls it was set: its interval
// is then over and reported, and reporting again would end the next one
// early, letting another burst of lines through within one interval.
func (l *rejectionLog) report(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen != l.gen {
		return
	}
	l.reportLocked()
	l.start = l.now()
}

func (l *rejectionLog) reportLocked() {
	l.gen++
	for reason, n := range l.dropped {
		if ce := l.logger.Check(l.level, l.msg+": more not logged (rate limit)"); ce != nil {
			ce.Write(zap.String("reason", reason),
				zap.Int("suppressed", n),
				zap.Int("logged", l.logged[reason]),
				zap.Duration("interval", l.interval))
		}
	}
	clear(l.dropped)
	clear(l.logged)
	if l.flush != nil {
		l.flush.Stop()
		l.flush = nil
	}
}

// close writes what is held back; the route's config is being unloaded.
func (l *rejectionLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.reportLocked()
}
