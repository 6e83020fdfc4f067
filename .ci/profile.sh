#!/bin/bash
# A CPU profile of playlogd under the 200-game bench on embedded JetStream,
# split by the goroutine each sample ran on. Run from the repository root
# after make build:
#
#   .ci/profile.sh ./bin/playlogd /tmp/prof
#
# Arguments: the binary, an output directory (cpu.pprof, bench.txt,
# split.txt, top.txt go there). GAMES (200), DURATION (24s of bench) and
# SECONDS_PROFILED (12 s of profile, taken from the bench's 8th second) may
# be set. (Not SECONDS: bash's own, the seconds since the shell started.)
set -euo pipefail
bin=$1 out=$2
games=${GAMES:-200} dur=${DURATION:-24s} secs=${SECONDS_PROFILED:-12}
mkdir -p "$out"
d=$(mktemp -d)
port=$((18600 + RANDOM % 300))
"$bin" -http 127.0.0.1:$port -data "$d" -pprof > "$d/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
sleep 2
./bin/playlog bench -url http://127.0.0.1:$port -secret-file "$d/dev-jwt-secret" -games "$games" \
	-duration "$dur" -warmup 3s -pid $pid > "$out/bench.txt" 2>&1 &
bench=$!
sleep 8
curl -s -o "$out/cpu.pprof" "http://127.0.0.1:$port/debug/pprof/profile?seconds=$secs"
wait $bench
go tool pprof -top -cum "$bin" "$out/cpu.pprof" > "$out/top.txt" 2>/dev/null
# Each sample once, by its goroutine's root: the outermost frame of the
# stack, named by the function the goroutine was started with.
go tool pprof -traces "$bin" "$out/cpu.pprof" 2>/dev/null | awk '
	/^-+\+-+$/ { if (root != "") { total += n; by[root] += n }; root = ""; n = 0; next }
	n == 0 && /^ +[0-9.]+(ms|s|us) / {
		v = $1; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
		n = (unit == "s") ? v * 1000 : (unit == "us" ? v / 1000 : v); root = $2; next
	}
	n > 0 && NF == 1 { root = $1 }
	END {
		if (root != "") { total += n; by[root] += n }
		for (r in by) printf "%5.1f%%  %s\n", 100 * by[r] / total, r
	}' | sort -rn > "$out/split.txt"
grep -E '^moves|action_result|^pid|errors' "$out/bench.txt" || true
head -25 "$out/split.txt"
