package gateway

import "time"

// limiter is one connection's rate limit (Config.MessagesPerSecond and
// Burst, AbuseLimit and AbuseWindow, RateLimitReplies): a token bucket of
// messages, and two sliding windows, one over the messages it refused and
// one over the refusals it answered. Not safe for concurrent use: the
// connection's reader owns it.
type limiter struct {
	bucket   tokenBucket
	refused  window // the AbuseLimit-th refusal within it closes
	answered window // at most RateLimitReplies answers within it
}

func newLimiter(cfg Config, now time.Time) limiter {
	return limiter{
		bucket:   newTokenBucket(cfg.MessagesPerSecond, cfg.Burst, now),
		refused:  window{span: cfg.AbuseWindow, max: cfg.AbuseLimit},
		answered: window{span: cfg.AbuseWindow, max: cfg.RateLimitReplies},
	}
}

// verdict is what becomes of one client message.
type verdict int

const (
	admit            verdict = iota // within the rate: serve it
	refuseWithAnswer                // over the rate: drop it and answer rate_limited
	refuseSilently                  // over the rate, and enough refusals answered: drop it
	closeForAbuse                   // too many refusals: close the connection (1008)
)

// check decides the fate of a message that arrived at now.
func (l *limiter) check(now time.Time) verdict {
	if l.bucket.take(now) {
		return admit
	}
	// The AbuseLimit-th refusal within the window closes (and any
	// after it: add counts no further).
	if n := l.refused.add(now); n == 0 || n == l.refused.max {
		return closeForAbuse
	}
	if l.answered.add(now) == 0 {
		return refuseSilently
	}
	return refuseWithAnswer
}

// tokenBucket allows rate messages per second with bursts of burst. Not safe
// for concurrent use.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

func (b *tokenBucket) take(now time.Time) bool {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(b.burst, b.tokens+d*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// window counts events within the last span, at most max of them: it
// keeps their times, oldest first, in a ring allocated on the first event
// (most connections are never refused anything). Not safe for concurrent
// use.
type window struct {
	span  time.Duration
	max   int
	times []time.Time
	head  int // index of the oldest time kept
	n     int // times kept
}

// add records an event at now unless max events already fell within the
// span ending at now. It returns how many did, this one included, or 0 if
// it was not recorded.
func (w *window) add(now time.Time) int {
	if w.times == nil {
		w.times = make([]time.Time, w.max)
	}
	for w.n > 0 && now.Sub(w.times[w.head]) >= w.span {
		w.head = (w.head + 1) % len(w.times)
		w.n--
	}
	if w.n == w.max {
		return 0
	}
	w.times[(w.head+w.n)%len(w.times)] = now
	w.n++
	return w.n
}
