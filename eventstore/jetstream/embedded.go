package jetstream

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startEmbedded starts an in-process nats-server with JetStream on c.Dir.
func startEmbedded(c *Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:         "playlog-embedded",
		JetStream:          true,
		StoreDir:           c.Dir,
		SyncAlways:         c.Durability == DurabilitySync,
		NoSigs:             true,
		NoLog:              true,
		DontListen:         c.Listen == "",
		MaxPayload:         2 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	if c.Listen != "" {
		host, port, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return nil, fmt.Errorf("jetstream: listen address %q: %w", c.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("jetstream: listen port %q: %w", port, err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("jetstream: embedded server on %s not ready after 30s", c.Dir)
	}
	return ns, nil
}
