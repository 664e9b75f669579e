package webchat

import (
	"embed"
	"html"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Assets serves the demo page at "/" (titled with the bot's name) and the
// widget at "/widget.js" and "/widget.css".
func Assets(title string) http.Handler {
	page, _ := static.ReadFile("static/index.html")
	page = []byte(strings.ReplaceAll(string(page), "{{TITLE}}", html.EscapeString(title)))
	js, _ := static.ReadFile("static/widget.js")
	css, _ := static.ReadFile("static/widget.css")
	serve := func(ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", serve("text/html; charset=utf-8", page))
	mux.Handle("/widget.js", serve("text/javascript; charset=utf-8", js))
	mux.Handle("/widget.css", serve("text/css; charset=utf-8", css))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
	})
	return mux
}
