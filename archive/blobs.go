package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
)

// Blobs holds archived games, one blob each (a game in the export format,
// gzipped), named by game id.
type Blobs interface {
	// Put stores a game's blob. Storing the same bytes again is no error;
	// other bytes under the same id are a *eventstore.ConflictError.
	Put(ctx context.Context, game uuid.UUID, blob []byte) error
	// Replace stores blob in place of the game's blob, which must exist:
	// for Move, once it has checked that blob holds the same log and more
	// seals. Errors: eventstore.ErrGameNotFound.
	Replace(ctx context.Context, game uuid.UUID, blob []byte) error
	// Get returns a game's blob. Errors: eventstore.ErrGameNotFound.
	Get(ctx context.Context, game uuid.UUID) ([]byte, error)
	// List calls fn with every archived game's id.
	List(ctx context.Context, fn func(uuid.UUID) error) error
	// Size is how many games the archive holds and their bytes.
	Size(ctx context.Context) (games int, bytes int64, err error)
}

// OpenBlobs opens the archive beside store's log: the object store bucket
// Bucket on the same NATS server (replicated as the stream is), or the
// table archived_games in the PostgreSQL schema.
func OpenBlobs(ctx context.Context, store eventstore.Store) (Blobs, error) {
	switch s := eventstore.Unwrap(store).(type) {
	case *postgres.Store:
		return pgBlobs{s.Pool()}, nil
	case *jetstream.Store:
		return openJSBlobs(ctx, s.Conn(), s.StreamName())
	}
	return nil, fmt.Errorf("archive: no archive for a %T", store)
}

// Bucket is the JetStream object store bucket of archived games.
const Bucket = "playlog_archive"

type jsBlobs struct{ obj natsjs.ObjectStore }

func openJSBlobs(ctx context.Context, nc *nats.Conn, stream string) (Blobs, error) {
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, err
	}
	replicas := 1
	if info, err := js.Stream(ctx, stream); err == nil {
		replicas = info.CachedInfo().Config.Replicas
	}
	obj, err := js.ObjectStore(ctx, Bucket)
	if errors.Is(err, natsjs.ErrBucketNotFound) {
		obj, err = js.CreateObjectStore(ctx, natsjs.ObjectStoreConfig{
			Bucket: Bucket, Description: "playlog: archived games, one gzipped export per game",
			Storage: natsjs.FileStorage, Replicas: replicas,
		})
		if errors.Is(err, natsjs.ErrBucketExists) {
			obj, err = js.ObjectStore(ctx, Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("archive: bucket %s: %w", Bucket, err)
	}
	// Archived games are gone from the log: the bucket is their only copy,
	// and must be replicated as the log is, also when the log was scaled
	// up after the bucket was made. Never scaled down.
	if st, err := js.Stream(ctx, "OBJ_"+Bucket); err != nil {
		return nil, fmt.Errorf("archive: bucket %s: %w", Bucket, err)
	} else if sc := st.CachedInfo().Config; sc.Replicas < replicas {
		sc.Replicas = replicas
		if _, err := js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("archive: bucket %s: %d replicas: %w", Bucket, replicas, err)
		}
	}
	return jsBlobs{obj}, nil
}

func (b jsBlobs) Put(ctx context.Context, game uuid.UUID, blob []byte) error {
	old, err := b.Get(ctx, game)
	switch {
	case err == nil && bytes.Equal(old, blob):
		return nil
	case err == nil:
		return fmt.Errorf("archive: another blob is stored under game %s: %w", game, &eventstore.ConflictError{Game: game})
	case !errors.Is(err, eventstore.ErrGameNotFound):
		return err
	}
	if _, err := b.obj.PutBytes(ctx, game.String(), blob); err != nil {
		return fmt.Errorf("archive: put %s: %w", game, err)
	}
	return nil
}

func (b jsBlobs) Replace(ctx context.Context, game uuid.UUID, blob []byte) error {
	if _, err := b.obj.GetInfo(ctx, game.String()); errors.Is(err, natsjs.ErrObjectNotFound) {
		return fmt.Errorf("archive: replace %s: %w", game, eventstore.ErrGameNotFound)
	} else if err != nil {
		return fmt.Errorf("archive: replace %s: %w", game, err)
	}
	if _, err := b.obj.PutBytes(ctx, game.String(), blob); err != nil {
		return fmt.Errorf("archive: replace %s: %w", game, err)
	}
	return nil
}

func (b jsBlobs) Get(ctx context.Context, game uuid.UUID) ([]byte, error) {
	blob, err := b.obj.GetBytes(ctx, game.String())
	if errors.Is(err, natsjs.ErrObjectNotFound) {
		return nil, fmt.Errorf("archive: game %s: %w", game, eventstore.ErrGameNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", game, err)
	}
	return blob, nil
}

func (b jsBlobs) List(ctx context.Context, fn func(uuid.UUID) error) error {
	infos, err := b.obj.List(ctx)
	if errors.Is(err, natsjs.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("archive: list: %w", err)
	}
	for _, info := range infos {
		id, err := uuid.Parse(info.Name)
		if err != nil {
			continue // not ours
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (b jsBlobs) Size(ctx context.Context) (int, int64, error) {
	n := 0
	if err := b.List(ctx, func(uuid.UUID) error { n++; return nil }); err != nil {
		return 0, 0, err
	}
	st, err := b.obj.Status(ctx)
	if err != nil {
		return 0, 0, err
	}
	return n, int64(st.Size()), nil
}

type pgBlobs struct{ pool *pgxpool.Pool }

func (b pgBlobs) Put(ctx context.Context, game uuid.UUID, blob []byte) error {
	tag, err := b.pool.Exec(ctx, `INSERT INTO archived_games (game_id, data) VALUES ($1, $2) ON CONFLICT (game_id) DO NOTHING`, game, blob)
	if err != nil {
		return fmt.Errorf("archive: put %s: %w", game, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	old, err := b.Get(ctx, game)
	if err != nil {
		return err
	}
	if !bytes.Equal(old, blob) {
		return fmt.Errorf("archive: another blob is stored under game %s: %w", game, &eventstore.ConflictError{Game: game})
	}
	return nil
}

// Replace updates the row under the transaction-local setting that the
// table's append-only trigger lets through (migration 006).
func (b pgBlobs) Replace(ctx context.Context, game uuid.UUID, blob []byte) error {
	var updated int64
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('playlog.replacing', 'on', true)`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE archived_games SET data = $2 WHERE game_id = $1`, game, blob)
		updated = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("archive: replace %s: %w", game, err)
	}
	if updated == 0 {
		return fmt.Errorf("archive: replace %s: %w", game, eventstore.ErrGameNotFound)
	}
	return nil
}

func (b pgBlobs) Get(ctx context.Context, game uuid.UUID) ([]byte, error) {
	var blob []byte
	err := b.pool.QueryRow(ctx, `SELECT data FROM archived_games WHERE game_id = $1`, game).Scan(&blob)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("archive: game %s: %w", game, eventstore.ErrGameNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", game, err)
	}
	return blob, nil
}

func (b pgBlobs) List(ctx context.Context, fn func(uuid.UUID) error) error {
	rows, err := b.pool.Query(ctx, `SELECT game_id FROM archived_games ORDER BY archived_at, game_id`)
	if err != nil {
		return fmt.Errorf("archive: list: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("archive: list: %w", err)
	}
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (b pgBlobs) Size(ctx context.Context) (int, int64, error) {
	var n int
	var size int64
	err := b.pool.QueryRow(ctx, `SELECT count(*), pg_total_relation_size('archived_games') FROM archived_games`).Scan(&n, &size)
	return n, size, err
}
