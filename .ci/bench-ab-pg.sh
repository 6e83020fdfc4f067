#!/bin/bash
# Side-by-side CPU per move of two (or more) playlogd binaries on
# PostgreSQL, counting PostgreSQL's CPU, in turns in one run: the
# PostgreSQL counterpart of bench-ab.sh. It makes a throwaway cluster
# (initdb in a temp dir on a free port, fsync on; as the postgres user
# when run as root), a database per turn, and gives playlog bench the pids
# of playlogd and the postmaster, which counts its backends and workers.
# Run from the repository root after make build:
#
#   .ci/bench-ab-pg.sh 200 10s 4 /tmp/playlogd.base ./bin/playlogd
#
# Arguments: games, measured duration, rounds, then the binaries. The
# "all pids" line of each turn is playlogd's CPU plus PostgreSQL's.
set -euo pipefail
games=$1 dur=$2 rounds=$3
shift 3
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "bench-ab-pg: no initdb: apt-get install postgresql" >&2; exit 1; }
pgd=$(mktemp -d)
as() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	chown postgres "$pgd"
	as() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
fi
port=$((25432 + RANDOM % 500))
as "$pgbin/initdb" -D "$pgd/data" -A trust -U postgres > /dev/null
as "$pgbin/pg_ctl" -D "$pgd/data" -o "-p $port -k $pgd -c listen_addresses=127.0.0.1 -c fsync=on" -l "$pgd/log" start > /dev/null
trap 'as "$pgbin/pg_ctl" -D "$pgd/data" stop -m fast > /dev/null; rm -rf "$pgd"' EXIT
sleep 2
n=0
for r in $(seq 1 "$rounds"); do
	for b in "$@"; do
		n=$((n + 1))
		as "$pgbin/createdb" -h 127.0.0.1 -p $port -U postgres bench$n
		d=$(mktemp -d)
		hp=$((18100 + RANDOM % 500))
		"$b" -http 127.0.0.1:$hp -data "$d" -database-url "postgres://postgres@127.0.0.1:$port/bench$n" > "$d/log" 2>&1 &
		pid=$!
		sleep 3
		# A short run first: the schema, the first games, the caches.
		./bin/playlog bench -url http://127.0.0.1:$hp -secret-file "$d/dev-jwt-secret" -games "$games" -duration 3s -warmup 1s > /dev/null 2>&1 || true
		pm=$(head -1 "$pgd/data/postmaster.pid")
		# The postmaster counts its backends and workers, live or reaped,
		# whenever they were forked (playlog bench reads a pid's children).
		pids=$pid,$pm
		echo "== round $r $b"
		./bin/playlog bench -url http://127.0.0.1:$hp -secret-file "$d/dev-jwt-secret" -games "$games" \
			-duration "$dur" -warmup 3s -pid "$pids" ${BENCH_FLAGS:-} 2>&1 | grep -E '^moves|action_result|^pid '$pid'|^all pids|errors|^playlog bench: pid' || true
		kill $pid
		wait $pid 2>/dev/null || true
		rm -rf "$d"
	done
done
