package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/playlog/playlog/protocol"
)

// restAPI calls a playlogd's REST API. Safe for concurrent use.
type restAPI struct {
	base    *url.URL
	timeout time.Duration // of every request
	http    *http.Client
}

// newRESTAPI returns a client of the API at base over nd, keeping up to
// idle connections open between requests.
func newRESTAPI(base *url.URL, nd *net.Dialer, timeout time.Duration, idle int) *restAPI {
	tr := &http.Transport{
		DialContext:           nd.DialContext,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &restAPI{base: base, timeout: timeout, http: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// close closes the idle connections; call it when done.
func (a *restAPI) close() { a.http.CloseIdleConnections() }

// rest calls the REST API and decodes a want-status answer into out. A
// coded error answer is returned as a *protocol.Error.
func (a *restAPI) call(ctx context.Context, token, method, path string, body, out any, want int) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var e struct {
			Error *protocol.Error `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != nil && e.Error.Code != "" {
			return e.Error
		}
		return benchErrorf("http "+strconv.Itoa(resp.StatusCode), "%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return benchErrorf("protocol", "%s %s: %v", method, path, err)
		}
	}
	return nil
}

// preflight checks that a playlogd answers at the base URL and accepts
// token.
func (a *restAPI) preflight(ctx context.Context, token string) error {
	err := a.call(ctx, token, "GET", "/v1/games?player=me", nil, nil, http.StatusOK)
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe) && pe.Code == protocol.CodeAuthenticationFailed:
		return fmt.Errorf("%s refused our token (%v): is -secret-file the server's secret?", a.base, err)
	case err != nil:
		return fmt.Errorf("no playlogd answering at %s: %w", a.base, err)
	}
	return nil
}
