package bolt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// SocketPath is where a process holding the data file at path answers
// backup requests.
func SocketPath(file string) string { return file + ".sock" }

// backupServer answers backup requests on a Unix socket: a client writes
// "BACKUP\n" and reads "OK <size>\n" followed by a consistent copy of the
// file (or "ERR <message>\n").
type backupServer struct {
	ln   net.Listener
	path string
	wg   sync.WaitGroup
}

func listenBackup(s *Store) *backupServer {
	path := SocketPath(s.path)
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close() // someone answers there: leave it
		return nil
	}
	os.Remove(path) // a stale socket of a process that died
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil // e.g. a path too long for a socket: backups need the file to be free
	}
	os.Chmod(path, 0o600)
	b := &backupServer{ln: ln, path: path}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				b.serve(s, c)
			}()
		}
	}()
	return b
}

func (b *backupServer) serve(s *Store, c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "BACKUP" {
		fmt.Fprintf(c, "ERR unknown request\n")
		return
	}
	c.SetReadDeadline(time.Time{})
	err = s.db.View(func(tx *bbolt.Tx) error {
		if _, err := fmt.Fprintf(c, "OK %d\n", tx.Size()); err != nil {
			return err
		}
		_, err := tx.WriteTo(c)
		return err
	})
	if err != nil {
		fmt.Fprintf(c, "ERR %v\n", err)
	}
}

func (b *backupServer) close() {
	b.ln.Close()
	os.Remove(b.path)
	b.wg.Wait()
}

// BackupFile writes a consistent copy of the data file at path (a data
// directory or a .db file) to w: through the backup socket of the process
// that holds it, or by opening it read-only when no process does. It
// returns the number of bytes written.
func BackupFile(path string, w io.Writer) (int64, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, FileName)
	}
	if _, err := os.Stat(file); err != nil {
		return 0, err
	}
	if c, err := net.DialTimeout("unix", SocketPath(file), time.Second); err == nil {
		defer c.Close()
		if _, err := io.WriteString(c, "BACKUP\n"); err != nil {
			return 0, err
		}
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("backup socket: %w", err)
		}
		size, ok := strings.CutPrefix(strings.TrimSpace(line), "OK ")
		if !ok {
			return 0, fmt.Errorf("backup socket: %s", strings.TrimSpace(line))
		}
		want, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("backup socket: %q", line)
		}
		n, err := io.CopyN(w, r, want)
		if err != nil {
			return n, fmt.Errorf("backup socket: copied %d of %d bytes: %w", n, want, err)
		}
		return n, nil
	}
	s, err := Open(file, Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return s.Backup(w)
}

// Verify checks that a data file (a backup, say) is a consistent charla
// data file: bbolt's own page check, and the schema version.
func Verify(file string) error {
	s, err := Open(file, Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer s.Close()
	return s.db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}
