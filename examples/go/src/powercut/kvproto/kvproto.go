// Package kvproto runs powercut's exec line protocol (docs/targets.md "exec protocol")
// over a Store: one request per line on stdin, one reply per request on stdout, flushed.
// End of input is a power cut: the process exits at once, without close or sync.
package kvproto

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Op is one write of a batch: Del true deletes Key, otherwise it sets Key to Val.
type Op struct {
	Del      bool
	Key, Val []byte
}

// Store is the engine behind the protocol. Scan calls fn in bytewise key order.
type Store interface {
	Open(dir string) error
	Put(k, v []byte, sync bool) error
	Del(k []byte, sync bool) error
	Batch(ops []Op, sync bool) error
	Get(k []byte) (v []byte, found bool, err error)
	Scan(fn func(k, v []byte)) error
	Sync() error
	Flush() error
	Close() error
}

func unhex(s string) ([]byte, error) {
	if s == "-" {
		return []byte{}, nil
	}
	return hex.DecodeString(s)
}

func enc(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// parseOp reads "put K V" / "del K" (a batch line).
func parseOp(w []string) (Op, error) {
	switch {
	case len(w) == 3 && w[0] == "put":
		k, err := unhex(w[1])
		if err != nil {
			return Op{}, err
		}
		v, err := unhex(w[2])
		return Op{Key: k, Val: v}, err
	case len(w) == 2 && w[0] == "del":
		k, err := unhex(w[1])
		return Op{Del: true, Key: k}, err
	}
	return Op{}, fmt.Errorf("bad batch line %q", strings.Join(w, " "))
}

// Serve answers requests until end of input, then exits the process.
func Serve(s Store) {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	readLine := func() (string, bool) {
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", false
		}
		return strings.TrimRight(line, "\n"), true
	}
	reply := func(err error, ok string) {
		if err != nil {
			fmt.Fprintf(out, "err %s\n", oneLine(err))
		} else {
			out.WriteString(ok + "\n")
		}
		out.Flush()
	}
	for {
		line, ok := readLine()
		if !ok {
			os.Exit(0) // power cut: no close, no sync
		}
		w := strings.Fields(line)
		if len(w) == 0 {
			reply(fmt.Errorf("empty request"), "")
			continue
		}
		switch w[0] {
		case "open":
			reply(s.Open(strings.TrimPrefix(line, "open ")), "ok")
		case "put":
			op, err := parseOp(w[:min(len(w), 3)])
			if err == nil && len(w) == 4 {
				err = s.Put(op.Key, op.Val, w[3] == "1")
			} else if err == nil {
				err = fmt.Errorf("bad put")
			}
			reply(err, "ok")
		case "del":
			op, err := parseOp(w[:min(len(w), 2)])
			if err == nil && len(w) == 3 {
				err = s.Del(op.Key, w[2] == "1")
			} else if err == nil {
				err = fmt.Errorf("bad del")
			}
			reply(err, "ok")
		case "batch":
			if len(w) != 3 {
				reply(fmt.Errorf("bad batch"), "")
				continue
			}
			n, err := strconv.Atoi(w[1])
			if err != nil || n < 0 {
				reply(fmt.Errorf("bad batch count %q", w[1]), "")
				continue
			}
			// read every line first: an error half-way must not leave batch lines
			// to be taken for requests
			ops := make([]Op, 0, n)
			var perr error
			for i := 0; i < n; i++ {
				l, ok := readLine()
				if !ok {
					os.Exit(0)
				}
				op, err := parseOp(strings.Fields(l))
				if err != nil && perr == nil {
					perr = err
				}
				ops = append(ops, op)
			}
			if perr == nil {
				perr = s.Batch(ops, w[2] == "1")
			}
			reply(perr, "ok")
		case "get":
			k, err := unhex(w[len(w)-1])
			if err != nil || len(w) != 2 {
				reply(fmt.Errorf("bad get"), "")
				continue
			}
			v, found, err := s.Get(k)
			switch {
			case err != nil:
				reply(err, "")
			case !found:
				reply(nil, "notfound")
			default:
				reply(nil, "ok "+enc(v))
			}
		case "scan":
			var b strings.Builder
			err := s.Scan(func(k, v []byte) { fmt.Fprintf(&b, "kv %s %s\n", enc(k), enc(v)) })
			if err != nil {
				reply(err, "")
			} else {
				out.WriteString(b.String())
				reply(nil, "end")
			}
		case "sync":
			reply(s.Sync(), "ok")
		case "flush":
			reply(s.Flush(), "ok")
		case "close":
			reply(s.Close(), "ok")
		default:
			reply(fmt.Errorf("unknown request %q", w[0]), "")
		}
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
