package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/playlog/playlog/auth"
)

const testSecret = "0123456789abcdef0123456789abcdef-cli"

func writeSecretFile(t *testing.T, contents string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func verify(t *testing.T, cfg auth.Config, token string) (string, error) {
	t.Helper()
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(token)
}

func TestTokenPrintsAVerifiableToken(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args func(t *testing.T) []string
		cfg  auth.Config
	}{
		{"secret from the environment",
			map[string]string{secretEnv: testSecret},
			func(*testing.T) []string { return []string{"token", "--user", "alice"} },
			auth.Config{Secret: []byte(testSecret)}},
		{"secret file with trailing newline",
			nil,
			func(t *testing.T) []string {
				return []string{"token", "--user", "alice", "--secret-file", writeSecretFile(t, testSecret+"\n")}
			},
			auth.Config{Secret: []byte(testSecret)}},
		{"secret file wins over the environment",
			map[string]string{secretEnv: "an-entirely-different-secret-of-enough-bytes"},
			func(t *testing.T) []string {
				return []string{"token", "--user", "alice", "--secret-file", writeSecretFile(t, testSecret)}
			},
			auth.Config{Secret: []byte(testSecret)}},
		{"issuer, audience and ttl",
			map[string]string{secretEnv: testSecret},
			func(*testing.T) []string {
				return []string{"token", "--user", "alice", "--issuer", "dev", "--audience", "playlog", "--ttl", "5m"}
			},
			auth.Config{Secret: []byte(testSecret), Issuer: "dev", Audience: "playlog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args(t)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.HasSuffix(stdout, "\n") || strings.Count(stdout, "\n") != 1 {
				t.Errorf("stdout %q is not one line", stdout)
			}
			user, err := verify(t, tt.cfg, strings.TrimSpace(stdout))
			if err != nil || user != "alice" {
				t.Fatalf("Verify = %q, %v", user, err)
			}
		})
	}
}

func TestTokenWrongSecretDoesNotVerify(t *testing.T) {
	_, stdout, _ := runCLI(t, map[string]string{secretEnv: testSecret}, "token", "--user", "alice")
	_, err := verify(t, auth.Config{Secret: []byte("another-secret-another-secret-another")}, strings.TrimSpace(stdout))
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Verify with another secret = %v", err)
	}
}

func TestTokenReportsErrors(t *testing.T) {
	secretEnvOnly := map[string]string{secretEnv: testSecret}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantStderr string
	}{
		{"missing user", secretEnvOnly, []string{"token"}, "--user is required"},
		{"missing secret", nil, []string{"token", "--user", "alice"}, "no secret"},
		{"short secret in the environment", map[string]string{secretEnv: "short"}, []string{"token", "--user", "alice"}, "at least 32"},
		{"unreadable secret file", nil, []string{"token", "--user", "alice", "--secret-file", "/nonexistent/secret"}, "read secret"},
		{"control character in user", secretEnvOnly, []string{"token", "--user", "a\x01b"}, "user id"},
		{"non-positive ttl", secretEnvOnly, []string{"token", "--user", "alice", "--ttl", "0s"}, "ttl"},
		{"bad ttl", secretEnvOnly, []string{"token", "--user", "alice", "--ttl", "soon"}, "invalid value"},
		{"unknown flag", secretEnvOnly, []string{"token", "--user", "alice", "--nope"}, "not defined"},
		{"stray argument", secretEnvOnly, []string{"token", "--user", "alice", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestTokenShortSecretFileIsRefused(t *testing.T) {
	// 31 bytes plus the newline that is trimmed.
	p := writeSecretFile(t, strings.Repeat("s", 31)+"\n")
	code, _, stderr := runCLI(t, nil, "token", "--user", "alice", "--secret-file", p)
	if code != 2 || !strings.Contains(stderr, "31 bytes") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
