#!/bin/bash
# Side-by-side CPU per move of two (or more) playlogd binaries on embedded
# JetStream, in turns in one run, so that a shared, noisy machine affects
# each alike. Run from the repository root after make build:
#
#   git worktree add /tmp/base <rev> && (cd /tmp/base && go build -o /tmp/playlogd.base ./cmd/playlogd)
#   .ci/bench-ab.sh 200 20s 2 /tmp/playlogd.base ./bin/playlogd
#
# Arguments: games, measured duration, rounds, then the binaries. Extra
# flags for playlog bench (-reuse) go in BENCH_FLAGS.
set -euo pipefail
games=$1 dur=$2 rounds=$3
shift 3
for r in $(seq 1 "$rounds"); do
	for b in "$@"; do
		d=$(mktemp -d)
		port=$((18100 + RANDOM % 500))
		"$b" -http 127.0.0.1:$port -data "$d" > "$d/log" 2>&1 &
		pid=$!
		sleep 2
		echo "== round $r $b"
		./bin/playlog bench -url http://127.0.0.1:$port -secret-file "$d/dev-jwt-secret" -games "$games" \
			-duration "$dur" -warmup 3s -pid $pid ${BENCH_FLAGS:-} 2>&1 | grep -E '^moves|action_result|^pid|errors' || true
		kill $pid
		wait $pid 2>/dev/null || true
		rm -rf "$d"
	done
done
