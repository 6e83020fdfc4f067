package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/playlog/playlog/internal/testkit/browser"
)

func TestBinaryHonoursTheOverride(t *testing.T) {
	t.Setenv(browser.EnvBinary, "/nonexistent/chromium")
	if _, err := browser.Binary(); err == nil || !strings.Contains(err.Error(), browser.EnvBinary) {
		t.Fatalf("a missing override: %v", err)
	}
	t.Setenv(browser.EnvBinary, "")
	if _, err := browser.Binary(); err != nil {
		t.Fatal(err) // names the Debian package to install
	}
}

// A tab runs scripts and reports what goes wrong in the page.
func TestStartRunsAPageAndCollectsItsProblems(t *testing.T) {
	tab := browser.Start(t)
	tab.Do(t, 10*time.Second, chromedp.Navigate("about:blank"),
		chromedp.Evaluate[chromedp.Void](`console.log("fine"); console.error("broken"); setTimeout(() => { throw new Error("boom") })`))
	if got := browser.Run(t, tab, 10*time.Second, chromedp.Evaluate[int](`6 * 7`)); got != 42 {
		t.Fatalf("6 * 7 = %d", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(tab.Problems()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	p := strings.Join(tab.Problems(), "\n")
	if !strings.Contains(p, "broken") || !strings.Contains(p, "boom") || strings.Contains(p, "fine") {
		t.Fatalf("problems:\n%s", p)
	}
}
