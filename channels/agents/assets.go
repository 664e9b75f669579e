package agents

import (
	"embed"
	"net/http"

	"github.com/charlabot/charla/channels/rest"
)

//go:embed static
var static embed.FS

// assets serves the console's page, script and style sheet, with headers
// that keep the page to its own origin.
func assets() http.Handler {
	read := func(name string) []byte {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			panic(err) // embedded at build time
		}
		return b
	}
	serve := func(ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", ctype)
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https: http:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /agent/{$}", serve("text/html; charset=utf-8", read("index.html")))
	mux.Handle("GET /agent/app.js", serve("text/javascript; charset=utf-8", read("app.js")))
	mux.Handle("GET /agent/app.css", serve("text/css; charset=utf-8", read("app.css")))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteError(w, http.StatusNotFound, "not found: "+r.URL.Path)
	})
	return mux
}
