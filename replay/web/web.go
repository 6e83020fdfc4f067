package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// csp allows the page's own scripts, styles and API calls and nothing else:
// no inline script or style, no other origin, no plugins, no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// file is one embedded file, read once, with its validator.
type file struct {
	name  string // for ServeContent's Content-Type fallback
	body  []byte
	etag  string
	ctype string
}

// Handler serves the viewer: GET /replay/{id} is the page, for any id (its
// script reads the id from the location), and GET /replay/static/{name}
// its scripts and style. Anything else under /replay/ is 404. It is safe
// for concurrent use.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if path.Ext(p) == ".js" { // the system's mime table may lack or misname it
			ctype = "text/javascript; charset=utf-8"
		}
		files[p] = &file{name: p, body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		panic(err) // the files are compiled in: a broken build
	}
	page := files["static/index.html"]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /replay/static/{name...}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files["static/"+r.PathValue("name")]
		if !ok || f == page {
			http.NotFound(w, r)
			return
		}
		serve(w, r, f)
	})
	mux.HandleFunc("GET /replay/{id}", func(w http.ResponseWriter, r *http.Request) { serve(w, r, page) })
	return mux
}

// serve writes f with the viewer's security headers. Files are revalidated
// on every use (no-cache with an ETag): their names carry no version, so a
// new build must never be hidden behind a stale cached copy, and an
// unchanged file costs a 304.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}
