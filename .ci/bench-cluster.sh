#!/bin/bash
# Moves/s and mover p99 of 200 tictactoe games on one playlogd over a
# 3-server JetStream cluster with R3, beside one playlogd on its embedded
# single server, measured in turns in one run. Run from the repository
# root after make build; it builds nats-server from the module cache.
set -euo pipefail
games=${GAMES:-200}
duration=${DURATION:-30s}
rounds=${ROUNDS:-2}
dir=$(mktemp -d)
go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT

# The cluster: three servers on loopback, each with its own store.
routes="nats-route://127.0.0.1:16231,nats-route://127.0.0.1:16232,nats-route://127.0.0.1:16233"
for i in 1 2 3; do
	mkdir -p "$dir/n$i"
	"$dir/nats-server" -n "n$i" -a 127.0.0.1 -p $((14230 + i)) -js -sd "$dir/n$i" \
		--cluster_name playlog-bench --cluster "nats://127.0.0.1:$((16230 + i))" --routes "$routes" \
		> "$dir/n$i.log" 2>&1 &
	pids+=($!)
done
nats_pids=$(IFS=,; echo "${pids[*]}")
sleep 3
./bin/playlogd -http 127.0.0.1:18091 -data "$dir/r3" -nats-replicas 3 \
	-nats-url nats://127.0.0.1:14231,nats://127.0.0.1:14232,nats://127.0.0.1:14233 > "$dir/r3.log" 2>&1 &
r3=$!
pids+=($r3)
./bin/playlogd -http 127.0.0.1:18092 -data "$dir/r1" > "$dir/r1.log" 2>&1 &
r1=$!
pids+=($r1)
sleep 3
grep "event log" "$dir/r3.log" "$dir/r1.log"

bench() { # url secret-dir pids
	./bin/playlog bench -url "$1" -secret-file "$2/dev-jwt-secret" -games "$games" -duration "$duration" -pid "$3" |
		grep -E "^moves|action_result|^pid|errors"
}
for round in $(seq 1 "$rounds"); do
	echo "== round $round: 3-server cluster, R3 (CPU: playlogd, then the three nats-servers)"
	bench http://127.0.0.1:18091 "$dir/r3" "$r3,$nats_pids"
	echo "== round $round: embedded single server"
	bench http://127.0.0.1:18092 "$dir/r1" "$r1"
done
