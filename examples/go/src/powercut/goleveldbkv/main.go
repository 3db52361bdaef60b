// goleveldbkv: goleveldb (github.com/syndtr/goleveldb) behind powercut's exec protocol,
// the database in DIR. A put or delete flagged sync uses WriteOptions{Sync: true}, a
// batch is one leveldb.Batch written with the batch's sync flag. sync writes a batch
// holding one delete of syncKey with Sync: true (goleveldb returns at once on an empty
// batch, without syncing); flush is CompactRange over every key.
package main

import (
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"powercut/kvproto"
)

// syncKey is deleted (never written) by sync; workloads do not use it.
var syncKey = []byte("\x00powercut-goleveldbkv-sync\x00")

type store struct{ db *leveldb.DB }

func wo(sync bool) *opt.WriteOptions { return &opt.WriteOptions{Sync: sync} }

func (s *store) Open(dir string) error {
	db, err := leveldb.OpenFile(dir, nil)
	if err != nil {
		return err
	}
	s.db = db
	return nil
}

func (s *store) Put(k, v []byte, sync bool) error { return s.db.Put(k, v, wo(sync)) }
func (s *store) Del(k []byte, sync bool) error    { return s.db.Delete(k, wo(sync)) }

func (s *store) Batch(ops []kvproto.Op, sync bool) error {
	b := new(leveldb.Batch)
	for _, op := range ops {
		if op.Del {
			b.Delete(op.Key)
		} else {
			b.Put(op.Key, op.Val)
		}
	}
	return s.db.Write(b, wo(sync))
}

func (s *store) Get(k []byte) ([]byte, bool, error) {
	v, err := s.db.Get(k, nil)
	if err == leveldb.ErrNotFound {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (s *store) Scan(fn func(k, v []byte)) error {
	it := s.db.NewIterator(nil, nil)
	for it.Next() {
		fn(it.Key(), it.Value())
	}
	it.Release()
	return it.Error()
}

func (s *store) Sync() error {
	b := new(leveldb.Batch)
	b.Delete(syncKey)
	return s.db.Write(b, wo(true))
}

func (s *store) Flush() error { return s.db.CompactRange(util.Range{}) }
func (s *store) Close() error {
	err := s.db.Close()
	s.db = nil
	return err
}

func main() { kvproto.Serve(&store{}) }
