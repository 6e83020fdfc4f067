package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/playlog/playlog/eventstore"
)

// Bus is a best-effort broadcast between the processes sharing this
// database, over NOTIFY on channel "<schema>_bus" (payload "name\n" then
// the message; at most about 7900 bytes). Messages are not stored:
// processes away when one is sent never see it.
type Bus struct {
	s    *Store
	name string
}

// Bus returns the bus called name.
func (s *Store) Bus(name string) *Bus { return &Bus{s: s, name: name} }

// Publish queues msg for every subscriber of the bus, on every process,
// and returns: the store's notifier sends it within NotifyDelay, with the
// other messages and notifications of that time, in one transaction
// committed without waiting for a flush. A message equal to one still
// queued replaces it.
//
// Errors: ErrClosed; ErrInvalidArgument (wrapped, "postgres: bus ...")
// for a message that PostgreSQL would refuse as a payload: one that holds
// a NUL byte or is not valid UTF-8, or whose payload (the bus's name, a
// newline, the message) is 8000 bytes or more (the error gives that
// payload's size); eventstore.ErrUnavailable (wrapped, "postgres: bus
// ...") when the queue is full (1 MiB waiting). A message refused is never
// queued, so it cannot make the notifier's shared statement fail.
func (b *Bus) Publish(ctx context.Context, msg []byte) error {
	if b.s.isClosed() {
		return fmt.Errorf("postgres: bus %s: %w", b.name, eventstore.ErrClosed)
	}
	payload := b.name + "\n" + string(msg)
	switch {
	case len(payload) >= 8000: // PostgreSQL's limit
		return fmt.Errorf("postgres: bus %s: %w: a payload of %d bytes (name, newline, message), limit 7999",
			b.name, eventstore.ErrInvalidArgument, len(payload))
	case strings.IndexByte(payload, 0) >= 0:
		return fmt.Errorf("postgres: bus %s: %w: a NUL byte in the name or message", b.name, eventstore.ErrInvalidArgument)
	case !utf8.ValidString(payload):
		return fmt.Errorf("postgres: bus %s: %w: the name or message is not valid UTF-8", b.name, eventstore.ErrInvalidArgument)
	}
	if !b.s.hub.publish(b.s.busChannel(), payload) {
		return fmt.Errorf("postgres: bus %s: %w: %d bytes of messages wait to be sent",
			b.name, eventstore.ErrUnavailable, maxBusBytes)
	}
	return nil
}

// Subscribe calls fn for each message until ctx ends, then returns
// ctx.Err(). fn runs on the store's listener goroutine: keep it short.
func (b *Bus) Subscribe(ctx context.Context, fn func([]byte)) error {
	b.s.buses.add(b.name, &fn)
	defer b.s.buses.remove(b.name, &fn)
	<-ctx.Done()
	return ctx.Err()
}

func (s *Store) busChannel() string { return s.cfg.Schema + "_bus" }

// busSubs routes bus notifications to subscribers by bus name.
type busSubs struct {
	mu   sync.Mutex
	subs map[string]map[*func([]byte)]struct{}
}

func (b *busSubs) add(name string, fn *func([]byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[string]map[*func([]byte)]struct{}{}
	}
	if b.subs[name] == nil {
		b.subs[name] = map[*func([]byte)]struct{}{}
	}
	b.subs[name][fn] = struct{}{}
}

func (b *busSubs) remove(name string, fn *func([]byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[name], fn)
}

func (b *busSubs) deliver(payload string) {
	name, msg, ok := strings.Cut(payload, "\n")
	if !ok {
		return
	}
	b.mu.Lock()
	fns := make([]func([]byte), 0, len(b.subs[name]))
	for f := range b.subs[name] {
		fns = append(fns, *f)
	}
	b.mu.Unlock()
	for _, f := range fns {
		f([]byte(msg))
	}
}
