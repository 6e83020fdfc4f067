#!/bin/bash
# Moves/s of 200 tictactoe games with and without a whole-store audit
# beside them: jetstream (embedded, shared over -nats-listen) or postgres
# (PLAYLOG_DATABASE_URL). Run from the repository root after make build.
set -euo pipefail
backend=${1:-jetstream}
data=$(mktemp -d)
port=18090
if [ "$backend" = jetstream ]; then
	store=(-data "$data" -nats-listen 127.0.0.1:14290)
	audit_store=(--nats-url nats://127.0.0.1:14290)
else
	store=(-data "$data" -database-url "$PLAYLOG_DATABASE_URL" -database-schema "bench$$")
	audit_store=(--database-url "$PLAYLOG_DATABASE_URL" --database-schema "bench$$")
fi
./bin/playlogd -http 127.0.0.1:$port "${store[@]}" > "$data/playlogd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 2
bench=(./bin/playlog bench -url http://127.0.0.1:$port -secret-file "$data/dev-jwt-secret" -games 200 -pid $pid)
audit=(./bin/playlog audit "${audit_store[@]}" --public-key "$data/dev-seal-key.pub" --quiet --parallel 1 --max-events-per-second "${AUDIT_RATE:-0}")
echo "== seeding: 30 s of play"
"${bench[@]}" -duration 30s -warmup 1s | grep -E "^moves|games completed"
echo "== audit alone"
"${audit[@]}" | tail -1
for round in $(seq 1 ${ROUNDS:-2}); do
	echo "== round $round: play alone, 30 s"
	"${bench[@]}" -duration 30s | grep -E "^moves|^pid|action_result"
	echo "== round $round: play beside an audit, 30 s"
	"${audit[@]}" > "$data/audit.out" &
	a=$!
	"${bench[@]}" -duration 30s | grep -E "^moves|^pid|action_result"
	wait $a || true
	echo "audit beside play: $(tail -1 "$data/audit.out")"
done
