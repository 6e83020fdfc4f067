# playlog: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
DATA    ?= ./data
FUZZTIME ?= 5s

# Packages whose code starts goroutines or shares state between them.
RACE_PKGS = ./eventstore/... ./seal/... ./archive/... ./export/... ./migrations/... ./internal/... ./play/... ./projections/... ./hub/... ./replay/... ./metrics/... ./gateway/... ./client/... ./timers/... ./cmd/...

.PHONY: all build run test test-unit test-race fuzz bench lint clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

## run: start playlogd with embedded JetStream under $(DATA).
run: build
	./bin/playlogd -data $(DATA)

## test: every test, both store backends (embedded NATS in-process, a
## throwaway PostgreSQL unless PLAYLOG_TEST_DATABASE_URL is set), the race
## detector on the concurrent packages, and a short pass of every fuzzer.
test: lint test-unit test-race fuzz

test-unit:
	$(GO) test -count=1 ./...

test-race:
	$(GO) test -race -count=1 -short $(RACE_PKGS)

## fuzz: a short pass of every fuzzer. Go's fuzzing engine sometimes ends a
## pass with a bare "context deadline exceeded" when a worker does not stop
## in time on a loaded machine; such a pass, which found no failing input,
## is run once more. A real finding fails at once.
fuzz:
	@set -e; for target in $$(./.ci/fuzz-targets); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		if ! $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg > .fuzz.out 2>&1; then \
			cat .fuzz.out; \
			if grep -q 'context deadline exceeded' .fuzz.out && ! grep -q 'Failing input' .fuzz.out; then \
				echo "fuzz $$name: the engine did not stop in time; once more"; \
				$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
			else rm -f .fuzz.out; exit 1; fi; \
		else tail -2 .fuzz.out; fi; \
	done; rm -f .fuzz.out

## bench: playlog's Append beside the raw engine (same run), the engine's
## fold and decide, tictactoe played over WebSocket, and resume after K
## missed events. Load from outside: `playlog bench` and `playlog idle`
## against a running playlogd (docs/performance.md).
bench:
	$(GO) test -run '^$$' -bench Append -benchtime 3s ./eventstore/jetstream ./eventstore/postgres
	$(GO) test -run '^$$' -bench . -benchtime 1s ./engine/...
	$(GO) test -run '^$$' -bench Play -benchtime 2000x ./gateway
	$(GO) test -run '^$$' -bench Resume -benchtime 30x ./gateway

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...

clean:
	rm -rf bin
