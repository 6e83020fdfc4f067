package jsproj

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// Config configures a Bucket.
type Config struct {
	// Bucket is the key-value bucket's name. Required.
	Bucket string
	// Replicas of the bucket in a cluster. Default 1. An existing bucket
	// with fewer is scaled up to it, never down.
	Replicas int
	// CachedRecords bounds how many records a Bucket keeps in memory
	// between commits (it reads them again when another writer has
	// committed). Default 100000.
	CachedRecords int
	// RequestTimeout bounds one request to the server. Default 10s.
	RequestTimeout time.Duration
}

var bucketName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *Config) setDefaults() {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.CachedRecords == 0 {
		c.CachedRecords = 100000
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case !bucketName.MatchString(c.Bucket):
		return fmt.Errorf("jsproj: bucket name %q", c.Bucket)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("jsproj: replicas %d not in 1..5", c.Replicas)
	case c.CachedRecords < 1:
		return fmt.Errorf("jsproj: cached records %d", c.CachedRecords)
	case c.RequestTimeout < 10*time.Millisecond:
		return fmt.Errorf("jsproj: request timeout %v", c.RequestTimeout)
	}
	return nil
}

// MaxWrites is how many keys one commit may write, the checkpoint
// included: the server's cap on an atomic batch (1000 by default).
const MaxWrites = 1000

// checkpointKey holds the checkpoint; every other key is under the
// generation's prefix, "g<generation>.".
const checkpointKey = "checkpoint"

// checkpoint is the value of checkpointKey.
type checkpoint struct {
	Gen   uint64 `json:"gen"`
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
}

func (c checkpoint) pos() eventstore.Position {
	return eventstore.Position{Major: c.Major, Minor: c.Minor}
}

// Bucket is one projection's model and checkpoint in a JetStream key-value
// bucket. A commit is one atomic batch publish: the model's keys and the
// checkpoint, which carries the checkpoint's expected revision, so the
// server stores all of them or none, and only if no other commit came
// between. Safe for concurrent use.
type Bucket struct {
	cfg    Config
	nc     *nats.Conn
	kv     natsjs.KeyValue
	stream natsjs.Stream
	prefix string // the bucket's subject prefix, "$KV.<bucket>."

	// mu guards the cache of records written by this Bucket's commits. It
	// is valid while the checkpoint's revision is cacheRev: no other
	// writer has committed since.
	mu       sync.Mutex
	cache    map[string][]byte
	cacheRev uint64
}

var _ projections.Checkpointer[*Tx] = (*Bucket)(nil)

// OpenBucket opens the bucket cfg names over nc, creating it if need be,
// with atomic batch publish allowed (nats-server 2.12 or later).
func OpenBucket(ctx context.Context, nc *nats.Conn, cfg Config) (*Bucket, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jsproj: %w", err)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, natsjs.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, natsjs.KeyValueConfig{
			Bucket: cfg.Bucket, Description: "playlog projection: model and checkpoint",
			History: 1, Storage: natsjs.FileStorage, Replicas: cfg.Replicas,
		})
		if errors.Is(err, natsjs.ErrBucketExists) { // another process made it
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jsproj: bucket %s: %w", cfg.Bucket, err)
	}
	stream, err := js.Stream(ctx, "KV_"+cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("jsproj: bucket %s: %w", cfg.Bucket, err)
	}
	// An existing bucket gains the setting, and the replicas asked for
	// when it has fewer (a log scaled up since it was made); it is never
	// scaled down.
	if sc := stream.CachedInfo().Config; !sc.AllowAtomicPublish || sc.Replicas < cfg.Replicas {
		sc.AllowAtomicPublish = true
		sc.Replicas = max(sc.Replicas, cfg.Replicas)
		if stream, err = js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("jsproj: bucket %s: allow atomic publish, %d replicas: %w", cfg.Bucket, sc.Replicas, err)
		}
	}
	// A server before 2.12 drops the setting and would store a batch's
	// messages one by one: commits would not be atomic.
	if !stream.CachedInfo().Config.AllowAtomicPublish {
		return nil, fmt.Errorf("jsproj: bucket %s: the server does not keep allow_atomic (atomic batch publish needs nats-server 2.12 or later)", cfg.Bucket)
	}
	return &Bucket{cfg: cfg, nc: nc, kv: kv, stream: stream, prefix: "$KV." + cfg.Bucket + ".", cache: map[string][]byte{}}, nil
}

// load returns the checkpoint and its revision (0: no checkpoint yet, a
// new model of generation 1).
func (b *Bucket) load(ctx context.Context) (checkpoint, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	e, err := b.kv.Get(ctx, checkpointKey)
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		return checkpoint{Gen: 1}, 0, nil
	}
	if err != nil {
		return checkpoint{}, 0, fmt.Errorf("jsproj: %s: checkpoint: %w", b.cfg.Bucket, err)
	}
	var c checkpoint
	if err := json.Unmarshal(e.Value(), &c); err != nil || c.Gen == 0 {
		return checkpoint{}, 0, fmt.Errorf("jsproj: %s: malformed checkpoint %q", b.cfg.Bucket, e.Value())
	}
	return c, e.Revision(), nil
}

// Checkpoint implements projections.Checkpointer.
func (b *Bucket) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	c, _, err := b.load(ctx)
	return c.pos(), err
}

// Commit implements projections.Checkpointer: apply's writes and the new
// checkpoint in one atomic batch. ErrBatchTooLarge if apply writes more
// than MaxWrites-1 keys.
func (b *Bucket) Commit(ctx context.Context, from, to eventstore.Position, apply func(context.Context, *Tx) error) error {
	cp, rev, err := b.load(ctx)
	if err != nil {
		return err
	}
	if cp.pos() != from {
		return &projections.MovedError{At: cp.pos()}
	}
	b.mu.Lock()
	if b.cacheRev != rev || len(b.cache) > b.cfg.CachedRecords {
		clear(b.cache)
		b.cacheRev = rev
	}
	b.mu.Unlock()
	tx := &Tx{b: b, gen: cp.Gen, writes: map[string][]byte{}}
	if err := apply(ctx, tx); err != nil {
		return err
	}
	if len(tx.order)+1 > MaxWrites {
		return fmt.Errorf("jsproj: %s: %d keys: %w", b.cfg.Bucket, len(tx.order), projections.ErrBatchTooLarge)
	}
	next, err := json.Marshal(checkpoint{Gen: cp.Gen, Major: to.Major, Minor: to.Minor})
	if err != nil {
		return err
	}
	seq, err := b.publishBatch(ctx, tx, next, rev)
	if err != nil {
		b.mu.Lock()
		clear(b.cache)
		b.cacheRev = 0
		b.mu.Unlock()
		if errors.Is(err, errWrongRevision) {
			if now, _, lerr := b.load(ctx); lerr == nil && now.pos() != from {
				return &projections.MovedError{At: now.pos()}
			}
		}
		return err
	}
	b.mu.Lock()
	if b.cacheRev == rev {
		for _, k := range tx.order {
			if v := tx.writes[k]; v != nil && !tx.final[k] {
				b.cache[tx.key(k)] = v
			} else {
				delete(b.cache, tx.key(k))
			}
		}
		b.cacheRev = seq
	}
	b.mu.Unlock()
	return nil
}

var errWrongRevision = errors.New("jsproj: checkpoint revision moved")

// batchAck is the server's answer to an atomic batch's commit, or to the
// lone checkpoint's publish (no count).
type batchAck struct {
	Seq   uint64 `json:"seq"`
	Count int    `json:"count"`
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// publishBatch publishes tx's writes and then the checkpoint (expected at
// revision rev) as one atomic batch, and returns the checkpoint's new
// revision. The batch's messages before the commit are sent without a
// reply subject, in order on one connection; the commit is a request.
//
// A commit that writes no key (a batch of events the model ignores) is the
// checkpoint alone: one conditional publish, atomic by itself. It is no
// batch, because nats-server stages every atomic batch of an R1 file
// stream in a file store of its own, made and removed for the batch.
func (b *Bucket) publishBatch(ctx context.Context, tx *Tx, cp []byte, rev uint64) (uint64, error) {
	n := len(tx.order) + 1
	m := nats.NewMsg(b.prefix + checkpointKey)
	m.Data = cp
	if n > 1 {
		id := nuid.Next()
		for i, k := range tx.order {
			w := nats.NewMsg(b.prefix + tx.key(k))
			w.Data = tx.writes[k]
			w.Header.Set("Nats-Batch-Id", id)
			w.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
			if err := b.nc.PublishMsg(w); err != nil {
				return 0, fmt.Errorf("jsproj: %s: publish: %w", b.cfg.Bucket, err)
			}
		}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(n))
		m.Header.Set("Nats-Batch-Commit", "1")
	}
	m.Header.Set(natsjs.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	rctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	reply, err := b.nc.RequestMsgWithContext(rctx, m)
	if err != nil {
		return 0, fmt.Errorf("jsproj: %s: commit: %w", b.cfg.Bucket, err)
	}
	var ack batchAck
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return 0, fmt.Errorf("jsproj: %s: commit: reply %q: %w", b.cfg.Bucket, reply.Data, err)
	}
	switch {
	case ack.Error != nil && (ack.Error.ErrCode == int(natsjs.JSErrCodeStreamWrongLastSequence) ||
		ack.Error.ErrCode == int(natsjs.JSErrCodeStreamWrongLastSequenceConstant)):
		return 0, fmt.Errorf("%w: %s", errWrongRevision, ack.Error.Description)
	case ack.Error != nil:
		return 0, fmt.Errorf("jsproj: %s: commit: %s (%d)", b.cfg.Bucket, ack.Error.Description, ack.Error.ErrCode)
	case n > 1 && ack.Count != n:
		return 0, fmt.Errorf("jsproj: %s: commit stored %d of %d keys", b.cfg.Bucket, ack.Count, n)
	}
	return ack.Seq, nil
}

// Reset starts a new, empty generation of the model at the zero
// checkpoint, then purges the old generation's keys. A runner still
// following from the old checkpoint has its next commit refused (the
// checkpoint's revision moved) and starts over from zero too, in the new
// generation; writes into the old one are never read.
func (b *Bucket) Reset(ctx context.Context) error {
	cp, rev, err := b.load(ctx)
	if err != nil {
		return err
	}
	next, _ := json.Marshal(checkpoint{Gen: cp.Gen + 1})
	if rev == 0 {
		_, err = b.kv.Create(ctx, checkpointKey, next)
	} else {
		_, err = b.kv.Update(ctx, checkpointKey, next, rev)
	}
	if err != nil {
		return fmt.Errorf("jsproj: reset %s: %w", b.cfg.Bucket, err)
	}
	b.mu.Lock()
	clear(b.cache)
	b.cacheRev = 0
	b.mu.Unlock()
	if err := b.stream.Purge(ctx, natsjs.WithPurgeSubject(b.prefix+genPrefix(cp.Gen)+">")); err != nil {
		return fmt.Errorf("jsproj: reset %s: purge generation %d: %w", b.cfg.Bucket, cp.Gen, err)
	}
	return nil
}

func genPrefix(gen uint64) string { return "g" + strconv.FormatUint(gen, 10) + "." }

// generation returns the generation readers should read (that of the
// checkpoint).
func (b *Bucket) generation(ctx context.Context) (uint64, error) {
	c, _, err := b.load(ctx)
	return c.Gen, err
}

// Tx is one commit's unit of work: reads see the commit's own writes,
// then the bucket; writes are kept until the commit publishes them. Keys
// are relative to the model's generation. Not safe for concurrent use.
type Tx struct {
	b      *Bucket
	gen    uint64
	writes map[string][]byte
	order  []string
	final  map[string]bool // written, but not to be cached
}

func (t *Tx) key(k string) string { return genPrefix(t.gen) + k }

// Get returns key's value within a commit: the commit's own write, a
// record this Bucket's commits wrote (valid while no other writer has
// committed, which Commit checks), or the bucket's.
func (t *Tx) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := t.writes[key]; ok {
		return v, true, nil
	}
	t.b.mu.Lock()
	v, ok := t.b.cache[t.key(key)]
	t.b.mu.Unlock()
	if ok {
		return v, true, nil
	}
	return t.b.get(ctx, t.key(key))
}

// get reads key from the bucket itself. Reads outside a commit use it, not
// the cache: the cache holds only while no other writer has committed,
// which a commit checks and a read does not.
func (b *Bucket) get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	e, err := b.kv.Get(ctx, key)
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("jsproj: get %s: %w", key, err)
	}
	return e.Value(), true, nil
}

// Put writes key in the commit. final says that the key will not be read
// again by a commit, so it need not be kept in memory.
func (t *Tx) Put(key string, value []byte, final bool) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = value
	if final {
		if t.final == nil {
			t.final = map[string]bool{}
		}
		t.final[key] = true
	} else {
		delete(t.final, key)
	}
}
