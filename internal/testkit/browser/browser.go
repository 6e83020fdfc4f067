// Package browser gives tests a real headless Chromium, driven with
// chromedp: Debian's chromium (/usr/bin/chromium), or the binary named by
// PLAYLOG_CHROMIUM, or chromium on PATH. Each Start is a fresh browser with
// a fresh profile in a temporary directory, closed when the test ends.
//
// It never skips: without Chromium it fails and names the Debian package to
// install.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvBinary names the variable that points the tests at a Chromium binary.
const EnvBinary = "PLAYLOG_CHROMIUM"

// Binary returns the Chromium to run: EnvBinary, else /usr/bin/chromium,
// else chromium on PATH.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browser: %s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("browser: Chromium not found: install the Debian package chromium " +
		"(apt-get install chromium), or set " + EnvBinary + " to a Chromium or Chrome binary")
}

// Tab is one browser tab. Ctx runs chromedp actions in it; it ends with the
// test. Problems collects what went wrong inside the page: uncaught
// exceptions, console.error calls, and the browser's security and
// JavaScript log entries (a CSP violation is one); network failures (an API
// answering 404) are not problems.
type Tab struct {
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// Start launches a headless Chromium for t and returns its first tab, with
// its console already watched. It fails t if Chromium is missing or does
// not start. The browser is closed, and waited for, when t ends.
func Start(t testing.TB) *Tab {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir() // removed after the browser has exited (cleanups run last first)
	var output syncBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&output),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
		if t.Failed() && output.Len() > 0 {
			t.Logf("chromium output:\n%s", output.String())
		}
	})
	tab := &Tab{Ctx: ctx}
	// The first action starts the browser and binds it to the context it is
	// given, so it gets ctx itself, not a context with a deadline; a start
	// that hangs is cut by cancelling ctx.
	hung := time.AfterFunc(30*time.Second, cancel)
	err = chromedp.Do(ctx)
	hung.Stop()
	if err != nil {
		t.Fatalf("browser: start %s: %v\n%s", bin, err, output.String())
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError && (m.Source == "" || m.Source == "security" || m.Source == "javascript") {
				tab.mu.Lock()
				tab.problems = append(tab.problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				tab.mu.Unlock()
			}
		}
	}()
	return tab
}

// Problems returns what went wrong in the page so far (see Tab).
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// Do runs actions with a timeout, failing t on error.
func (tab *Tab) Do(t testing.TB, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, timeout)
	defer cancel()
	if err := retryStale(ctx, func() error { return chromedp.Do(ctx, actions...) }); err != nil {
		t.Fatalf("browser: %v; page problems: %s", err, strings.Join(tab.Problems(), "; "))
	}
}

// Run runs one action that returns a value, with a timeout, failing t on
// error.
func Run[T any](t testing.TB, tab *Tab, timeout time.Duration, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, timeout)
	defer cancel()
	var v T
	err := retryStale(ctx, func() (err error) {
		v, err = chromedp.Run(ctx, action)
		return err
	})
	if err != nil {
		t.Fatalf("browser: %v; page problems: %s", err, strings.Join(tab.Problems(), "; "))
	}
	return v
}

// retryStale runs f again, a few times, while it fails only because the
// page's execution context changed under it: right after a navigation
// chromedp may evaluate in the context of the document just replaced
// (Chromium answers "Cannot find context with specified id"). The tests'
// actions (navigations, polls, evaluations) may run again.
func retryStale(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || attempt == 4 || !strings.Contains(err.Error(), "Cannot find context with specified id") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// syncBuffer is the browser's output, written by chromedp's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
