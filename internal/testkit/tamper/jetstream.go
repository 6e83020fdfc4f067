package tamper

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// JetStream returns a Tool that rewrites the messages of the store's
// stream (jetstream.Store.Conn and StreamName; prefix is the store's
// subject prefix, "playlog.game" by default): a game's events on
// "<prefix>.<game>", its seals on "<prefix>.seal.<game>".
//
// A game's subject is purged and the tampered events published anew, as
// an administrator of the server can. The store's streams allow purges
// (archiving needs them) but not deletes of single messages, and
// JetStream cannot lift deny_delete or deny_purge from a stream
// ("can not cancel deny purge"). On a stream created with deny_purge
// (before archiving), the tool, on first use, copies every message out,
// deletes the stream, creates it again with the same configuration but
// purges allowed, and publishes the copies back in order; Close sets
// deny_purge again, which JetStream does allow, and the store's Open would
// too. The copies take new stream sequences and the stream's consumers
// are gone; nothing playlog reads from the log depends on either.
func JetStream(nc *nats.Conn, stream, prefix string) Tool {
	return &jsTool{nc: nc, stream: stream, prefix: prefix}
}

type jsTool struct {
	nc             *nats.Conn
	stream, prefix string

	mu       sync.Mutex
	js       natsjs.JetStream
	st       natsjs.Stream
	relock   bool // deny_purge was lifted: Close sets it again
	unlocked bool
}

// open connects to the stream and, on a deny_purge stream, lifts it.
func (t *jsTool) open(ctx context.Context) (natsjs.Stream, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unlocked {
		return t.st, nil
	}
	var err error
	if t.js == nil {
		if t.js, err = natsjs.New(t.nc); err != nil {
			return nil, fmt.Errorf("tamper: %w", err)
		}
	}
	if t.st, err = t.js.Stream(ctx, t.stream); err != nil {
		return nil, fmt.Errorf("tamper: stream %s: %w", t.stream, err)
	}
	if t.st.CachedInfo().Config.DenyPurge {
		if err := t.rebuild(ctx); err != nil {
			return nil, err
		}
		t.relock = true
	}
	t.unlocked = true
	return t.st, nil
}

// rebuild recreates the stream with purges allowed, its messages copied
// back in order (headers and payloads as stored, but for the publish
// expectations and dedupe ids, which would refuse or drop a copy).
func (t *jsTool) rebuild(ctx context.Context) error {
	info, err := t.st.Info(ctx)
	if err != nil {
		return fmt.Errorf("tamper: stream %s: %w", t.stream, err)
	}
	var copies []*nats.Msg
	if info.State.Msgs > 0 {
		cons, err := t.st.OrderedConsumer(ctx, natsjs.OrderedConsumerConfig{DeliverPolicy: natsjs.DeliverAllPolicy})
		if err != nil {
			return fmt.Errorf("tamper: copy stream %s: %w", t.stream, err)
		}
		it, err := cons.Messages()
		if err != nil {
			return fmt.Errorf("tamper: copy stream %s: %w", t.stream, err)
		}
		for {
			m, err := it.Next(natsjs.NextContext(ctx))
			if err != nil {
				it.Stop()
				return fmt.Errorf("tamper: copy stream %s: %w", t.stream, err)
			}
			meta, err := m.Metadata()
			if err != nil {
				it.Stop()
				return fmt.Errorf("tamper: copy stream %s: %w", t.stream, err)
			}
			c := nats.NewMsg(m.Subject())
			c.Data = append([]byte(nil), m.Data()...)
			for k, v := range m.Headers() {
				if !strings.HasPrefix(k, "Nats-Expected-") && k != natsjs.MsgIDHeader {
					c.Header[k] = append([]string(nil), v...)
				}
			}
			copies = append(copies, c)
			if meta.Sequence.Stream >= info.State.LastSeq {
				break
			}
		}
		it.Stop()
	}
	if err := t.js.DeleteStream(ctx, t.stream); err != nil {
		return fmt.Errorf("tamper: delete stream %s: %w", t.stream, err)
	}
	cfg := info.Config
	cfg.DenyPurge = false
	if t.st, err = t.js.CreateStream(ctx, cfg); err != nil {
		return fmt.Errorf("tamper: create stream %s again (its %d messages are in memory only): %w", t.stream, len(copies), err)
	}
	return t.publish(ctx, copies)
}

// publish stores msgs in order.
func (t *jsTool) publish(ctx context.Context, msgs []*nats.Msg) error {
	var acks []natsjs.PubAckFuture
	for _, m := range msgs {
		a, err := t.js.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("tamper: publish on %s: %w", m.Subject, err)
		}
		acks = append(acks, a)
	}
	for i, a := range acks {
		select {
		case <-a.Ok():
		case err := <-a.Err():
			return fmt.Errorf("tamper: publish on %s: %w", msgs[i].Subject, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Replace purges the game's subject and publishes events in the store's
// message format, version 1 (eventstore/jetstream/format.go), one message
// per append run (appends), in order. The Playlog-Index header, which the
// store's index of a game trusts, numbers the events by their place in the
// log (1, 2, ...), whatever seqs the payload gives them: the store then
// serves the tampered events as they are, gaps, repeats and disorder
// included, as long as the first is seq 1 (the store refuses a log that
// does not begin at 1). The payload's own rules still hold: each message's
// events have consecutive seqs from 1 up, a type, a version of at least 1
// and JSON data.
func (t *jsTool) Replace(ctx context.Context, game uuid.UUID, events []eventstore.Event) error {
	for _, e := range events {
		if e.Seq == 0 || e.Type == "" || e.SchemaVersion < 1 || !json.Valid(e.Data) {
			return fmt.Errorf("tamper: seq %d cannot be stored in a JetStream message: it needs a seq, a type, a version and JSON data", e.Seq)
		}
	}
	st, err := t.open(ctx)
	if err != nil {
		return err
	}
	if err := st.Purge(ctx, natsjs.WithPurgeSubject(t.prefix+"."+game.String())); err != nil {
		return fmt.Errorf("tamper: purge %s: %w", game, err)
	}
	var msgs []*nats.Msg
	pos := 0
	for _, run := range appends(events) {
		m := nats.NewMsg(t.prefix + "." + game.String())
		m.Data = encodeMessage(game, run)
		last := run[len(run)-1]
		m.Header.Set("Playlog-Index", fmt.Sprintf("1 %d %d %s %s",
			pos+1, pos+len(run), hex.EncodeToString(last.Hash[:]), strconv.Quote(run[0].MessageID)))
		pos += len(run)
		msgs = append(msgs, m)
	}
	return t.publish(ctx, msgs)
}

// encodeMessage is the payload of one message: {"v":1,"game":...,
// "events":[...]}, each event's data written verbatim (the hash covers its
// exact bytes).
func encodeMessage(game uuid.UUID, events []eventstore.Event) []byte {
	str := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"v":1,"game":"%s","events":[`, game)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"seq":%d,"type":%s,"sv":%d,"actor":%s`, e.Seq, str(e.Type), e.SchemaVersion, str(e.Actor))
		if e.MessageID != "" {
			fmt.Fprintf(&b, `,"mid":%s`, str(e.MessageID))
		}
		fmt.Fprintf(&b, `,"at":%d,"prev":"%x","hash":"%x","data":%s}`, e.RecordedAt.UnixMicro(), e.PrevHash[:], e.Hash[:], e.Data)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// ReplaceSeals purges the game's seal subject and publishes seals on it,
// in order, each as the store stores one: its JSON encoding
// (eventstore/jetstream/seals.go), game id set to game.
func (t *jsTool) ReplaceSeals(ctx context.Context, game uuid.UUID, seals []eventstore.Seal) error {
	st, err := t.open(ctx)
	if err != nil {
		return err
	}
	subject := t.prefix + ".seal." + game.String()
	if err := st.Purge(ctx, natsjs.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("tamper: purge the seals of %s: %w", game, err)
	}
	var msgs []*nats.Msg
	for _, s := range seals {
		s.GameID = game
		m := nats.NewMsg(subject)
		if m.Data, err = json.Marshal(s); err != nil {
			return fmt.Errorf("tamper: seal: %w", err)
		}
		msgs = append(msgs, m)
	}
	return t.publish(ctx, msgs)
}

// Close sets deny_purge again on a stream the tool lifted it from.
func (t *jsTool) Close(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.relock {
		return nil
	}
	info, err := t.st.Info(ctx)
	if err != nil {
		return fmt.Errorf("tamper: stream %s: %w", t.stream, err)
	}
	cfg := info.Config
	cfg.DenyPurge = true
	if _, err := t.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("tamper: set deny_purge on stream %s again: %w", t.stream, err)
	}
	t.relock, t.unlocked = false, false
	return nil
}
