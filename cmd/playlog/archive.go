package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/eventstore"
)

// runArchive moves the games that ended more than --older-than ago out of
// the hot store into its archive (package archive), and reports the hot
// store's size before and after.
func runArchive(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog archive", flag.ContinueOnError)
	var parseOut bytes.Buffer
	fs.SetOutput(&parseOut)
	var sf storeFlags
	sf.register(fs, env)
	olderThan := fs.Duration("older-than", 30*24*time.Hour, "archive games that ended longer ago than this")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "playlog archive: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *olderThan < 0 {
		fmt.Fprintln(stderr, "playlog archive: --older-than must not be negative")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	store, err := sf.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return storeFailed(err)
	}
	defer store.Close()
	hot := eventstore.Unwrap(store)
	blobs, err := archive.OpenBlobs(ctx, hot)
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return 1
	}
	before, records, err := archive.HotSize(ctx, hot)
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return 1
	}
	progress := io.Discard
	if !*quiet {
		progress = stderr
	}
	var bar *progressbar.ProgressBar
	failed := 0
	start := time.Now()
	moved, err := archive.Move(ctx, hot, blobs, archive.Options{
		Before: time.Now().Add(-*olderThan),
		Candidates: func(n int) {
			bar = newBar(int64(n), progress, "archiving", "games", false)
		},
		Progress: func(game uuid.UUID, events int, err error) {
			if err != nil {
				failed++
				fmt.Fprintf(stderr, "playlog archive: game %s: %v\n", game, err)
			}
			bar.Add(1)
		},
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return 1
	}
	after, recordsAfter, err := archive.HotSize(ctx, hot)
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return 1
	}
	games, size, err := blobs.Size(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "playlog archive: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "archived %d games (%d events, %d bytes gzipped) in %s; hot store %d -> %d bytes (%d -> %d records); archive holds %d games, %d bytes\n",
		moved.Games, moved.Events, moved.Bytes, time.Since(start).Round(time.Millisecond), before, after, records, recordsAfter, games, size)
	if failed > 0 {
		return 1
	}
	return 0
}
