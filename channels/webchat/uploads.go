package webchat

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// UploadsPath is where the Hub's Uploads are served.
const UploadsPath = "/uploads/"

// Uploads keeps the images shoppers send, by id: in Dir when set (they
// survive a restart), otherwise in memory, at most MaxBytes (64 MiB) of
// them, the oldest forgotten first. It serves them over HTTP under
// [UploadsPath]. The zero value is ready to use.
type Uploads struct {
	Dir      string
	MaxBytes int

	mu    sync.Mutex
	mem   map[string]upload
	order []string
	size  int
}

type upload struct {
	mime string
	data []byte
}

// Put stores an image and returns its id.
func (u *Uploads) Put(mime string, data []byte) string {
	id := NewID("")
	if u.Dir != "" {
		if err := os.MkdirAll(u.Dir, 0o755); err == nil {
			if err := os.WriteFile(filepath.Join(u.Dir, id), data, 0o644); err == nil {
				return id
			}
		}
	}
	max := u.MaxBytes
	if max <= 0 {
		max = 64 << 20
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.mem == nil {
		u.mem = map[string]upload{}
	}
	for u.size+len(data) > max && len(u.order) > 0 {
		old := u.order[0]
		u.order = u.order[1:]
		u.size -= len(u.mem[old].data)
		delete(u.mem, old)
	}
	u.mem[id] = upload{mime, data}
	u.order = append(u.order, id)
	u.size += len(data)
	return id
}

// Delete forgets an image (a user's data being erased).
func (u *Uploads) Delete(id string) {
	if !validUploadID(id) {
		return
	}
	u.mu.Lock()
	if up, ok := u.mem[id]; ok {
		u.size -= len(up.data)
		delete(u.mem, id)
		for i, o := range u.order {
			if o == id {
				u.order = append(u.order[:i], u.order[i+1:]...)
				break
			}
		}
	}
	u.mu.Unlock()
	if u.Dir != "" {
		os.Remove(filepath.Join(u.Dir, id))
	}
}

// UploadID returns the id of an upload's URL (UploadsPath + id).
func UploadID(url string) (string, bool) {
	id, ok := strings.CutPrefix(url, UploadsPath)
	return id, ok && validUploadID(id)
}

func validUploadID(id string) bool {
	return len(id) == 32 && strings.Trim(id, "0123456789abcdef") == ""
}

// ServeHTTP serves GET UploadsPath+id.
func (u *Uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := UploadID(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "no such upload")
		return
	}
	var data []byte
	u.mu.Lock()
	up, ok := u.mem[id]
	u.mu.Unlock()
	if ok {
		data = up.data
	} else if u.Dir != "" {
		b, err := os.ReadFile(filepath.Join(u.Dir, id))
		if err != nil {
			writeError(w, http.StatusNotFound, "no such upload")
			return
		}
		data = b
	} else {
		writeError(w, http.StatusNotFound, "no such upload")
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Write(data)
}
