package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/playlog/playlog/replay/web"
)

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHandlerServesThePageAndItsFilesWithStrictHeaders(t *testing.T) {
	hs := httptest.NewServer(web.Handler())
	defer hs.Close()
	for _, c := range []struct{ path, ctype, contains string }{
		{"/replay/0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10", "text/html; charset=utf-8", `src="/replay/static/app.js"`},
		{"/replay/not-a-uuid-the-page-says-so", "text/html; charset=utf-8", `id="chain-status"`},
		{"/replay/static/app.js", "text/javascript; charset=utf-8", "checkChain"},
		{"/replay/static/chain.js", "text/javascript; charset=utf-8", "playlog.event.v1"},
		{"/replay/static/style.css", "text/css; charset=utf-8", "#events"},
		{"/replay/static/icon.svg", "image/svg+xml", "<svg"},
	} {
		resp := get(t, hs.URL+c.path)
		body, _ := io.ReadAll(resp.Body)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", c.path, resp.StatusCode, h.Get("Content-Type"), c.contains, strings.Contains(string(body), c.contains))
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "connect-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", c.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("GET %s: CSP %q allows inline code or another origin", c.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
			t.Errorf("GET %s: nosniff %q, Cache-Control %q, ETag %q", c.path, h.Get("X-Content-Type-Options"), h.Get("Cache-Control"), h.Get("ETag"))
		}
		// Revalidation of an unchanged file costs a 304.
		if again := get(t, hs.URL+c.path, "If-None-Match", h.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", c.path, again.StatusCode)
		}
	}
	for _, path := range []string{"/replay/", "/replay/static/nope.js", "/replay/static/index.html", "/replay/a/b", "/elsewhere"} {
		if resp := get(t, hs.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err := http.Post(hs.URL+"/replay/x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// The files themselves keep to what the CSP allows and the page promises:
// no inline script or style, nothing from another origin, no HTML built
// from strings (the API's data is text, never markup).
func TestStaticFilesHaveNoInlineCodeNorOtherOrigins(t *testing.T) {
	files := os.DirFS("static")
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		s := string(b)
		for _, bad := range []string{"http://", "https://", "innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "new Function", " style=", "<style", "javascript:"} {
			if strings.Contains(s, bad) && !(bad == "http://" && strings.HasSuffix(p, ".svg") && strings.Contains(s, `xmlns="http://www.w3.org/2000/svg"`) && strings.Count(s, "http://") == 1) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
		if inlineScript.MatchString(s) {
			t.Errorf("%s has an inline script", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
