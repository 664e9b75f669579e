package webchat

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// batchConn lets the writer goroutine put all the frames it has queued on
// the wire with one write: gorilla/websocket writes every frame with its
// own system call, and a turn's reply is several frames. Outside a batch,
// writes (the handshake, pongs and close frames written by other
// goroutines) go straight through. Gorilla serialises its frame writes, so
// a frame is never split; bytes reach the socket in the order written.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      []byte
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.batching {
		b.buf = append(b.buf, p...)
		b.mu.Unlock()
		return len(p), nil
	}
	b.mu.Unlock()
	return b.Conn.Write(p)
}

// begin starts collecting writes.
func (b *batchConn) begin() {
	b.mu.Lock()
	b.batching = true
	b.mu.Unlock()
}

// flush writes what was collected and ends the batch.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.buf)
	if cap(b.buf) > 64<<10 {
		b.buf = nil // do not keep a large image's buffer for an idle connection
	} else {
		b.buf = b.buf[:0]
	}
	return err
}

// batchHijacker hands the upgrader a batchConn instead of the raw connection.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("webchat: the connection cannot be hijacked")
	}
	c, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, rw, nil
}
