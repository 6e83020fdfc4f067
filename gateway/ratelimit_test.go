package gateway

import (
	"testing"
	"time"
)

// limitCfg is the default limits at 20 messages a second, bursts of 40.
func limitCfg() Config {
	var c Config
	c.setDefaults()
	return c
}

// simulate sends count messages at rate per second on a synthetic clock
// and tallies the verdicts, stopping at the first closeForAbuse.
func simulate(l *limiter, start time.Time, rate float64, count int) (tally map[verdict]int, at time.Duration) {
	tally = map[verdict]int{}
	for i := range count {
		at = time.Duration(float64(i) / rate * float64(time.Second))
		v := l.check(start.Add(at))
		tally[v]++
		if v == closeForAbuse {
			break
		}
	}
	return tally, at
}

func TestLimiter(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := limitCfg()

	t.Run("a client within the rate is never refused", func(t *testing.T) {
		l := newLimiter(cfg, start)
		if tally, _ := simulate(&l, start, 20, 20*600); tally[admit] != 20*600 {
			t.Fatalf("ten minutes at the rate: %v", tally)
		}
	})
	t.Run("a flood is closed at the AbuseLimit-th refusal, ten of them answered", func(t *testing.T) {
		l := newLimiter(cfg, start)
		tally, at := simulate(&l, start, 500, 1500)
		if tally[closeForAbuse] != 1 || tally[refuseWithAnswer] != 10 || tally[refuseWithAnswer]+tally[refuseSilently] != 99 || at > 400*time.Millisecond {
			t.Fatalf("500/s: %v, closed at %v", tally, at)
		}
	})
	t.Run("a client a quarter over the rate is refused but never closed", func(t *testing.T) {
		l := newLimiter(cfg, start)
		tally, _ := simulate(&l, start, 25, 25*600)
		refused := tally[refuseWithAnswer] + tally[refuseSilently]
		if tally[closeForAbuse] != 0 || refused < 5*500 || tally[refuseWithAnswer] < 500 {
			t.Fatalf("ten minutes at 25/s: %v", tally)
		}
		// It keeps hearing about it: RateLimitReplies answers per window.
		if tally[refuseWithAnswer] > 10*61 {
			t.Fatalf("%d refusals answered in 60 windows", tally[refuseWithAnswer])
		}
	})
	t.Run("the documented bound: below 29.9 a second never closed, 29.95 closed", func(t *testing.T) {
		for _, rate := range []float64{29.5, 29.85} {
			l := newLimiter(cfg, start)
			if tally, at := simulate(&l, start, rate, int(rate*600)); tally[closeForAbuse] != 0 {
				t.Errorf("ten minutes at %.2f/s: closed after %v: %v", rate, at, tally)
			}
		}
		l := newLimiter(cfg, start)
		if tally, at := simulate(&l, start, 29.95, 29.95*60); tally[closeForAbuse] != 1 || at > 20*time.Second {
			t.Errorf("29.95/s: %v, closed at %v", tally, at)
		}
	})
	t.Run("a client half over the rate is closed", func(t *testing.T) {
		l := newLimiter(cfg, start)
		// 10 refusals a second: the 100th falls within 10 s of the first.
		if tally, at := simulate(&l, start, 30, 30*60); tally[closeForAbuse] != 1 || at > 15*time.Second {
			t.Fatalf("30/s: %v, closed at %v", tally, at)
		}
	})
	t.Run("refusals older than the window are forgotten", func(t *testing.T) {
		l := newLimiter(Config{MessagesPerSecond: 1, Burst: 1, AbuseLimit: 3, AbuseWindow: time.Second, RateLimitReplies: 1}, start)
		now := start
		want := []verdict{admit, refuseWithAnswer, refuseSilently} // two refusals within the window
		for round := 0; round < 3; round++ {
			for i, w := range want {
				if v := l.check(now.Add(time.Duration(i) * time.Millisecond)); v != w {
					t.Fatalf("round %d message %d: %v, want %v", round, i, v, w)
				}
			}
			now = now.Add(1100 * time.Millisecond)
		}
		// A third refusal within the window closes.
		if v := l.check(now.Add(-1090 * time.Millisecond)); v != closeForAbuse {
			t.Fatalf("third refusal within the window: %v", v)
		}
	})
}

func TestWindow(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window{span: time.Second, max: 3}
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 1}, {100 * time.Millisecond, 2}, {200 * time.Millisecond, 3},
		{300 * time.Millisecond, 0},  // full: not recorded
		{1000 * time.Millisecond, 3}, // the first expired
		{1150 * time.Millisecond, 3}, // the second expired
		{5 * time.Second, 1},         // all expired
	}
	for _, s := range steps {
		if got := w.add(start.Add(s.at)); got != s.want {
			t.Fatalf("add at %v = %d, want %d", s.at, got, s.want)
		}
	}
}

func TestConfigValidatesLimits(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"negative AbuseWindow":             func(c *Config) { c.AbuseWindow = -time.Second },
		"RateLimitReplies over AbuseLimit": func(c *Config) { c.RateLimitReplies = c.AbuseLimit + 1 },
		"negative RateLimitReplies":        func(c *Config) { c.RateLimitReplies = -1 },
	} {
		c := limitCfg()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: valid", name)
		}
	}
	c := Config{AbuseLimit: 5}
	c.setDefaults()
	if c.RateLimitReplies != 5 || c.Validate() != nil {
		t.Fatalf("AbuseLimit 5 defaults RateLimitReplies to %d: %v", c.RateLimitReplies, c.Validate())
	}
}
