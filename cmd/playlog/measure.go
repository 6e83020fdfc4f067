package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/protocol"
)

// What the load tools measure: latencies, kept as bounded samples, and
// failures, counted by kind.

// maxSamples bounds the latencies kept per measure; beyond it a uniform
// sample of them is kept (count and maximum stay exact).
const maxSamples = 100_000

// samples is a bounded uniform sample (a reservoir) of durations, with
// their exact count and maximum.
type samples struct {
	kept []time.Duration
	n    int
	max  time.Duration
}

func (s *samples) add(d time.Duration, rng *mrand.Rand) {
	s.n++
	s.max = max(s.max, d)
	if len(s.kept) < maxSamples {
		s.kept = append(s.kept, d)
	} else if i := rng.IntN(s.n); i < maxSamples {
		s.kept[i] = d
	}
}

// latency is a measure's count and quantiles, in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func (s *samples) latency() latency {
	sorted := slices.Clone(s.kept)
	slices.Sort(sorted)
	return latency{N: s.n, P50: ms(quantile(sorted, 0.50)), P99: ms(quantile(sorted, 0.99)), Max: ms(s.max)}
}

// quantile is the q-quantile (0 < q <= 1) of sorted, by nearest rank: the
// smallest value at least q of the values do not exceed.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchError is a failure of a kind a load tool names itself.
type benchError struct {
	kind string
	msg  string
}

func (e *benchError) Error() string { return e.msg }

func benchErrorf(kind, format string, a ...any) error {
	return &benchError{kind: kind, msg: fmt.Sprintf(format, a...)}
}

// errorKind names the kind of a failure for the report: "error CODE" for an
// error answer, "timeout", "refused" (nothing listening), "closed CODE" (the
// server closed the WebSocket), "dropped" (the connection ended otherwise),
// or the tools' own kinds ("protocol", "http STATUS", ...).
func errorKind(err error) string {
	var be *benchError
	var pe *protocol.Error
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &be):
		return be.kind
	case errors.As(err, &pe):
		return "error " + pe.Code
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.As(err, &ce):
		return "closed " + strconv.Itoa(ce.Code)
	}
	return "dropped"
}
