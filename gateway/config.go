package gateway

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the gateway's limits. Each protects the server from one
// client; docs/protocol.md lists them with their effects.
type Config struct {
	// MaxFrameBytes is the largest client message, over all its frames; a
	// larger one closes the connection with 1009. Default 16 KiB.
	MaxFrameBytes int64
	// MessagesPerSecond and Burst bound each connection's message rate
	// (token bucket). A message over the rate is refused: ignored, and
	// answered rate_limited while RateLimitReplies lasts. Defaults 20 and
	// 40.
	MessagesPerSecond float64
	Burst             int
	// AbuseLimit refusals within any AbuseWindow close the connection
	// (1008): a flood is cut at once, while a client that goes over the
	// rate now and then, or steadily by less than (AbuseLimit-1)/AbuseWindow
	// messages a second (AbuseLimit refusals span AbuseLimit-1 gaps), is
	// only refused. Defaults 100 and 10s.
	AbuseLimit  int
	AbuseWindow time.Duration
	// RateLimitReplies is how many refusals are answered rate_limited
	// within any AbuseWindow; the others are dropped unanswered, so that a
	// flood cannot make the server write an answer per message. At most
	// AbuseLimit. Default 10.
	RateLimitReplies int
	// SendQueue bounds the messages waiting to be written to one client.
	// Default 512.
	SendQueue int
	// MaxGames bounds the games one connection follows at once (joined or
	// spectating): each costs the node a feed and a store subscription, so
	// client input may not grow them without end. Default 100.
	MaxGames int
	// SlowConsumerTimeout is how long the connection's own answers and a
	// join's catch-up may wait for room in a full send queue before the
	// client is disconnected (4001). Live events never wait: a queue full
	// when one is fanned out cuts the client at once. Default 5s.
	SlowConsumerTimeout time.Duration
	// PingInterval is how often the server pings; a client that does not
	// answer within PongTimeout is disconnected. Defaults 20s and 10s.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// IdleTimeout closes a connection (4002) that sends no message for this
	// long. Default 10 minutes.
	IdleTimeout time.Duration
	// WriteTimeout bounds one write to a client. Default 10s.
	WriteTimeout time.Duration
	// PresenceDebounce delays "disconnected" so that a quick reconnect does
	// not flap. Default 3s.
	PresenceDebounce time.Duration
}

func (c *Config) setDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = 16 << 10
	}
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = 20
	}
	if c.Burst == 0 {
		c.Burst = 40
	}
	if c.AbuseLimit == 0 {
		c.AbuseLimit = 100
	}
	if c.RateLimitReplies == 0 {
		c.RateLimitReplies = min(10, c.AbuseLimit)
	}
	if c.SendQueue == 0 {
		c.SendQueue = 512
	}
	if c.MaxGames == 0 {
		c.MaxGames = 100
	}
	def(&c.AbuseWindow, 10*time.Second)
	def(&c.SlowConsumerTimeout, 5*time.Second)
	def(&c.PingInterval, 20*time.Second)
	def(&c.PongTimeout, 10*time.Second)
	def(&c.IdleTimeout, 10*time.Minute)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.PresenceDebounce, 3*time.Second)
}

// Validate reports the first invalid limit.
func (c *Config) Validate() error {
	switch {
	case c.MaxFrameBytes < 512:
		return fmt.Errorf("gateway: MaxFrameBytes %d is under 512", c.MaxFrameBytes)
	case c.MessagesPerSecond <= 0 || c.Burst < 1 || c.AbuseLimit < 1 || c.AbuseWindow <= 0:
		return errors.New("gateway: MessagesPerSecond, Burst, AbuseLimit and AbuseWindow must be positive")
	case c.RateLimitReplies < 1 || c.RateLimitReplies > c.AbuseLimit:
		return fmt.Errorf("gateway: RateLimitReplies %d is not between 1 and AbuseLimit (%d)", c.RateLimitReplies, c.AbuseLimit)
	case c.SendQueue < 16:
		return fmt.Errorf("gateway: SendQueue %d is under 16", c.SendQueue)
	case c.MaxGames < 1:
		return fmt.Errorf("gateway: MaxGames %d is under 1", c.MaxGames)
	case c.SlowConsumerTimeout <= 0 || c.PingInterval <= 0 || c.PongTimeout <= 0 || c.IdleTimeout <= 0 || c.WriteTimeout <= 0 || c.PresenceDebounce < 0:
		return errors.New("gateway: timeouts must be positive")
	}
	return nil
}
