// Package filestore is a whole-file key-value store: the map lives in memory and every
// write rewrites DIR/db.tmp and renames it over DIR/db. With Durable set, the temp file
// is fsynced before the rename and the directory after it (the publish rule: write temp,
// fsync, rename, fsync dir), so every acked write is durable and every batch atomic.
// Without it (the naive store) nothing is ever fsynced: a power cut can lose acked
// writes, which is what powercut must catch.
// Invariant (Durable): after a failed write, fsync or rename the store refuses writes
// until it is opened again (a failed fsync is final).
package filestore

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"powercut/kvproto"
)

type Store struct {
	Durable bool
	dir     string
	m       map[string][]byte
	failed  error
}

func enc(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func dec(s string) ([]byte, error) {
	if s == "-" {
		return []byte{}, nil
	}
	return hex.DecodeString(s)
}

func (s *Store) Open(dir string) error {
	s.dir, s.m, s.failed = dir, map[string][]byte{}, nil
	f, err := os.Open(filepath.Join(dir, "db"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) != 2 {
			return fmt.Errorf("db: bad line %q", sc.Text())
		}
		k, err1 := dec(w[0])
		v, err2 := dec(w[1])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("db: bad hex in %q", sc.Text())
		}
		s.m[string(k)] = v
	}
	return sc.Err()
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) save() error {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(enc([]byte(k)) + " " + enc(s.m[k]) + "\n")
	}
	tmp := filepath.Join(s.dir, "db.tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	if err == nil && s.Durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, "db"))
	}
	if err == nil && s.Durable {
		err = fsyncPath(s.dir)
	}
	return err
}

// apply runs the writes on a copy of the map and publishes it; the map changes only
// when the file does.
func (s *Store) apply(ops []kvproto.Op) error {
	if s.failed != nil {
		return fmt.Errorf("store failed earlier (%v): reopen", s.failed)
	}
	old := make(map[string][]byte, len(s.m))
	for k, v := range s.m {
		old[k] = v
	}
	for _, op := range ops {
		if op.Del {
			delete(s.m, string(op.Key))
		} else {
			s.m[string(op.Key)] = op.Val
		}
	}
	if err := s.save(); err != nil {
		s.m = old
		if s.Durable {
			s.failed = err
		}
		return err
	}
	return nil
}

func (s *Store) Put(k, v []byte, sync bool) error { return s.apply([]kvproto.Op{{Key: k, Val: v}}) }
func (s *Store) Del(k []byte, sync bool) error    { return s.apply([]kvproto.Op{{Del: true, Key: k}}) }
func (s *Store) Batch(ops []kvproto.Op, sync bool) error { return s.apply(ops) }

func (s *Store) Get(k []byte) ([]byte, bool, error) {
	v, ok := s.m[string(k)]
	return v, ok, nil
}

func (s *Store) Scan(fn func(k, v []byte)) error {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn([]byte(k), s.m[k])
	}
	return nil
}

func (s *Store) Sync() error  { return s.failed }
func (s *Store) Flush() error { return nil }
func (s *Store) Close() error { s.m = nil; return nil }
