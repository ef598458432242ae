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
	"math/bits"
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
	// rec is the buffer event records are packed into, reused from one
	// write transaction to the next (bbolt runs one at a time, and
	// copies the values into its pages when it commits).
	rec []byte
}

// recordBytes bounds an event record. A leaf page holds several small
// records; one big record per commit would make bbolt rewrite the last
// few big records (a leaf keeps at least 2 keys) on every commit.
const recordBytes = 1000

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
			if err := s.putEvents(tx.Bucket(bEvents), w.Events); err != nil {
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
	// Delete from the front, one record at a time: a cursor that deletes
	// while it walks skips keys, and First finds the next one.
	ec := tx.Bucket(bEvents).Cursor()
	for k, v := ec.First(); k != nil; k, v = ec.First() {
		first := binary.BigEndian.Uint64(k)
		n := recordCount(v)
		if first+n-1 > limit {
			break
		}
		if err := ec.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// putEvents packs consecutive events into records of about recordBytes
// each, keyed by their first event's seq (inside a write transaction).
func (s *Store) putEvents(ev *bolt.Bucket, evs []Event) error {
	size := 0
	for i, e := range evs {
		if i > 0 && e.Seq != evs[i-1].Seq+1 {
			return fmt.Errorf("events %d and %d are not consecutive", evs[i-1].Seq, e.Seq)
		}
		size += 2*binary.MaxVarintLen64 + len(e.Data) + len(e.Data)/8 + 1
	}
	// Grown once: the records put below must stay where they are until
	// the commit.
	if cap(s.rec) < size {
		s.rec = make([]byte, 0, size)
	}
	b := s.rec[:0]
	// Keys only grow: fill pages completely.
	ev.FillPercent = 1.0
	for len(evs) > 0 {
		start := len(b)
		var n int
		b, n = appendRecord(b, evs)
		if err := ev.Put(key(evs[0].Seq), b[start:]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

// A record holds consecutive events. The first format is the count, then
// each event's length and bytes. The compact one, written now, starts
// with a 0 byte (a count is never 0), then the count, then each event as
// uvarint length<<1|delta: delta 0 is followed by the bytes, delta 1
// (same length as the event before) by a bitmap of the bytes that differ
// from that event's and those bytes. Events logged one after the other
// mostly differ in a few values: this keeps a record about a third of
// the plain size.
const compactRecord = 0

// appendRecord appends a compact record of the first n events of evs, as
// many as fit in about recordBytes (at least one).
func appendRecord(b []byte, evs []Event) ([]byte, int) {
	start := len(b)
	b = append(b, compactRecord)
	// The count is written last, in a fixed-size uvarint: it is known
	// only once the record is full.
	countAt := len(b)
	b = append(b, make([]byte, binary.MaxVarintLen32)...)
	n := 0
	var prev []byte
	for n < len(evs) && (n == 0 || len(b)-start < recordBytes) {
		d := evs[n].Data
		if len(d) != len(prev) || n == 0 {
			b = binary.AppendUvarint(b, uint64(len(d))<<1)
			b = append(b, d...)
		} else {
			b = binary.AppendUvarint(b, uint64(len(d))<<1|1)
			mapAt := len(b)
			b = append(b, make([]byte, (len(d)+7)/8)...)
			// Eight bytes at a time: bit k of a word's bitmap byte is
			// its byte k.
			i := 0
			for ; i+8 <= len(d); i += 8 {
				x := binary.LittleEndian.Uint64(d[i:]) ^ binary.LittleEndian.Uint64(prev[i:])
				for x != 0 {
					k := bits.TrailingZeros64(x) / 8
					b[mapAt+i/8] |= 1 << k
					b = append(b, d[i+k])
					x &^= 0xff << (8 * k)
				}
			}
			for ; i < len(d); i++ {
				if d[i] != prev[i] {
					b[mapAt+i/8] |= 1 << (i % 8)
					b = append(b, d[i])
				}
			}
		}
		prev = d
		n++
	}
	putFixedUvarint(b[countAt:countAt+binary.MaxVarintLen32], uint64(n))
	return b, n
}

// putFixedUvarint writes v as a uvarint of exactly len(b) bytes (padded
// with continuation bytes, which binary.Uvarint reads).
func putFixedUvarint(b []byte, v uint64) {
	for i := range b {
		c := byte(v & 0x7f)
		v >>= 7
		if i < len(b)-1 {
			c |= 0x80
		}
		b[i] = c
	}
}

// recordCount is the number of events in record v.
func recordCount(v []byte) uint64 {
	if len(v) > 0 && v[0] == compactRecord {
		v = v[1:]
	}
	n, _ := binary.Uvarint(v)
	return n
}

// eachInRecord calls fn for the events of one record that come after
// after; data is valid only during the call.
func eachInRecord(first uint64, v []byte, after uint64, fn func(seq uint64, data []byte) error) error {
	compact := len(v) > 0 && v[0] == compactRecord
	if compact {
		v = v[1:]
	}
	n, k := binary.Uvarint(v)
	if k <= 0 {
		return fmt.Errorf("event record %d is corrupt", first)
	}
	v = v[k:]
	var cur, prev []byte
	for i := range n {
		l, k := binary.Uvarint(v)
		delta := false
		if compact {
			l, delta = l>>1, l&1 == 1
		}
		if k <= 0 || (!delta && uint64(len(v)-k) < l) {
			return fmt.Errorf("event record %d is corrupt at event %d", first, first+i)
		}
		v = v[k:]
		var data []byte
		switch {
		case !compact:
			data = v[:l]
			v = v[l:]
		case !delta:
			cur = append(cur[:0], v[:l]...)
			data, v = cur, v[l:]
		default:
			m := (l + 7) / 8
			if uint64(len(prev)) != l || uint64(len(v)) < m {
				return fmt.Errorf("event record %d is corrupt at event %d", first, first+i)
			}
			bitmap := v[:m]
			v = v[m:]
			cur = append(cur[:0], prev...)
			for j := range cur {
				if bitmap[j/8]&(1<<(j%8)) != 0 {
					if len(v) == 0 {
						return fmt.Errorf("event record %d is corrupt at event %d", first, first+i)
					}
					cur[j], v = v[0], v[1:]
				}
			}
			data = cur
		}
		if seq := first + i; seq > after {
			if err := fn(seq, data); err != nil {
				return err
			}
		}
		if compact {
			// The next event may be a delta of this one.
			cur, prev = prev, cur
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
			seq = binary.BigEndian.Uint64(k) + recordCount(v) - 1
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
