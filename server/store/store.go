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
	bolterrors "go.etcd.io/bbolt/errors"
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
	if errors.Is(err, bolterrors.ErrTimeout) {
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
		if len(w.Events) > 0 {
			rec, err := record(w.Events)
			if err != nil {
				return err
			}
			ev := tx.Bucket(bEvents)
			// Keys only grow: fill pages completely.
			ev.FillPercent = 1.0
			if err := ev.Put(key(w.Events[0].Seq), rec); err != nil {
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
	// Collect first, then delete: a cursor that deletes while it walks
	// skips keys.
	ev := tx.Bucket(bEvents)
	var dead [][]byte
	ec := ev.Cursor()
	for k, v := ec.First(); k != nil; k, v = ec.Next() {
		first := binary.BigEndian.Uint64(k)
		n, _ := binary.Uvarint(v)
		if first+n-1 > limit {
			break
		}
		dead = append(dead, bytes.Clone(k))
	}
	for _, k := range dead {
		if err := ev.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// record packs consecutive events into one value: the count, then each
// event's length and bytes. One Put per commit instead of one per event.
func record(evs []Event) ([]byte, error) {
	size := binary.MaxVarintLen64
	for i, e := range evs {
		if i > 0 && e.Seq != evs[i-1].Seq+1 {
			return nil, fmt.Errorf("events %d and %d are not consecutive", evs[i-1].Seq, e.Seq)
		}
		size += binary.MaxVarintLen64 + len(e.Data)
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for _, e := range evs {
		b = binary.AppendUvarint(b, uint64(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b, nil
}

// eachInRecord calls fn for the events of one record that come after
// after.
func eachInRecord(first uint64, v []byte, after uint64, fn func(seq uint64, data []byte) error) error {
	n, k := binary.Uvarint(v)
	if k <= 0 {
		return fmt.Errorf("event record %d is corrupt", first)
	}
	v = v[k:]
	for i := range n {
		l, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < l {
			return fmt.Errorf("event record %d is corrupt at event %d", first, first+i)
		}
		data := v[k : k+int(l)]
		v = v[k+int(l):]
		if seq := first + i; seq > after {
			if err := fn(seq, data); err != nil {
				return err
			}
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
		// Start at the record that holds after+1: the last one whose
		// first event is not later.
		k, v := c.Seek(key(after + 1))
		if k == nil || binary.BigEndian.Uint64(k) > after+1 {
			if pk, pv := c.Prev(); pk != nil {
				k, v = pk, pv
			} else {
				k, v = c.First()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if err := eachInRecord(binary.BigEndian.Uint64(k), v, after, fn); err != nil {
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
		k, v := tx.Bucket(bEvents).Cursor().Last()
		if k != nil {
			n, _ := binary.Uvarint(v)
			seq = binary.BigEndian.Uint64(k) + n - 1
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
