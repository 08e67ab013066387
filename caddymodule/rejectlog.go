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

// rejectionLog rate-limits one route's refusal log lines per reason.
type rejectionLog struct {
	logger *zap.Logger
	msg    string // the refusal's log message
	now    func() time.Time

	mu      sync.Mutex
	start   time.Time // of the current interval
	logged  map[string]int
	dropped map[string]int
	flush   *time.Timer // set while refusals are held back
	closed  bool
}

func newRejectionLog(logger *zap.Logger, msg string) *rejectionLog {
	return &rejectionLog{logger: logger, msg: msg, now: time.Now, logged: map[string]int{}, dropped: map[string]int{}}
}

// check returns the entry to write a refusal for reason to, or nil if the
// log is off at INFO or this reason has had its share of the interval.
func (l *rejectionLog) check(reason string) *zapcore.CheckedEntry {
	ce := l.logger.Check(zapcore.InfoLevel, l.msg)
	if ce == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.start) >= rejectionInterval {
		l.reportLocked()
		l.start = now
	}
	if l.logged[reason] < rejectionBurst {
		l.logged[reason]++
		return ce
	}
	l.dropped[reason]++
	if l.flush == nil && !l.closed {
		// Report at the end of the interval even if the flood stops.
		l.flush = time.AfterFunc(rejectionInterval-now.Sub(l.start), l.report)
	}
	return nil
}

// report writes what was held back and starts a new interval.
func (l *rejectionLog) report() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reportLocked()
	l.start = l.now()
}

func (l *rejectionLog) reportLocked() {
	for reason, n := range l.dropped {
		l.logger.Info(l.msg+": more not logged (rate limit)",
			zap.String("reason", reason),
			zap.Int("suppressed", n),
			zap.Int("logged", l.logged[reason]),
			zap.Duration("interval", rejectionInterval))
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
