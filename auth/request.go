package auth

import (
	"fmt"
	"net/http"
	"strings"
)

// TokenFromRequest returns the bearer token of r. It reads the
// Authorization header ("Bearer <token>", scheme case-insensitive) and,
// only when that header is absent, the access_token query parameter that
// browsers use for WebSocket handshakes. A header with another scheme, an
// empty token or repeated access_token parameters is an error; errors wrap
// ErrUnauthenticated. The token is not verified.
func TokenFromRequest(r *http.Request) (string, error) {
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", fmt.Errorf("%w: more than one Authorization header", ErrUnauthenticated)
		}
		scheme, token, _ := strings.Cut(strings.TrimSpace(h[0]), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errBadScheme)
		}
		if token = strings.TrimSpace(token); token == "" {
			return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errNoToken)
		}
		return token, nil
	}
	var q []string
	if r.URL != nil {
		q = r.URL.Query()["access_token"]
	}
	switch {
	case len(q) > 1:
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errAmbiguousTokens)
	case len(q) == 0 || q[0] == "":
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errNoToken)
	}
	return q[0], nil
}

// Authenticate reads the request's token (TokenFromRequest) and verifies
// it, returning the user id: the gateway's Authenticator.
func (v *Verifier) Authenticate(r *http.Request) (string, error) {
	token, err := TokenFromRequest(r)
	if err != nil {
		return "", err
	}
	return v.Verify(token)
}
