package postgres

import (
	"context"
	"strings"
	"sync"
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

// Publish sends msg to every subscriber of the bus, on every process. Like
// the store's own notifications it commits without waiting for a flush.
func (b *Bus) Publish(ctx context.Context, msg []byte) error {
	_, err := b.s.pool.Exec(ctx,
		`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`,
		b.s.busChannel(), b.name+"\n"+string(msg))
	return err
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
