package jetstream

import (
	"context"

	"github.com/nats-io/nats.go"
)

// Bus is a best-effort broadcast between the processes sharing this NATS
// server: core NATS publish/subscribe, outside the stream, not stored.
// Messages published while a process is away are not delivered to it.
type Bus struct {
	nc      *nats.Conn
	subject string
}

// Bus returns the bus called name, on subject "<SubjectPrefix>.bus.<name>"
// (which the stream does not capture).
func (s *Store) Bus(name string) *Bus {
	return &Bus{nc: s.nc, subject: s.cfg.SubjectPrefix + ".bus." + name}
}

// Publish sends msg to every subscriber of the bus, on every process.
func (b *Bus) Publish(_ context.Context, msg []byte) error {
	return b.nc.Publish(b.subject, msg)
}

// Subscribe calls fn for each message until ctx ends, then returns
// ctx.Err(). fn runs on the connection's delivery goroutine: keep it short.
func (b *Bus) Subscribe(ctx context.Context, fn func([]byte)) error {
	sub, err := b.nc.Subscribe(b.subject, func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return err
	}
	<-ctx.Done()
	sub.Unsubscribe()
	return ctx.Err()
}
