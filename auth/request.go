package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenFromRequest returns the bearer token of a REST request r, from the
// Authorization header ("Bearer <token>", scheme case-insensitive) only. A
// request carrying the access_token query parameter is refused, with or
// without a header and whatever its other headers say: a token in a URL
// ends up in logs and histories, and a plain request can always use the
// header. A header with another scheme or an empty token is an error too;
// errors wrap ErrUnauthenticated. The token is not verified. Safe for
// concurrent use.
func TokenFromRequest(r *http.Request) (string, error) {
	return tokenOf(r, false)
}

// TokenFromHandshake is TokenFromRequest for the WebSocket endpoint: when
// the Authorization header is absent and r is a WebSocket handshake, the
// token may come in the access_token query parameter instead, since
// browsers cannot set headers on a handshake. A request to that endpoint
// that is no handshake is refused a query token as REST is; so are
// repeated access_token parameters.
func TokenFromHandshake(r *http.Request) (string, error) {
	return tokenOf(r, true)
}

func tokenOf(r *http.Request, handshake bool) (string, error) {
	var q []string
	if r.URL != nil {
		var malformed bool
		if q, malformed = queryTokens(r.URL.RawQuery); malformed {
			return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errAmbiguousTokens)
		}
	}
	if q != nil && !(handshake && isWebSocketHandshake(r)) {
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errQueryToken)
	}
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
	switch {
	case len(q) > 1:
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errAmbiguousTokens)
	case len(q) == 0 || q[0] == "":
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errNoToken)
	}
	return q[0], nil
}

// queryParameter carries the token on WebSocket handshakes.
const queryParameter = "access_token"

// isWebSocketHandshake reports whether r asks to upgrade to WebSocket
// (RFC 6455 §4.1): "Upgrade: websocket" and "Connection: Upgrade", tokens
// compared case-insensitively. Browsers do not let pages set these
// headers on other requests.
func isWebSocketHandshake(r *http.Request) bool {
	return r.Method == http.MethodGet && hasToken(r.Header, "Connection", "upgrade") && hasToken(r.Header, "Upgrade", "websocket")
}

// hasToken reports whether the comma-separated values of header name
// include token.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Authenticate reads a REST request's token (TokenFromRequest) and
// verifies it, returning the user id. Errors wrap ErrUnauthenticated.
// Safe for concurrent use.
func (v *Verifier) Authenticate(r *http.Request) (string, error) {
	token, err := TokenFromRequest(r)
	if err != nil {
		return "", err
	}
	return v.Verify(token)
}

// AuthenticateHandshake is Authenticate for a WebSocket handshake, whose
// token may come in its query (TokenFromHandshake). It also returns when
// the token stops being accepted (its exp plus the leeway), which the
// connection it opens must not outlive.
func (v *Verifier) AuthenticateHandshake(r *http.Request) (userID string, expires time.Time, err error) {
	token, err := TokenFromHandshake(r)
	if err != nil {
		return "", time.Time{}, err
	}
	a, err := v.verify(token)
	if err != nil {
		return "", time.Time{}, err
	}
	return a.sub, a.exp.Add(v.cfg.Leeway), nil
}

// queryTokens returns the values of every access_token parameter in a raw
// query, however it is spelt: url.ParseQuery drops a pair holding a ';'
// or a bad %-escape, so "access_token=T;" would pass for no token at all
// (a REST request would keep it in its URL, a handshake take another).
// Pairs are split on '&' and ';'; malformed reports an access_token pair
// whose value does not unescape.
func queryTokens(raw string) (values []string, malformed bool) {
	for _, pair := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err == nil {
			k = key
		}
		if k != queryParameter {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			malformed = true
			value = v
		}
		values = append(values, value)
	}
	return values, malformed
}
