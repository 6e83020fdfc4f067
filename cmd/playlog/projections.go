package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/open"
)

// runProjections is "playlog projections rebuild history": it empties the
// history model and its checkpoint, then folds the whole log into it
// again, up to the log's end when it started, showing its progress. A
// running playlogd's history runner notices the reset and follows the
// rebuilt model from its new checkpoint.
func runProjections(args []string, env func(string) string, stdout, stderr io.Writer) int {
	const use = "usage: playlog projections rebuild history (--data DIR | --nats-url URL | --database-url URL) [--batch N] [--quiet]"
	fs := flag.NewFlagSet("playlog projections rebuild history", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	var sf storeFlags
	sf.register(fs, env)
	batch := fs.Int("batch", 1000, "events per commit")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if len(args) < 2 || args[0] != "rebuild" || args[1] != "history" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(stdout, use)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(stderr, use)
		return 2
	}
	if code, done := parseFlags(fs, args[2:], &out, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "playlog projections: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *batch < 1 {
		fmt.Fprintf(stderr, "playlog projections: --batch must be at least 1\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := sf.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "playlog projections: %v\n", err)
		return storeFailed(err)
	}
	defer store.Close()
	var progress io.Writer = stderr
	if *quiet {
		progress = io.Discard
	}
	res, err := rebuildHistory(ctx, store, *batch, progress)
	if err != nil {
		fmt.Fprintf(stderr, "playlog projections: rebuild history: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "history rebuilt: %d events in %s (%.0f events/s), checkpoint %s\n",
		res.events, res.took.Round(time.Millisecond), float64(res.events)/res.took.Seconds(), res.checkpoint)
	return 0
}

type rebuilt struct {
	events     int64
	took       time.Duration
	checkpoint eventstore.Position
}

// rebuildHistory resets the history model of store's backend and runs it
// until it has folded the log up to its end when the rebuild began.
func rebuildHistory(ctx context.Context, store eventstore.Store, batch int, progress io.Writer) (rebuilt, error) {
	m, err := open.History(ctx, store)
	if err != nil {
		return rebuilt{}, err
	}
	end, total, err := m.End(ctx)
	if err != nil {
		return rebuilt{}, err
	}
	if err := m.Reset(ctx); err != nil {
		return rebuilt{}, err
	}
	start := time.Now()
	if end == (eventstore.Position{}) {
		return rebuilt{}, nil
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription("rebuilding history"),
		progressbar.OptionSetItsString(m.Unit),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
	)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var res rebuilt
	opts := projections.RunnerOptions{
		MaxBatch: batch,
		OnCommit: func(to eventstore.Position, n int) {
			res.events += int64(n)
			res.checkpoint = to
			bar.Set64(min(m.Done(to, res.events), total))
			if !to.Less(end) {
				stop()
			}
		},
	}
	if err := m.Run(runCtx, store, opts); err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("interrupted at %s: run it again to start over", res.checkpoint)
	}
	bar.Finish()
	res.took = time.Since(start)
	return res, nil
}
