package jetstream

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// Durability says when an append is acknowledged.
type Durability string

const (
	// DurabilityFlush acknowledges once the message is written to the stream
	// file (in the OS page cache): survives a process kill, not a power loss.
	DurabilityFlush Durability = "flush"
	// DurabilitySync acknowledges after fsync: survives power loss.
	DurabilitySync Durability = "sync"
)

// Config configures a Store. The zero value, with Dir set, is an embedded
// server with defaults.
type Config struct {
	// URL of an external NATS server or cluster ("nats://host:4222"). Empty
	// starts an embedded server.
	URL string
	// Dir holds the embedded server's JetStream files. Required without URL.
	Dir string
	// Listen is the embedded server's client address ("127.0.0.1:4222"), for
	// other playlogd processes and tools. Empty accepts in-process
	// connections only; port 0 ("127.0.0.1:0") picks a free port.
	Listen string
	// Durability of the embedded server's writes. Default DurabilityFlush.
	Durability Durability

	// Stream is the stream's name. Default "PLAYLOG".
	Stream string
	// SubjectPrefix is the subject prefix of game subjects. Default
	// "playlog.game".
	SubjectPrefix string
	// Replicas of the stream in a cluster, 1 to 5 (3 recommended). Zero
	// keeps an existing stream's replicas and creates a new one with 1, so
	// that a node started without the setting never scales a replicated
	// stream down; a number given changes an existing stream's replicas.
	Replicas int
	// DuplicateWindow is JetStream's own dedupe window for the stream.
	// playlog's idempotency does not rely on it. Default 2 minutes.
	DuplicateWindow time.Duration

	// RequestTimeout bounds each request to the server (a batch of reads,
	// an append whose context has no deadline), so that a lost reply fails
	// the call instead of holding a game's lock.
	// Default 10s.
	RequestTimeout time.Duration
	// TailCheck is how often an idle game subscription reads the stream's
	// tail in case a republished message was lost without a later one to
	// reveal the gap (reconnects and slow-consumer reports trigger a read at
	// once). Default 30s.
	TailCheck time.Duration
	// CachedGames bounds how many games' message indexes are kept in memory.
	// Default 10000.
	CachedGames int
	// Now is the clock that stamps events. Default time.Now.
	Now func() time.Time
	// Logger receives operational messages. Default slog.Default().
	Logger *slog.Logger
}

var streamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
var subjectPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

func (c *Config) setDefaults() {
	if c.Durability == "" {
		c.Durability = DurabilityFlush
	}
	if c.Stream == "" {
		c.Stream = "PLAYLOG"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "playlog.game"
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.TailCheck == 0 {
		c.TailCheck = 30 * time.Second
	}
	if c.CachedGames == 0 {
		c.CachedGames = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.URL == "" && c.Dir == "":
		return fmt.Errorf("jetstream: set URL for an external server or Dir for the embedded one")
	case c.URL != "" && (c.Dir != "" || c.Listen != ""):
		return fmt.Errorf("jetstream: Dir and Listen apply only to the embedded server; URL is set")
	case c.Durability != DurabilityFlush && c.Durability != DurabilitySync:
		return fmt.Errorf("jetstream: durability %q is neither %q nor %q", c.Durability, DurabilityFlush, DurabilitySync)
	case !streamName.MatchString(c.Stream):
		return fmt.Errorf("jetstream: stream name %q", c.Stream)
	case !subjectPrefix.MatchString(c.SubjectPrefix):
		return fmt.Errorf("jetstream: subject prefix %q", c.SubjectPrefix)
	case c.Replicas < 0 || c.Replicas > 5:
		return fmt.Errorf("jetstream: replicas %d not in 0..5", c.Replicas)
	case c.URL == "" && c.Replicas > 1:
		return fmt.Errorf("jetstream: replicas %d need a cluster; the embedded server is one", c.Replicas)
	case c.DuplicateWindow < 100*time.Millisecond:
		return fmt.Errorf("jetstream: duplicate window %v is under 100ms", c.DuplicateWindow)
	case c.RequestTimeout < 10*time.Millisecond:
		return fmt.Errorf("jetstream: request timeout %v is under 10ms", c.RequestTimeout)
	case c.TailCheck < 10*time.Millisecond:
		return fmt.Errorf("jetstream: tail check %v is under 10ms", c.TailCheck)
	case c.CachedGames < 1:
		return fmt.Errorf("jetstream: cached games %d", c.CachedGames)
	}
	return nil
}
