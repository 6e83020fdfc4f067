// Package metrics exposes playlogd's metrics in the Prometheus text format
// at /metrics, with prometheus/client_golang, the library that format's
// users rely on.
//
// It owns no counters of the domain packages: gateway, hub and the stores
// count in plain atomics (their Stats methods), read here at scrape time,
// so they stay free of the metrics library; the command path reports each
// append through play.Observer, which Metrics implements with a latency
// histogram. docs/operations.md lists every metric and what to alert on.
package metrics
