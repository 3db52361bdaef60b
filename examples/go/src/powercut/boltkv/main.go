// boltkv: bbolt (go.etcd.io/bbolt) behind powercut's exec protocol, one bucket "kv" in
// DIR/bolt.db. Every put, delete and batch is one Update transaction; NoSync stays false,
// so bbolt fdatasyncs each commit. sync is DB.Sync (fdatasync); flush does nothing.
// bbolt rejects empty keys (ErrKeyRequired): such a write answers err.
package main

import (
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"powercut/kvproto"
)

var bucket = []byte("kv")

type store struct{ db *bolt.DB }

func (s *store) Open(dir string) error {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o644, &bolt.Options{NoSync: false})
	if err != nil {
		return err
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return err
	}
	s.db = db
	return nil
}

func (s *store) Batch(ops []kvproto.Op, sync bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, op := range ops {
			var err error
			if op.Del {
				err = b.Delete(op.Key)
			} else {
				err = b.Put(op.Key, op.Val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *store) Put(k, v []byte, sync bool) error {
	return s.Batch([]kvproto.Op{{Key: k, Val: v}}, sync)
}
func (s *store) Del(k []byte, sync bool) error {
	return s.Batch([]kvproto.Op{{Del: true, Key: k}}, sync)
}

func (s *store) Get(k []byte) (v []byte, found bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if len(k) == 0 {
			return nil
		}
		c := tx.Bucket(bucket).Cursor()
		ck, cv := c.Seek(k)
		if ck != nil && string(ck) == string(k) {
			v, found = append([]byte{}, cv...), true
		}
		return nil
	})
	return
}

func (s *store) Scan(fn func(k, v []byte)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error { fn(k, v); return nil })
	})
}

func (s *store) Sync() error  { return s.db.Sync() }
func (s *store) Flush() error { return nil }
func (s *store) Close() error {
	err := s.db.Close()
	s.db = nil
	return err
}

func main() { kvproto.Serve(&store{}) }
