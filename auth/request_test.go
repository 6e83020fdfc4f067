package auth

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestTokenFromHandshake(t *testing.T) {
	// A WebSocket handshake, as browsers send it.
	ws := map[string]string{"Connection": "keep-alive, Upgrade", "Upgrade": "websocket"}
	tests := []struct {
		name    string
		url     string
		headers []string // Authorization values
		other   map[string]string
		want    string
		wantErr error
	}{
		{"bearer header", "/ws", []string{"Bearer tok.en.h"}, nil, "tok.en.h", nil},
		{"bearer header on a handshake", "/ws", []string{"Bearer tok.en.h"}, ws, "tok.en.h", nil},
		{"query parameter on a handshake", "/ws?access_token=tok.en.q", nil, ws, "tok.en.q", nil},
		{"header wins over query parameter on a handshake", "/ws?access_token=tok.en.q", []string{"Bearer tok.en.h"}, ws, "tok.en.h", nil},
		{"upgrade tokens are case-insensitive", "/ws?access_token=tok.en.q", nil, map[string]string{"Connection": "upgrade", "Upgrade": "WebSocket"}, "tok.en.q", nil},
		{"query parameter without a handshake is rejected", "/v1/games?access_token=tok.en.q", nil, nil, "", errQueryToken},
		{"query parameter beside a header without a handshake is rejected", "/v1/games?access_token=tok.en.q", []string{"Bearer tok.en.h"}, nil, "", errQueryToken},
		{"empty query parameter without a handshake is rejected", "/v1/games?access_token=", []string{"Bearer tok.en.h"}, nil, "", errQueryToken},
		{"upgrade to another protocol is no handshake", "/ws?access_token=tok.en.q", nil, map[string]string{"Connection": "Upgrade", "Upgrade": "h2c"}, "", errQueryToken},
		{"upgrade header without connection upgrade is no handshake", "/ws?access_token=tok.en.q", nil, map[string]string{"Upgrade": "websocket"}, "", errQueryToken},
		{"lowercase bearer scheme is accepted", "/ws", []string{"bearer tok.en.h"}, nil, "tok.en.h", nil},
		{"extra spaces are trimmed", "/ws", []string{"Bearer   tok.en.h  "}, nil, "tok.en.h", nil},
		{"neither header nor query is rejected", "/ws", nil, ws, "", errNoToken},
		{"basic scheme is rejected", "/ws", []string{"Basic dXNlcjpwYXNz"}, nil, "", errBadScheme},
		{"basic scheme is rejected even with a query token", "/ws?access_token=tok.en.q", []string{"Basic dXNlcjpwYXNz"}, ws, "", errBadScheme},
		{"bearer without token is rejected", "/ws", []string{"Bearer "}, nil, "", errNoToken},
		{"bare scheme is rejected", "/ws", []string{"Bearer"}, nil, "", errNoToken},
		{"empty query parameter is rejected", "/ws?access_token=", nil, ws, "", errNoToken},
		{"repeated query parameter is rejected", "/ws?access_token=a&access_token=b", nil, ws, "", errAmbiguousTokens},
		{"repeated header is rejected", "/ws", []string{"Bearer a", "Bearer b"}, nil, "", ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			for k, v := range tt.other {
				r.Header.Set(k, v)
			}
			got, err := TokenFromHandshake(r)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("TokenFromHandshake = %q, %v; want %q", got, err, tt.want)
				}
			} else if got != "" || !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("TokenFromHandshake = %q, %v; want %v", got, err, tt.wantErr)
			}
			// REST: the same, except that a query token is always refused,
			// handshake headers or not.
			wantErr := tt.wantErr
			if r.URL.Query().Has(queryParameter) {
				wantErr = errQueryToken
			}
			got, err = TokenFromRequest(r)
			if wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("TokenFromRequest = %q, %v; want %q", got, err, tt.want)
				}
			} else if got != "" || !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, wantErr) {
				t.Fatalf("TokenFromRequest = %q, %v; want %v", got, err, wantErr)
			}
		})
	}
}
