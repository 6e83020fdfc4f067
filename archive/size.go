package archive

import (
	"context"
	"fmt"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
)

// HotSize is the hot store's size: its stream's bytes and messages
// (JetStream), or its tables' bytes and rows (PostgreSQL: events and
// seals; space freed by removed rows is reused after VACUUM, and returned
// to the file system only by VACUUM FULL).
func HotSize(ctx context.Context, store eventstore.Store) (bytes int64, records int64, err error) {
	switch s := eventstore.Unwrap(store).(type) {
	case *jetstream.Store:
		js, err := natsjs.New(s.Conn())
		if err != nil {
			return 0, 0, err
		}
		st, err := js.Stream(ctx, s.StreamName())
		if err != nil {
			return 0, 0, err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return 0, 0, err
		}
		return int64(info.State.Bytes), int64(info.State.Msgs), nil
	case *postgres.Store:
		err := s.Pool().QueryRow(ctx, `SELECT pg_total_relation_size('events') + pg_total_relation_size('seals'),
			(SELECT count(*) FROM events) + (SELECT count(*) FROM seals)`).Scan(&bytes, &records)
		return bytes, records, err
	}
	return 0, 0, fmt.Errorf("archive: no size for a %T", store)
}
