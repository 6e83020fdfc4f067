package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
)

// The OpenAPI document (openapi.json, served at /v1/openapi.json) checked
// against the real handlers of a real node: every route of routes()
// documented and every documented operation served by it, and every
// answer of a real game's requests, successes and refusals, matching the
// schema of its path, method and status.

// apiDoc is the OpenAPI document a node serves, ready to check requests
// and answers against.
type apiDoc struct {
	doc     map[string]any // as jsonschema.UnmarshalJSON decodes it
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema // by JSON pointer into doc
	ops     []*apiOp
	seen    map[string]bool // "GET /v1/games/{id} 200": answers checked
}

// apiOp is one documented operation.
type apiOp struct {
	method, path string // "GET", "/v1/games/{id}"
	ptr          string // the operation's JSON pointer in the document
	op           map[string]any
	re           *regexp.Regexp // matches its concrete paths, a group per parameter
	params       []string       // the path's parameter names, in order
}

// How a request stands to the document: it conforms, it is meant not to
// (a test of a refusal: the document must refuse it too), or either (a
// probe).
const (
	conforms = iota
	nonconforming
	unchecked
)

// loadAPIDoc fetches the node's document, checks that it is openapi.json
// and checks that answer against the document itself.
func loadAPIDoc(t *testing.T, n *node) *apiDoc {
	t.Helper()
	resp, err := http.Get(n.url + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, file) {
		t.Fatalf("GET /v1/openapi.json: %d, %d bytes, not openapi.json", resp.StatusCode, len(body))
	}
	d := newAPIDoc(t, body)
	d.check(t, "GET", "/v1/openapi.json", resp, body)
	return d
}

func newAPIDoc(t *testing.T, body []byte) *apiDoc {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	d := &apiDoc{doc: doc.(map[string]any), c: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
	d.c.DefaultDraft(jsonschema.Draft2020)
	d.c.AssertFormat()
	if err := d.c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	paths, _ := d.doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := paths[path].(map[string]any)
		for _, method := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			o := &apiOp{method: strings.ToUpper(method), path: path, op: op, ptr: "/paths/" + escapePointer(path) + "/" + method}
			segs := strings.Split(path, "/")
			for i, seg := range segs {
				if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "}") {
					o.params = append(o.params, strings.TrimSuffix(name, "}"))
					segs[i] = "([^/]+)"
				} else {
					segs[i] = regexp.QuoteMeta(seg)
				}
			}
			o.re = regexp.MustCompile("^" + strings.Join(segs, "/") + "$")
			d.ops = append(d.ops, o)
		}
	}
	if len(d.ops) == 0 {
		t.Fatal("openapi.json documents no operation")
	}
	return d
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// at returns the value at a JSON pointer of the document.
func (d *apiDoc) at(t *testing.T, ptr string) any {
	t.Helper()
	var v any = d.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		ok := false
		switch x := v.(type) {
		case map[string]any:
			v, ok = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if ok = err == nil && i >= 0 && i < len(x); ok {
				v = x[i]
			}
		}
		if !ok {
			t.Fatalf("openapi.json: %s does not resolve", ptr)
		}
	}
	return v
}

// object follows an OpenAPI reference ({"$ref": "#/components/..."}) from
// ptr and returns the object it ends at and that object's pointer.
func (d *apiDoc) object(t *testing.T, ptr string) (map[string]any, string) {
	t.Helper()
	for {
		m, ok := d.at(t, ptr).(map[string]any)
		if !ok {
			t.Fatalf("openapi.json: %s is not an object", ptr)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, ptr
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Fatalf("openapi.json: %s: reference %q is not into the document", ptr, ref)
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
}

// schema compiles the JSON Schema at ptr (once).
func (d *apiDoc) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	if s, ok := d.schemas[ptr]; ok {
		return s
	}
	s, err := d.c.Compile("openapi.json#" + ptr)
	if err != nil {
		t.Fatalf("openapi.json: the schema at %s: %v", ptr, err)
	}
	d.schemas[ptr] = s
	return s
}

// find returns the operation documented for method and path (no query),
// with the path's parameters.
func (d *apiDoc) find(method, path string) (*apiOp, map[string]string) {
	var best *apiOp
	var vals []string
	for _, o := range d.ops {
		if o.method != method {
			continue
		}
		if m := o.re.FindStringSubmatch(path); m != nil && (best == nil || len(o.params) < len(best.params)) {
			best, vals = o, m[1:]
		}
	}
	if best == nil {
		return nil, nil
	}
	params := map[string]string{}
	for i, name := range best.params {
		params[name] = vals[i]
	}
	return best, params
}

// parameters returns the operation's parameters (its path's and its own),
// each with its pointer, resolved.
func (d *apiDoc) parameters(t *testing.T, o *apiOp) map[string]string {
	t.Helper()
	out := map[string]string{} // "query limit" -> pointer
	for _, base := range []string{strings.TrimSuffix(o.ptr, "/"+strings.ToLower(o.method)), o.ptr} {
		list, _ := d.at(t, base).(map[string]any)["parameters"].([]any)
		for i := range list {
			p, ptr := d.object(t, base+"/parameters/"+strconv.Itoa(i))
			out[p["in"].(string)+" "+strings.ToLower(p["name"].(string))] = ptr
		}
	}
	return out
}

// security returns the operation's security requirements (the
// document's unless it has its own): none if it needs no credentials.
func (d *apiDoc) security(o *apiOp) []any {
	if sec, ok := o.op["security"].([]any); ok {
		return sec
	}
	sec, _ := d.doc["security"].([]any)
	return sec
}

// apiKeys returns the parameters the operation's security schemes take
// credentials in ("query access_token").
func (d *apiDoc) apiKeys(t *testing.T, o *apiOp) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, req := range d.security(o) {
		for name := range req.(map[string]any) {
			scheme, _ := d.object(t, "/components/securitySchemes/"+escapePointer(name))
			if scheme["type"] == "apiKey" {
				out[scheme["in"].(string)+" "+strings.ToLower(scheme["name"].(string))] = true
			}
		}
	}
	return out
}

// nonconformity says why a request does not conform to its operation's
// parameters and body: "" if it does.
func (d *apiDoc) nonconformity(t *testing.T, o *apiOp, pathParams map[string]string, req *http.Request, body string) string {
	t.Helper()
	values := map[string]string{}
	for name, v := range pathParams {
		values["path "+name] = v
	}
	for name, vs := range req.URL.Query() {
		if len(vs) != 1 {
			return "query parameter " + name + " given twice"
		}
		values["query "+strings.ToLower(name)] = vs[0]
	}
	for name, vs := range req.Header {
		values["header "+strings.ToLower(name)] = vs[0]
	}
	params := d.parameters(t, o)
	keys := d.apiKeys(t, o)
	for key := range values {
		if _, ok := params[key]; !ok && !keys[key] && !strings.HasPrefix(key, "header ") {
			return "undocumented " + key
		}
	}
	for key, ptr := range params {
		p, _ := d.object(t, ptr)
		v, ok := values[key]
		if !ok {
			if p["required"] == true {
				return "no " + key
			}
			continue
		}
		var inst any = v
		if s, _ := d.object(t, ptr+"/schema"); s["type"] == "integer" {
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				inst = json.Number(v)
			}
		}
		if err := d.schema(t, ptr+"/schema").Validate(inst); err != nil {
			return key + ": " + err.Error()
		}
	}
	if _, ok := o.op["requestBody"]; !ok {
		if body != "" {
			return "a body where none is documented"
		}
		return ""
	}
	rbo, ptr := d.object(t, o.ptr+"/requestBody")
	if body == "" {
		if rbo["required"] == true {
			return "no body"
		}
		return ""
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		return "body is not JSON: " + err.Error()
	}
	if err := d.schema(t, ptr+"/content/application~1json/schema").Validate(inst); err != nil {
		return "body: " + err.Error()
	}
	return ""
}

// check checks an answer against the document: its status documented for
// its operation, its required headers present and valid, its content type
// documented, and a JSON body valid against its schema, which refuses it
// with a field more.
func (d *apiDoc) check(t *testing.T, method, path string, resp *http.Response, body []byte) {
	t.Helper()
	path, _, _ = strings.Cut(path, "?")
	o, _ := d.find(method, path)
	if o == nil {
		t.Fatalf("%s %s: not documented", method, path)
	}
	status := strconv.Itoa(resp.StatusCode)
	what := method + " " + path + " " + status
	if _, ok := d.at(t, o.ptr+"/responses").(map[string]any)[status]; !ok {
		t.Fatalf("%s: status not documented for %s %s (body %.300s)", what, o.method, o.path, body)
	}
	r, ptr := d.object(t, o.ptr+"/responses/"+status)
	headers, _ := r["headers"].(map[string]any)
	for name := range headers {
		h, hptr := d.object(t, ptr+"/headers/"+escapePointer(name))
		v := resp.Header.Get(name)
		if v == "" {
			if h["required"] == true {
				t.Fatalf("%s: no %s header", what, name)
			}
			continue
		}
		if err := d.schema(t, hptr+"/schema").Validate(v); err != nil {
			t.Fatalf("%s: header %s %q: %v", what, name, v, err)
		}
	}
	content, ok := r["content"].(map[string]any)
	if !ok {
		if len(body) != 0 {
			t.Fatalf("%s: a body where none is documented: %.300s", what, body)
		}
		d.seen[o.method+" "+o.path+" "+status] = true
		return
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if _, ok := content[mt]; err != nil || !ok {
		t.Fatalf("%s: content type %q not documented", what, resp.Header.Get("Content-Type"))
	}
	if mt == "application/json" {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not JSON: %v: %.300s", what, err, body)
		}
		s := d.schema(t, ptr+"/content/application~1json/schema")
		if err := s.Validate(inst); err != nil {
			t.Fatalf("%s: the answer does not match its schema: %v\n%.2000s", what, err, body)
		}
		if m, ok := inst.(map[string]any); ok && o.op["operationId"] != "getOpenAPI" {
			more := maps.Clone(m)
			more["undocumented"] = true
			if s.Validate(more) == nil {
				t.Fatalf("%s: the schema accepts a field it does not list", what)
			}
		}
	}
	d.seen[o.method+" "+o.path+" "+status] = true
}

// call sends a request (user "" for none, body "" for none, then header
// names and values) and checks it against the document as how says, and
// its answer; it returns the status and the decoded answer.
func (d *apiDoc) call(t *testing.T, n *node, how int, user, method, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, n.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+token(t, user))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if how != unchecked {
		o, params := d.find(method, req.URL.Path)
		if o == nil {
			t.Fatalf("%s %s: not documented", method, path)
		}
		why := d.nonconformity(t, o, params, req, body)
		switch {
		case how == conforms && why != "":
			t.Fatalf("%s %s: the request does not conform to the document: %s", method, path, why)
		case how == nonconforming && why == "":
			t.Fatalf("%s %s %.200s: the document accepts a request the test means as malformed", method, path, body)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d.check(t, method, req.URL.Path, resp, b)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(b, &out)
	}
	return resp.StatusCode, out
}

// errCode is an error answer's code.
func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// registeredRoutes returns the patterns routes() registers, read from
// server.go: a ServeMux cannot list them.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := gotoken.NewFileSet()
	f, err := parser.ParseFile(fset, "server.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Name.Name != "routes" {
			continue
		}
		ast.Inspect(fn.Body, func(x ast.Node) bool {
			call, ok := x.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != gotoken.STRING {
				t.Fatalf("%s: a route whose pattern is not a string literal: teach registeredRoutes", fset.Position(call.Pos()))
			}
			p, _ := strconv.Unquote(lit.Value)
			out = append(out, p)
			return true
		})
	}
	if len(out) < 10 {
		t.Fatalf("found %d routes in server.go's routes(): %v", len(out), out)
	}
	return out
}

// The document is well formed: a unique operationId per operation, each
// path parameter declared, every schema compiling as JSON Schema 2020-12.
func TestOpenAPIDocument(t *testing.T) {
	body, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	d := newAPIDoc(t, body)
	if d.doc["openapi"] != "3.1.0" || d.doc["jsonSchemaDialect"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("openapi %v, dialect %v", d.doc["openapi"], d.doc["jsonSchemaDialect"])
	}
	ids := map[string]bool{}
	for _, o := range d.ops {
		id, _ := o.op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s %s: operationId %q missing or not unique", o.method, o.path, id)
		}
		ids[id] = true
		params := d.parameters(t, o)
		for _, p := range o.params {
			if _, ok := params["path "+p]; !ok {
				t.Errorf("%s %s: path parameter %s not declared", o.method, o.path, p)
			}
		}
		for _, ptr := range params {
			d.schema(t, ptr+"/schema")
		}
		if _, ok := o.op["requestBody"]; ok {
			_, ptr := d.object(t, o.ptr+"/requestBody")
			d.schema(t, ptr+"/content/application~1json/schema")
		}
		for status := range d.at(t, o.ptr+"/responses").(map[string]any) {
			r, ptr := d.object(t, o.ptr+"/responses/"+status)
			content, _ := r["content"].(map[string]any)
			for mt := range content {
				d.schema(t, ptr+"/content/"+escapePointer(mt)+"/schema")
			}
		}
	}
	for name := range d.at(t, "/components/schemas").(map[string]any) {
		d.schema(t, "/components/schemas/"+escapePointer(name))
	}
}

// fallback is routes()'s catch-all: every path and method it does not
// serve, answered 404 not_found.
const fallback = "/"

// Every route of routes() is documented, and every documented operation
// is served by the route it documents; one without credentials is refused
// (401) exactly when the document says it needs them.
func TestOpenAPIRoutes(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	d := loadAPIDoc(t, n)
	routes := registeredRoutes(t)
	if !slices.Contains(routes, fallback) {
		t.Fatalf("routes() has no catch-all %q: %v", fallback, routes)
	}
	for _, route := range routes {
		if route == fallback {
			continue
		}
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			t.Fatalf("route %q has no method: document it, or give it one", route)
		}
		documented := slices.ContainsFunc(d.ops, func(o *apiOp) bool {
			if strings.HasSuffix(path, "/") { // a subtree: documented by the paths under it
				return o.method == method && strings.HasPrefix(o.path, path)
			}
			return o.method == method && o.path == path
		})
		if !documented {
			t.Errorf("route %q is not in openapi.json", route)
		}
	}
	for _, o := range d.ops {
		concrete := o.path
		for _, p := range o.params {
			v := uuid.NewString()
			if p == "name" {
				v = "app.js"
			}
			concrete = strings.Replace(concrete, "{"+p+"}", v, 1)
		}
		got := gateway.RoutePattern(n.srv, httptest.NewRequest(o.method, concrete, nil))
		method, path, _ := strings.Cut(got, " ")
		if got == fallback || !slices.Contains(routes, got) || method != o.method ||
			path != o.path && !(strings.HasSuffix(path, "/") && strings.HasPrefix(o.path, path)) {
			t.Errorf("%s %s (%s) is served by route %q", o.method, o.path, concrete, got)
			continue
		}
		st, out := d.call(t, n, unchecked, "", o.method, concrete, "")
		if needs := len(d.security(o)) > 0; needs != (st == http.StatusUnauthorized) {
			t.Errorf("%s %s without a token: %d %v; the document says credentials needed: %v", o.method, o.path, st, out, needs)
		}
	}
	// What the document does not list is the catch-all's.
	for _, r := range [][2]string{{"GET", "/v2/things"}, {"DELETE", "/v1/games"}, {"POST", "/healthz"}} {
		if got := gateway.RoutePattern(n.srv, httptest.NewRequest(r[0], r[1], nil)); got != fallback {
			t.Errorf("%s %s is served by %q, not in the document", r[0], r[1], got)
		}
		req, err := http.NewRequest(r[0], n.url+r[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := d.schema(t, "/components/schemas/Error").Validate(inst); resp.StatusCode != 404 || err != nil ||
			!strings.Contains(string(b), `"not_found"`) {
			t.Errorf("%s %s: %d %s (%v)", r[0], r[1], resp.StatusCode, b, err)
		}
	}
}

// unprovoked reports whether no test provokes a documented answer: an
// internal failure, and a read timing out.
func unprovoked(method, path, status string) bool {
	return status == "500" || status == "503" && method == "GET" && path != "/readyz" && path != "/v1/ws"
}

// A real game's REST requests, successes and refusals, each request
// checked against the document (or, for a test of a refusal, refused by
// it too) and each answer against the schema of its path, method and
// status; then, once the node drains, the refusals of a draining node.
// Every documented answer must have been seen but those no test provokes.
func TestOpenAPIResponses(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		d := loadAPIDoc(t, n)
		// expect calls and wants status and, for a refusal, its code.
		expect := func(status int, code string, how int, user, method, path, body string, header ...string) map[string]any {
			t.Helper()
			st, out := d.call(t, n, how, user, method, path, body, header...)
			if st != status || errCode(out) != code {
				t.Fatalf("%s %s %.200s: %d %v, want %d %q", method, path, body, st, out, status, code)
			}
			return out
		}
		const (
			invalidMessage = "invalid_message"
			unauthorized   = "authentication_failed"
			notFound       = "game_not_found"
			notInGame      = "not_in_game"
		)
		huge := `{"rules":"tictactoe","players":["alice","bob"],"config":{"pad":"` + strings.Repeat("x", 65<<10) + `"}}`
		unknown := "/v1/games/" + uuid.NewString()

		// Creating.
		ttt := expect(201, "", conforms, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"],"config":{}}`)["game_id"].(string)
		eights := expect(201, "", conforms, "alice", "POST", "/v1/games", `{"rules":"crazyeights","players":["alice","bob"]}`)["game_id"].(string)
		if timed := expect(201, "", conforms, "bob", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"],"config":{"turn_timer":{"seconds":600}}}`); timed["deadline"] == nil {
			t.Fatalf("a timed game: %v", timed)
		}
		expect(400, invalidMessage, conforms, "alice", "POST", "/v1/games", `{"rules":"chess","players":["alice","bob"]}`)
		expect(400, invalidMessage, conforms, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"],"config":{"size":3}}`)
		expect(400, invalidMessage, nonconforming, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"],"extra":1}`)
		expect(400, invalidMessage, nonconforming, "alice", "POST", "/v1/games", `{"rules":"tictactoe"}`)
		// Seats no token can take: a "/" (the schema says so too), an
		// unprintable character.
		expect(400, invalidMessage, nonconforming, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","b/ob"]}`)
		expect(400, invalidMessage, conforms, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob\u00a0"]}`)
		expect(400, invalidMessage, nonconforming, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"]} {}`)
		expect(403, notInGame, conforms, "carol", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"]}`)
		expect(413, invalidMessage, unchecked, "alice", "POST", "/v1/games", huge) // a size no schema states
		expect(401, unauthorized, conforms, "", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"]}`)

		// Reading a game, as a player and as anyone else.
		if g := expect(200, "", conforms, "alice", "GET", "/v1/games/"+ttt, ""); g["legal"] == nil {
			t.Fatalf("a player's game has no legal: %v", g)
		}
		if g := expect(200, "", conforms, "sam", "GET", "/v1/games/"+eights, ""); g["legal"] != nil {
			t.Fatalf("a stranger's game has legal: %v", g)
		}
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/nope", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/00000000-0000-0000-0000-000000000000", "")
		expect(404, notFound, conforms, "alice", "GET", unknown, "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/games/"+ttt, "")
		expect(401, unauthorized, nonconforming, "alice", "GET", "/v1/games/"+ttt+"?access_token="+token(t, "alice"), "")
		for deadline := time.Now().Add(10 * time.Second); ; {
			list := expect(200, "", conforms, "bob", "GET", "/v1/games?player=me", "")
			if len(list["games"].([]any)) == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob's games: %v", list)
			}
			time.Sleep(10 * time.Millisecond)
		}
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games?player=me&status=paused", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/games?player=me", "")

		// Acting: a tic-tac-toe game to its end (alice wins the middle
		// column), with refusals on the way.
		act := "/v1/games/" + ttt + "/actions"
		move := func(id string, cell int) string {
			return `{"message_id":"` + id + `","action":{"type":"place","cell":` + strconv.Itoa(cell) + `}}`
		}
		first := expect(200, "", conforms, "alice", "POST", act, move("a1", 4))
		if again := expect(200, "", conforms, "alice", "POST", act, move("a1", 4)); again["duplicate"] != true || first["duplicate"] != false {
			t.Fatalf("a command twice: %v then %v", first, again)
		}
		expect(409, "not_your_turn", conforms, "alice", "POST", act, move("a2", 0))
		expect(400, "invalid_action", conforms, "bob", "POST", act, move("b1", 99))
		expect(400, "invalid_action", conforms, "bob", "POST", act, `{"action":{"type":"fly"}}`)
		expect(400, invalidMessage, nonconforming, "bob", "POST", act, `{"message_id":"not an id!","action":{"type":"place","cell":0}}`)
		expect(400, invalidMessage, nonconforming, "bob", "POST", act, `{"message_id":"b1"}`)
		expect(400, invalidMessage, nonconforming, "bob", "POST", act, `{"message_id":"b1","action":null}`) // null is absent, as over WebSocket
		expect(400, invalidMessage, nonconforming, "bob", "POST", "/v1/games/nope/actions", move("b1", 0))
		for _, odd := range []string{"{" + ttt + "}", "urn:uuid:" + ttt, strings.ReplaceAll(ttt, "-", "")} {
			expect(400, invalidMessage, nonconforming, "bob", "GET", "/v1/games/"+odd, "")
		}
		expect(413, invalidMessage, unchecked, "bob", "POST", act, huge)
		expect(403, notInGame, conforms, "sam", "POST", act, move("s1", 0))
		expect(404, notFound, conforms, "bob", "POST", unknown+"/actions", move("b1", 0))
		expect(401, unauthorized, conforms, "", "POST", act, move("b1", 0))
		expect(200, "", conforms, "bob", "POST", act, move("b1", 0))
		expect(422, invalidMessage, conforms, "alice", "POST", act, move("a1", 1))
		expect(200, "", conforms, "alice", "POST", act, move("a2", 1))
		expect(200, "", conforms, "bob", "POST", act, `{"action":{"type":"place","cell":2}}`)
		expect(200, "", conforms, "alice", "POST", act, move("a3", 7))
		expect(409, "game_ended", conforms, "bob", "POST", act, move("b3", 8))
		if g := expect(200, "", conforms, "alice", "GET", "/v1/games/"+ttt, ""); g["status"] != "ended" {
			t.Fatalf("after the winning move: %v", g)
		}

		// Resigning, in crazy eights: a move's id reused, twice the same
		// resignation, and too late.
		quit := "/v1/games/" + eights + "/resign"
		g := expect(200, "", conforms, "alice", "GET", "/v1/games/"+eights, "")
		card, _ := json.Marshal(g["legal"].([]any)[0])
		expect(200, "", conforms, "alice", "POST", "/v1/games/"+eights+"/actions", `{"message_id":"c1","action":`+string(card)+`}`)
		expect(422, invalidMessage, conforms, "alice", "POST", quit, "", "Idempotency-Key", "c1")
		expect(400, invalidMessage, nonconforming, "bob", "POST", quit, "", "Idempotency-Key", "not a key!")
		expect(400, invalidMessage, nonconforming, "bob", "POST", "/v1/games/nope/resign", "")
		expect(403, notInGame, conforms, "sam", "POST", quit, "")
		expect(404, notFound, conforms, "bob", "POST", unknown+"/resign", "")
		expect(401, unauthorized, conforms, "", "POST", quit, "")
		// Mid-game, as a stranger: redacted events, no hash past them.
		expect(200, "", conforms, "sam", "GET", "/v1/games/"+eights+"/events", "")
		expect(200, "", conforms, "sam", "GET", "/v1/games/"+eights+"/replay", "")
		expect(200, "", conforms, "sam", "GET", "/v1/games/"+eights+"/replay/events", "")
		expect(200, "", conforms, "alice", "GET", "/v1/games/"+eights+"/replay/events?from=2&to=3", "")
		q1 := expect(200, "", conforms, "bob", "POST", quit, "", "Idempotency-Key", "q1")
		if q2 := expect(200, "", conforms, "bob", "POST", quit, "", "Idempotency-Key", "q1"); q2["duplicate"] != true || q2["head"] != q1["head"] {
			t.Fatalf("resigning twice: %v then %v", q1, q2)
		}
		expect(409, "game_ended", conforms, "alice", "POST", quit, "")

		// Events and replay, ended: the auditor's view.
		for _, who := range []string{"alice", "sam"} {
			expect(200, "", conforms, who, "GET", "/v1/games/"+eights+"/events?after=0&limit=50", "")
			expect(200, "", conforms, who, "GET", "/v1/games/"+ttt+"/replay?at=1", "")
		}
		expect(200, "", conforms, "bob", "GET", "/v1/games/"+eights+"/replay", "")
		expect(200, "", conforms, "bob", "GET", "/v1/games/"+eights+"/replay/events", "")
		expect(400, invalidMessage, conforms, "alice", "GET", "/v1/games/"+ttt+"/events?after=999", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/"+ttt+"/events?after=-1", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/"+ttt+"/events?limit=1001", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/nope/events", "")
		expect(404, notFound, conforms, "alice", "GET", unknown+"/events", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/games/"+ttt+"/events", "")
		expect(400, invalidMessage, conforms, "alice", "GET", "/v1/games/"+ttt+"/replay?at=99", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/"+ttt+"/replay?at=0", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/"+ttt+"/replay?at=x", "")
		expect(404, notFound, conforms, "alice", "GET", unknown+"/replay", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/games/"+ttt+"/replay", "")
		expect(400, invalidMessage, conforms, "alice", "GET", "/v1/games/"+ttt+"/replay/events?from=3&to=2", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games/"+ttt+"/replay/events?from=x", "")
		expect(404, notFound, conforms, "alice", "GET", unknown+"/replay/events", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/games/"+ttt+"/replay/events", "")

		// History, and the ended games list, in pages.
		for deadline := time.Now().Add(10 * time.Second); ; {
			h := expect(200, "", conforms, "alice", "GET", "/v1/users/me/history", "")
			if len(h["games"].([]any)) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice's history: %v", h)
			}
			time.Sleep(10 * time.Millisecond)
		}
		page := expect(200, "", conforms, "alice", "GET", "/v1/users/me/history?limit=1", "")
		next, _ := page["next"].(string)
		if next == "" {
			t.Fatalf("a first page of one: %v", page)
		}
		if last := expect(200, "", conforms, "alice", "GET", "/v1/users/me/history?limit=1&before="+next, ""); last["next"] != "" {
			t.Fatalf("the last page: %v", last)
		}
		expect(200, "", conforms, "alice", "GET", "/v1/games?player=me&status=ended&limit=1", "")
		expect(400, invalidMessage, conforms, "alice", "GET", "/v1/users/me/history?before=nonsense", "")
		// Well formed, but no cursor this server gives: a time out of
		// PostgreSQL's range, a non-canonical game id.
		for _, raw := range []string{"-300000000000000000.11111111-1111-4111-8111-111111111111", "9223372036854775807.11111111-1111-4111-8111-111111111111",
			"1700000000000000.{11111111-1111-4111-8111-111111111111}", "01700000000000000.11111111-1111-4111-8111-111111111111"} {
			before := base64.RawURLEncoding.EncodeToString([]byte(raw))
			expect(400, invalidMessage, conforms, "alice", "GET", "/v1/users/me/history?before="+before, "")
			expect(400, invalidMessage, conforms, "alice", "GET", "/v1/games?player=me&status=ended&before="+before, "")
		}
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/users/me/history?limit=0", "")
		expect(400, invalidMessage, nonconforming, "alice", "GET", "/v1/games?player=me&status=ended&limit=101", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/users/me/history", "")

		// Health, the WebSocket's handshake, the replay viewer.
		expect(200, "", conforms, "", "GET", "/healthz", "")
		expect(200, "", conforms, "", "GET", "/readyz", "")
		ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws", http.Header{"Authorization": {"Bearer " + token(t, "alice")}})
		if err != nil {
			t.Fatal(err)
		}
		d.check(t, "GET", "/v1/ws", resp, nil)
		ws.Close()
		expect(400, "", nonconforming, "alice", "GET", "/v1/ws", "")
		expect(401, unauthorized, conforms, "", "GET", "/v1/ws", "", "Upgrade", "websocket", "Connection", "Upgrade")
		expect(401, unauthorized, conforms, "", "GET", "/v1/ws?access_token=nonsense", "", "Upgrade", "websocket", "Connection", "Upgrade")
		for _, p := range []string{"/replay/" + ttt, "/replay/static/app.js", "/replay/static/style.css", "/replay/static/icon.svg"} {
			resp, err := http.Get(n.url + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			d.check(t, "GET", p, resp, body)
			expect(304, "", conforms, "", "GET", p, "", "If-None-Match", resp.Header.Get("ETag"))
		}
		expect(404, "", conforms, "", "GET", "/replay/static/nope.js", "")

		// Draining: writes and new WebSockets refused, reads served.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.srv.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		expect(503, "", conforms, "", "GET", "/readyz", "")
		expect(503, "unavailable", conforms, "alice", "POST", "/v1/games", `{"rules":"tictactoe","players":["alice","bob"]}`)
		expect(503, "unavailable", conforms, "alice", "POST", act, move("a9", 8))
		expect(503, "unavailable", conforms, "alice", "POST", quit, "")
		expect(503, "unavailable", conforms, "alice", "GET", "/v1/ws", "", "Upgrade", "websocket", "Connection", "Upgrade")
		expect(200, "", conforms, "alice", "GET", "/v1/games/"+ttt, "")

		for _, o := range d.ops {
			for status := range d.at(t, o.ptr+"/responses").(map[string]any) {
				if key := o.method + " " + o.path + " " + status; !d.seen[key] && !unprovoked(o.method, o.path, status) {
					t.Errorf("no test saw %s", key)
				}
			}
		}
	})
}
