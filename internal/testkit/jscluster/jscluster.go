// Package jscluster runs a NATS JetStream cluster of three servers in the
// test's process, clustered over loopback, for tests of a replicated log:
// servers can be killed and restarted on their own ports and files.
//
// Every connection to or between the servers (clients', and the routes
// between each pair) passes through a TCP proxy of the cluster's, so that
// Kill can cut a server off the network at once, as a crash or a pulled
// cable would, before it shuts down: nats-server's own Shutdown first
// hands its leaderships over politely, which is a step-down, not a loss.
package jscluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// Cluster is three clustered servers. Its methods are not safe for
// concurrent use.
type Cluster struct {
	t       testing.TB
	dir     string
	client  []int // servers' own client ports
	route   []int // servers' own cluster ports
	servers []*server.Server

	clientProxy []*proxy   // the client port clients are given, per server
	routeProxy  [][]*proxy // routeProxy[a][b]: the way from server a to b's cluster port
}

// Start starts the three servers and waits until JetStream has a leader.
// They stop at the test's cleanup.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir(), servers: make([]*server.Server, 3), routeProxy: make([][]*proxy, 3)}
	for range 3 {
		c.client = append(c.client, freePort(t))
		c.route = append(c.route, freePort(t))
	}
	for i := range 3 {
		c.clientProxy = append(c.clientProxy, newProxy(t, c.client[i]))
		c.routeProxy[i] = make([]*proxy, 3)
		for j := range 3 {
			if j != i {
				c.routeProxy[i][j] = newProxy(t, c.route[j])
			}
		}
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
		for i := range 3 {
			for _, p := range c.proxies(i) {
				p.cut()
			}
		}
	})
	for i := range 3 {
		c.start(i)
	}
	c.waitLeader()
	return c
}

// URL is a client URL naming every server, for nats.Connect.
func (c *Cluster) URL() string {
	urls := make([]string, 3)
	for i, p := range c.clientProxy {
		urls[i] = "nats://" + p.addr
	}
	return strings.Join(urls, ",")
}

// Kill takes server i down as a crash would: every connection to and
// from it is reset at once, so it hands nothing over and its peers learn
// of its loss only by silence; then it is shut down. Its files stay.
func (c *Cluster) Kill(i int) {
	for _, p := range c.proxies(i) {
		p.cut()
	}
	c.servers[i].Shutdown()
	c.servers[i].WaitForShutdown()
	c.servers[i] = nil
}

// Restart starts server i again on its ports and files, reconnects it,
// and waits until JetStream has a leader.
func (c *Cluster) Restart(i int) {
	c.start(i)
	for _, p := range c.proxies(i) {
		p.resume()
	}
	c.waitLeader()
}

// proxies are the proxies that carry server i's connections: its client
// port's, and the routes from and to it.
func (c *Cluster) proxies(i int) []*proxy {
	ps := []*proxy{c.clientProxy[i]}
	for j := range 3 {
		if j != i {
			ps = append(ps, c.routeProxy[i][j], c.routeProxy[j][i])
		}
	}
	return ps
}

// Leader is the index of the server leading stream's replicas.
func (c *Cluster) Leader(stream string) int {
	c.t.Helper()
	nc, js := c.connect()
	defer nc.Close()
	return c.leader(js, stream)
}

// StepDown asks stream's leader to step down and waits until another
// server leads it; it returns the new leader's index.
func (c *Cluster) StepDown(stream string) int {
	c.t.Helper()
	nc, js := c.connect()
	defer nc.Close()
	old := c.leader(js, stream)
	m, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, nil, 10*time.Second)
	if err != nil {
		c.t.Fatalf("jscluster: step down %s: %v", stream, err)
	}
	var res struct {
		Success bool `json:"success"`
		Error   *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &res); err != nil || !res.Success {
		c.t.Fatalf("jscluster: step down %s: %s (%v)", stream, m.Data, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.leaderOrNone(js, stream); l >= 0 && l != old {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("jscluster: %s has no new leader within 30 s of stepping down", stream)
	return -1
}

func (c *Cluster) connect() (*nats.Conn, natsjs.JetStream) {
	c.t.Helper()
	nc, err := nats.Connect(c.URL())
	if err != nil {
		c.t.Fatalf("jscluster: connect: %v", err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		nc.Close()
		c.t.Fatalf("jscluster: %v", err)
	}
	return nc, js
}

// leader waits up to 30 s for stream to have a leader and returns it.
func (c *Cluster) leader(js natsjs.JetStream, stream string) int {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.leaderOrNone(js, stream); l >= 0 {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("jscluster: %s has no leader within 30 s", stream)
	return -1
}

// leaderOrNone is the index of stream's leader, or -1 if it has none now.
func (c *Cluster) leaderOrNone(js natsjs.JetStream, stream string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil || st.CachedInfo().Cluster == nil {
		return -1
	}
	for i, s := range c.servers {
		if s != nil && s.Name() == st.CachedInfo().Cluster.Leader {
			return i
		}
	}
	return -1
}

// Server is server i, nil while it is killed.
func (c *Cluster) Server(i int) *server.Server { return c.servers[i] }

func (c *Cluster) start(i int) {
	c.t.Helper()
	var routes []string
	for j := range 3 {
		if j != i {
			routes = append(routes, "nats-route://"+c.routeProxy[i][j].addr)
		}
	}
	peer := (i + 1) % 3 // the way into server i that it gossips: a peer's proxy to it
	opts := &server.Options{
		ServerName:      fmt.Sprintf("n%d", i+1),
		Host:            "127.0.0.1",
		Port:            c.client[i],
		JetStream:       true,
		StoreDir:        filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)),
		NoSigs:          true,
		NoLog:           true,
		ClientAdvertise: c.clientProxy[i].addr,
		Cluster: server.ClusterOpts{
			Name:      "playlog-test",
			Host:      "127.0.0.1",
			Port:      c.route[i],
			Advertise: c.routeProxy[peer][i].addr,
		},
		Routes:             server.RoutesFromStr(strings.Join(routes, ",")),
		JetStreamMaxMemory: 64 << 20,
		MaxPayload:         2 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		c.t.Fatalf("jscluster: server %d: %v", i+1, err)
	}
	go s.Start()
	// It returns once the server is ready, so the bound costs nothing
	// when all is well; 20 s was too short twice, in a full race run on 2
	// loaded cores (a clustered JetStream server starts slowly there).
	if !s.ReadyForConnections(90 * time.Second) {
		c.t.Fatalf("jscluster: server %d not ready within 90 s", i+1)
	}
	c.servers[i] = s
}

// waitLeader waits until JetStream's meta group has a leader and every
// running server is current with it.
func (c *Cluster) waitLeader() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		current := true
		for _, s := range c.servers {
			if s != nil && !s.JetStreamIsCurrent() {
				current = false
			}
		}
		if current && metaLeaderKnown(c.servers) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("jscluster: no JetStream meta leader within 30 s")
}

func metaLeaderKnown(servers []*server.Server) bool {
	for _, s := range servers {
		if s != nil && s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// freePort returns a port free now, below the kernel's ephemeral range,
// and reserved for this process until it exits.
//
// The cluster binds its ports later, and binds a killed server's again when
// it restarts: a port from the ephemeral range (what port 0 gives) can be
// taken meanwhile as the local port of any outgoing connection on the
// machine, and a server that cannot bind its port is never ready (it
// failed that way twice in full race runs on 2 busy cores). Below that
// range, the only other takers are test binaries of this module running
// at the same time (go test runs packages in parallel), which pick ports
// here too: a port is first reserved by an flock on a file named after it,
// held until the process exits, so that no two of them hand out the same
// port while either may still bind it (a proxy's listen once failed that
// way in a full run).
func freePort(t testing.TB) int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
				low = n
			}
		}
	}
	dir := filepath.Join(os.TempDir(), "playlog-test-ports-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("jscluster: %v", err)
	}
	for range 1000 {
		port := 10000 + rand.IntN(low-10000)
		if !reserve(filepath.Join(dir, strconv.Itoa(port))) {
			continue
		}
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("jscluster: no free port between 10000 and %d", low)
	return 0
}

// reserved holds the files whose locks reserve this process's ports; the
// locks go with the process.
var reserved struct {
	sync.Mutex
	files []*os.File
}

// reserve takes the lock of a port's file, without waiting: false if
// another process, or this one, holds it.
func reserve(name string) bool {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	reserved.Lock()
	reserved.files = append(reserved.files, f)
	reserved.Unlock()
	return true
}
