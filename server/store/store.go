// Package store keeps a model server's durable state in one bbolt file:
// the log of learn events, snapshots of the learned state, and the saved
// versions with their configs.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the store's file inside the data directory.
const FileName = "olops.db"

var (
	bEvents    = []byte("events")
	bSnapshots = []byte("snapshots")
	bVersions  = []byte("versions")
	bMeta      = []byte("meta")
)

// Event is one logged learn event: its sequence number and encoding.
type Event struct {
	Seq  uint64
	Data []byte
}

// Snapshot is the full state after the events up to Seq, with the config
// and version it belongs to. Replay starts after the newest snapshot.
type Snapshot struct {
	Seq     uint64
	Version int
	Config  []byte // olops.yaml
	State   []byte
}

// Version is a saved model version: a frozen state and its config.
type Version struct {
	N       int
	Created time.Time
	Note    string
	Learns  uint64
	Config  []byte
	State   []byte
}

// Write is what one transaction stores.
type Write struct {
	Events   []Event
	Snapshot *Snapshot
	Keep     int // snapshots kept; older ones and the events they cover are deleted
	Versions []Version
	Meta     map[string][]byte
}

// Store is the open state file. Its methods are safe for concurrent use;
// the server writes from one goroutine.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates) the store in dir. With noSync, commits do not
// fsync (durability "none").
func Open(dir string, noSync bool) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        2 * time.Second,
		NoSync:         noSync,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: another server is using this data directory: stop it or pick another --data-dir", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bEvents, bSnapshots, bVersions, bMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func key(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

// Apply writes w in one transaction: durable when it returns nil (unless
// the store was opened with noSync).
func (s *Store) Apply(w Write) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ev := tx.Bucket(bEvents)
		// Keys only grow: fill pages completely.
		ev.FillPercent = 1.0
		for _, e := range w.Events {
			if err := ev.Put(key(e.Seq), e.Data); err != nil {
				return err
			}
		}
		for _, v := range w.Versions {
			b, err := encode(&v)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bVersions).Put(key(uint64(v.N)), b); err != nil {
				return err
			}
		}
		for k, v := range w.Meta {
			if err := tx.Bucket(bMeta).Put([]byte(k), v); err != nil {
				return err
			}
		}
		if w.Snapshot != nil {
			b, err := encode(w.Snapshot)
			if err != nil {
				return err
			}
			sb := tx.Bucket(bSnapshots)
			if err := sb.Put(key(w.Snapshot.Seq), b); err != nil {
				return err
			}
			if w.Keep > 0 {
				return prune(tx, w.Keep)
			}
		}
		return nil
	})
}

// prune keeps the newest keep snapshots and deletes the events that the
// oldest kept one already holds.
func prune(tx *bolt.Tx, keep int) error {
	sb := tx.Bucket(bSnapshots)
	// Stats do not see this transaction's writes: count by hand.
	n := 0
	c := sb.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	for k, _ := c.First(); k != nil && n > keep; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	oldest, _ := c.First()
	if oldest == nil {
		return nil
	}
	limit := binary.BigEndian.Uint64(oldest)
	ec := tx.Bucket(bEvents).Cursor()
	for k, _ := ec.First(); k != nil && binary.BigEndian.Uint64(k) <= limit; k, _ = ec.First() {
		if err := ec.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Latest returns the newest snapshot, or nil for a new store.
func (s *Store) Latest() (*Snapshot, error) {
	var snap *Snapshot
	err := s.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bSnapshots).Cursor().Last()
		if v == nil {
			return nil
		}
		snap = &Snapshot{}
		return gob.NewDecoder(bytes.NewReader(v)).Decode(snap)
	})
	if err != nil {
		return nil, fmt.Errorf("read the newest snapshot: %w", err)
	}
	return snap, nil
}

// Snapshots returns the sequence numbers of the kept snapshots, oldest first.
func (s *Store) Snapshots() ([]uint64, error) {
	var seqs []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bSnapshots).ForEach(func(k, _ []byte) error {
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			return nil
		})
	})
	return seqs, err
}

// Events calls fn for every logged event after seq, in order. data is
// valid only during the call.
func (s *Store) Events(after uint64, fn func(seq uint64, data []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(key(after + 1)); k != nil; k, v = c.Next() {
			if err := fn(binary.BigEndian.Uint64(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastSeq is the newest logged event's sequence number (0 when none).
func (s *Store) LastSeq() (uint64, error) {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bEvents).Cursor().Last(); k != nil {
			seq = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return seq, err
}

// Versions returns every saved version, oldest first, without their state.
func (s *Store) Versions() ([]Version, error) {
	var vs []Version
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bVersions).ForEach(func(_, b []byte) error {
			var v Version
			if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
				return err
			}
			v.State = nil
			vs = append(vs, v)
			return nil
		})
	})
	return vs, err
}

// ErrNoVersion is returned by Version for a number never saved.
var ErrNoVersion = errors.New("no such version")

// Version returns saved version n with its state.
func (s *Store) Version(n int) (*Version, error) {
	var v *Version
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bVersions).Get(key(uint64(n)))
		if b == nil {
			return ErrNoVersion
		}
		v = &Version{}
		return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
	})
	return v, err
}

// Meta reads a small value written with Write.Meta (nil when absent).
func (s *Store) Meta(k string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get([]byte(k)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Writable reports whether a write transaction can commit.
func (s *Store) Writable() error {
	return s.db.Update(func(tx *bolt.Tx) error { return nil })
}
