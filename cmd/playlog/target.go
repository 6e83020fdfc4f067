package main

import (
	"flag"
	"fmt"
	"net/url"
	"time"
)

// target is what bench and idle share: the playlogd they load, on this
// machine, and how they mint tokens, measure processes and report.
type target struct {
	base     *url.URL      // http(s)://loopback-host:port
	timeout  time.Duration // of every request, dial and wait for a message
	secret   []byte
	issuer   string
	audience string
	pids     []int
	json     bool
}

// targetFlags are target's flags on one subcommand's FlagSet.
type targetFlags struct {
	url, secretFile, issuer, audience *string
	timeout                           *time.Duration
	pids                              pidList
	json                              *bool
}

func addTargetFlags(fs *flag.FlagSet, timeout time.Duration, timeoutHelp string) *targetFlags {
	tf := &targetFlags{
		url:        fs.String("url", "http://127.0.0.1:8080", "playlogd's address; only localhost, 127.0.0.0/8 and ::1 are accepted"),
		timeout:    fs.Duration("timeout", timeout, timeoutHelp),
		secretFile: fs.String("secret-file", "data/dev-jwt-secret", "file holding the server's HS256 secret, to mint the players' tokens; empty: $"+secretEnv),
		issuer:     fs.String("issuer", "", "iss claim of the tokens, if the server requires one"),
		audience:   fs.String("audience", "", "aud claim of the tokens, if the server requires one"),
		json:       fs.Bool("json", false, "print the report as JSON"),
	}
	fs.Var(&tf.pids, "pid", "a server process to measure (CPU, RSS): repeat it or separate pids by commas")
	return tf
}

// resolve checks the parsed flags (a loopback URL first, before anything
// else is looked at) and reads the secret. Its errors are usage errors.
func (tf *targetFlags) resolve(fs *flag.FlagSet, env func(string) string) (target, error) {
	if fs.NArg() > 0 {
		return target{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	base, err := loopbackURL(*tf.url)
	if err != nil {
		return target{}, err
	}
	if *tf.timeout <= 0 || *tf.timeout > time.Minute {
		return target{}, fmt.Errorf("-timeout %v: want more than 0, at most 1m", *tf.timeout)
	}
	for _, pid := range tf.pids {
		if _, err := readCPU(pid); err != nil {
			return target{}, fmt.Errorf("-pid %d: %v", pid, err)
		}
	}
	secret, err := readSecret(*tf.secretFile, env)
	if err != nil {
		return target{}, err
	}
	return target{base: base, timeout: *tf.timeout, secret: secret, issuer: *tf.issuer,
		audience: *tf.audience, pids: tf.pids, json: *tf.json}, nil
}
