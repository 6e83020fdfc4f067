package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/playlog/playlog/seal"
)

type secrets struct {
	jwt     []byte
	jwtFile string // where the HS256 secret is, for the token hint
	seed    []byte
	seal    ed25519.PrivateKey
}

// loadSecrets reads the configured secrets, or creates development ones
// under the data directory (once; later starts reuse them).
func loadSecrets(c config, stdout io.Writer) (secrets, error) {
	var s secrets
	var err error
	if c.jwtPublicKey == "" {
		s.jwtFile = c.jwtSecretFile
		if s.jwtFile == "" {
			s.jwtFile = filepath.Join(c.data, "dev-jwt-secret")
			if err := ensureSecret(s.jwtFile, stdout); err != nil {
				return s, err
			}
		}
		if s.jwt, err = readSecret(s.jwtFile); err != nil {
			return s, err
		}
	}
	seedFile := c.seedSecretFile
	if seedFile == "" {
		seedFile = filepath.Join(c.data, "dev-seed-secret")
		if err := ensureSecret(seedFile, stdout); err != nil {
			return s, err
		}
	}
	if s.seed, err = readSecret(seedFile); err != nil {
		return s, err
	}
	if c.sealKeyFile != "" {
		s.seal, err = seal.LoadPrivateKey(c.sealKeyFile)
		return s, err
	}
	path := filepath.Join(c.data, "dev-seal-key")
	var made bool
	if s.seal, made, err = seal.EnsurePrivateKey(path); made {
		fmt.Fprintf(stdout, "playlogd: generated a development seal key in %s (public key: %s.pub; audit with playlog audit --public-key %s.pub)\n", path, path, path)
	}
	return s, err
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) < 32 {
		return nil, fmt.Errorf("secret in %s is %d bytes; need at least 32", path, len(b))
	}
	return b, nil
}

func ensureSecret(path string, stdout io.Writer) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "playlogd: generated a development secret in %s (set your own in production)\n", path)
	return nil
}
