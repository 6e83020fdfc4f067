package gateway

import "net/http"

// RoutePattern is the pattern of routes() that s serves r with.
func RoutePattern(s *Server, r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}
