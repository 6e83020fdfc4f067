package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/protocol"
)

// Bus carries presence between the nodes serving one store. Publish must not
// block for long; Subscribe calls fn for every message published by any
// node (this one included) until ctx ends. Messages may be lost: presence
// repeats itself every few seconds.
type Bus interface {
	Publish(ctx context.Context, msg []byte) error
	Subscribe(ctx context.Context, fn func(msg []byte)) error
}

// presenceReport is what a node says about one game, on change and
// periodically: which players have a connection to it there, and how many
// spectators.
type presenceReport struct {
	Node       string    `json:"node"`
	Game       uuid.UUID `json:"game"`
	Players    []string  `json:"players"`
	Spectators int       `json:"spectators"`
}

const (
	presenceRefresh = 5 * time.Second
	presenceExpiry  = 3 * presenceRefresh // a silent node's reports expire
)

// presence aggregates, per game, who is connected and how many watch,
// across nodes, and tells the game's local connections when it changes.
type presence struct {
	now      func() time.Time
	debounce time.Duration
	log      *slog.Logger
	bus      Bus
	node     string
	own      []byte // how this node's reports begin: the bus echoes them

	mu        sync.Mutex
	local     map[uuid.UUID]*localGame
	remote    map[uuid.UUID]map[string]remoteReport
	shown     map[uuid.UUID]shownState // what local connections were last told
	countsDue map[uuid.UUID]struct{}   // games whose spectator count changed
	kick      chan uuid.UUID           // games whose report to publish; bounded
}

type localGame struct {
	conns   map[*conn]localConn  // the connections following the game here
	players map[string]int       // player -> connections here
	goneAt  map[string]time.Time // player -> when the last connection left; nil until one leaves
}

// localConn is one connection following a game on this node.
type localConn struct {
	role string
	told int // the spectator count it was last told
}

type remoteReport struct {
	players    []string
	spectators int
	expires    time.Time
}

type shownState struct {
	connected  map[string]bool
	spectators int
}

func newPresence(now func() time.Time, debounce time.Duration, log *slog.Logger, bus Bus, node string) *presence {
	own, _ := json.Marshal(node)
	return &presence{
		now: now, debounce: debounce, log: log, bus: bus, node: node,
		own:   append(append([]byte(`{"node":`), own...), ','),
		local: map[uuid.UUID]*localGame{}, remote: map[uuid.UUID]map[string]remoteReport{},
		shown: map[uuid.UUID]shownState{}, countsDue: map[uuid.UUID]struct{}{}, kick: make(chan uuid.UUID, 1024),
	}
}

func (p *presence) joined(game uuid.UUID, c *conn, role string) {
	p.mu.Lock()
	lg := p.local[game]
	if lg == nil {
		lg = &localGame{conns: map[*conn]localConn{}, players: map[string]int{}}
		p.local[game] = lg
	}
	lg.conns[c] = localConn{role: role}
	if role == protocol.RolePlayer {
		lg.players[c.user]++
		delete(lg.goneAt, c.user)
	}
	// The newcomer learns the current state; others learn what changed.
	st := p.state(game)
	if role == protocol.RolePlayer {
		for _, pl := range sortedKeys(st.connected) {
			if pl != c.user {
				c.offer(opponentStatus(game, pl, st.connected[pl]))
			}
		}
	}
	c.offer(spectatorCount(game, st.spectators))
	lg.conns[c] = localConn{role: role, told: st.spectators}
	// The others learn of the newcomer under the same lock: a second join
	// in between would otherwise take this change for told, and its own
	// newcomer never learn of this one.
	p.notifyExcept(game, c)
	p.mu.Unlock()
	p.kickPublish(game)
}

func (p *presence) left(game uuid.UUID, c *conn, role string) {
	p.mu.Lock()
	if lg := p.local[game]; lg != nil {
		delete(lg.conns, c)
		if role == protocol.RolePlayer {
			if lg.players[c.user]--; lg.players[c.user] <= 0 {
				delete(lg.players, c.user)
				if lg.goneAt == nil {
					lg.goneAt = map[string]time.Time{}
				}
				lg.goneAt[c.user] = p.now()
			}
		}
	}
	p.mu.Unlock()
	p.changed(game, nil)
}

// changed tells local connections, but told, what changed and queues a
// report.
func (p *presence) changed(game uuid.UUID, told *conn) {
	p.mu.Lock()
	p.notifyExcept(game, told)
	p.mu.Unlock()
	p.kickPublish(game)
}

// kickPublish asks the publisher to report game to the other nodes soon.
func (p *presence) kickPublish(game uuid.UUID) {
	select {
	case p.kick <- game:
	default: // the periodic refresh will carry it
	}
}

// state is the game's aggregate now: local players (a departed one counts
// as connected until the debounce passes), remote players, all spectators.
// The caller holds p.mu.
func (p *presence) state(game uuid.UUID) shownState {
	now := p.now()
	st := shownState{connected: map[string]bool{}}
	if lg := p.local[game]; lg != nil {
		for pl := range lg.players {
			st.connected[pl] = true
		}
		for pl, at := range lg.goneAt {
			st.connected[pl] = st.connected[pl] || now.Sub(at) < p.debounce
		}
		for _, lc := range lg.conns {
			if lc.role == protocol.RoleSpectator {
				st.spectators++
			}
		}
	}
	for _, r := range p.remote[game] {
		for _, pl := range r.players {
			st.connected[pl] = true
		}
		st.spectators += r.spectators
	}
	return st
}

// announce offers m to every local connection following game (only its
// players' if playersOnly), without waiting.
func (p *presence) announce(game uuid.UUID, m protocol.Message, playersOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lg := p.local[game]; lg != nil {
		for c, lc := range lg.conns {
			if !playersOnly || lc.role == protocol.RolePlayer {
				c.offer(m)
			}
		}
	}
}

// notify pushes opponent_status and spectator_count changes to the game's
// local connections. The caller holds p.mu.
func (p *presence) notify(game uuid.UUID) { p.notifyExcept(game, nil) }

// notifyExcept is notify, leaving out told. The caller holds p.mu.
func (p *presence) notifyExcept(game uuid.UUID, told *conn) {
	lg := p.local[game]
	st := p.state(game)
	old, seen := p.shown[game]
	p.shown[game] = st
	if lg == nil || len(lg.conns) == 0 {
		if lg != nil && len(lg.goneAt) == 0 {
			delete(p.local, game)
		}
		if len(p.remote[game]) == 0 {
			delete(p.shown, game)
		}
		return
	}
	for c, lc := range lg.conns {
		if c == told {
			continue
		}
		if lc.role == protocol.RolePlayer {
			for _, pl := range sortedKeys(st.connected) {
				if pl != c.user && (!seen || old.connected[pl] != st.connected[pl]) {
					c.offer(opponentStatus(game, pl, st.connected[pl]))
				}
			}
			for pl, was := range old.connected {
				// A player shown as gone already (false, within the
				// debounce's end) was told so then.
				if _, still := st.connected[pl]; !still && was && pl != c.user {
					c.offer(opponentStatus(game, pl, false))
				}
			}
		}
	}
	if seen && old.spectators != st.spectators {
		// Counts are coalesced: a thousand spectators joining at once is one
		// count for each viewer per countTick, not a million messages.
		p.countsDue[game] = struct{}{}
	}
}

// countTick is how often changed spectator counts are sent.
const countTick = 100 * time.Millisecond

// sendCounts tells each connection of the games whose spectator count
// changed the count now, unless it was told that already.
func (p *presence) sendCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for game := range p.countsDue {
		delete(p.countsDue, game)
		lg := p.local[game]
		if lg == nil {
			continue
		}
		n := p.state(game).spectators
		msg := spectatorCount(game, n)
		for c, lc := range lg.conns {
			if lc.told != n {
				c.offer(msg)
				lc.told = n
				lg.conns[c] = lc
			}
		}
	}
}

// run publishes reports and listens to other nodes' until ctx ends.
func (p *presence) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := p.bus.Subscribe(ctx, p.receive)
			if ctx.Err() == nil {
				p.log.Warn("presence bus subscription ended; retrying", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	tick := time.NewTicker(presenceRefresh)
	defer tick.Stop()
	debounce := time.NewTicker(max(p.debounce/4, 50*time.Millisecond))
	defer debounce.Stop()
	counts := time.NewTicker(countTick)
	defer counts.Stop()
	for {
		select {
		case <-counts.C:
			p.sendCounts()
		case <-ctx.Done():
			wg.Wait()
			return
		case game := <-p.kick:
			p.publish(ctx, game)
		case <-tick.C:
			p.mu.Lock()
			games := make([]uuid.UUID, 0, len(p.local))
			for g := range p.local {
				games = append(games, g)
			}
			p.expire()
			p.mu.Unlock()
			for _, g := range games {
				p.publish(ctx, g)
			}
		case <-debounce.C:
			p.settle(ctx)
		}
	}
}

// settle ends the grace of players whose debounce has passed.
func (p *presence) settle(ctx context.Context) {
	now := p.now()
	var done []uuid.UUID
	p.mu.Lock()
	for g, lg := range p.local {
		for pl, at := range lg.goneAt {
			if now.Sub(at) >= p.debounce {
				delete(lg.goneAt, pl)
				done = append(done, g)
			}
		}
	}
	for _, g := range done {
		p.notify(g)
	}
	p.mu.Unlock()
	for _, g := range done {
		p.publish(ctx, g)
	}
}

// expire drops reports of nodes that went silent. The caller holds p.mu.
func (p *presence) expire() {
	now := p.now()
	for g, nodes := range p.remote {
		changed := false
		for n, r := range nodes {
			if now.After(r.expires) {
				delete(nodes, n)
				changed = true
			}
		}
		if len(nodes) == 0 {
			delete(p.remote, g) // every node's report of it has ended
		}
		if changed {
			p.notify(g)
		}
	}
}

func (p *presence) publish(ctx context.Context, game uuid.UUID) {
	p.mu.Lock()
	r := presenceReport{Node: p.node, Game: game, Players: []string{}}
	if lg := p.local[game]; lg != nil {
		r.Players = sortedKeys(lg.players)
		for pl := range lg.goneAt { // still within their grace
			r.Players = append(r.Players, pl)
		}
		for _, lc := range lg.conns {
			if lc.role == protocol.RoleSpectator {
				r.Spectators++
			}
		}
	}
	p.mu.Unlock()
	b, _ := json.Marshal(r)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := p.bus.Publish(pctx, b); err != nil && ctx.Err() == nil {
		p.log.Warn("presence publish failed", "game", game, "err", err)
	}
}

func (p *presence) receive(msg []byte) {
	// Every report this node publishes comes back from the bus; skip those
	// before decoding (presenceReport's first field, as json.Marshal
	// writes it). The check after decoding covers any other form.
	if bytes.HasPrefix(msg, p.own) {
		return
	}
	var r presenceReport
	if json.Unmarshal(msg, &r) != nil || r.Node == p.node || r.Game == uuid.Nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	nodes := p.remote[r.Game]
	if nodes == nil {
		nodes = map[string]remoteReport{}
		p.remote[r.Game] = nodes
	}
	if len(r.Players) == 0 && r.Spectators == 0 {
		delete(nodes, r.Node)
		if len(nodes) == 0 {
			delete(p.remote, r.Game) // nothing of it left on other nodes
		}
	} else {
		nodes[r.Node] = remoteReport{players: r.Players, spectators: r.Spectators, expires: p.now().Add(presenceExpiry)}
	}
	p.notify(r.Game)
}

func opponentStatus(game uuid.UUID, player string, connected bool) protocol.Message {
	status := "disconnected"
	if connected {
		status = "connected"
	}
	return protocol.Message{Type: protocol.TypeOpponentStatus, GameID: game.String(), PlayerID: player, Status: status}
}

func spectatorCount(game uuid.UUID, n int) protocol.Message {
	return protocol.Message{Type: protocol.TypeSpectatorCount, GameID: game.String(), Count: &n}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LocalBus is a Bus inside one process: enough for a single node, and for
// tests that run several gateways in one process.
type LocalBus struct {
	mu   sync.Mutex
	subs map[*func([]byte)]struct{}
}

// NewLocalBus returns an empty LocalBus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[*func([]byte)]struct{}{}} }

// Publish delivers msg to every subscriber.
func (b *LocalBus) Publish(_ context.Context, msg []byte) error {
	b.mu.Lock()
	fns := make([]func([]byte), 0, len(b.subs))
	for f := range b.subs {
		fns = append(fns, *f)
	}
	b.mu.Unlock()
	for _, f := range fns {
		f(msg)
	}
	return nil
}

// Subscribe calls fn for every message until ctx ends.
func (b *LocalBus) Subscribe(ctx context.Context, fn func([]byte)) error {
	b.mu.Lock()
	b.subs[&fn] = struct{}{}
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.subs, &fn)
	b.mu.Unlock()
	return ctx.Err()
}
