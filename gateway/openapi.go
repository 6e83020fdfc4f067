package gateway

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of every route of routes(),
// openapi.json, served at GET /v1/openapi.json without a token.
// openapi_test.go checks it against the real handlers: every route
// documented, every documented route served, every answer matching its
// schema.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
