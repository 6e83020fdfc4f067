package auth

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestTokenFromRequest(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		headers []string // Authorization values
		want    string
		wantErr error
	}{
		{"bearer header", "/ws", []string{"Bearer tok.en.h"}, "tok.en.h", nil},
		{"query parameter", "/ws?access_token=tok.en.q", nil, "tok.en.q", nil},
		{"header wins over query parameter", "/ws?access_token=tok.en.q", []string{"Bearer tok.en.h"}, "tok.en.h", nil},
		{"lowercase bearer scheme is accepted", "/ws", []string{"bearer tok.en.h"}, "tok.en.h", nil},
		{"extra spaces are trimmed", "/ws", []string{"Bearer   tok.en.h  "}, "tok.en.h", nil},
		{"neither header nor query is rejected", "/ws", nil, "", errNoToken},
		{"basic scheme is rejected", "/ws", []string{"Basic dXNlcjpwYXNz"}, "", errBadScheme},
		{"basic scheme is rejected even with a query token", "/ws?access_token=tok.en.q", []string{"Basic dXNlcjpwYXNz"}, "", errBadScheme},
		{"bearer without token is rejected", "/ws", []string{"Bearer "}, "", errNoToken},
		{"bare scheme is rejected", "/ws", []string{"Bearer"}, "", errNoToken},
		{"empty query parameter is rejected", "/ws?access_token=", nil, "", errNoToken},
		{"repeated query parameter is rejected", "/ws?access_token=a&access_token=b", nil, "", errAmbiguousTokens},
		{"repeated header is rejected", "/ws", []string{"Bearer a", "Bearer b"}, "", ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := TokenFromRequest(r)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("TokenFromRequest = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if got != "" || !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("TokenFromRequest = %q, %v; want %v", got, err, tt.wantErr)
			}
		})
	}
}
