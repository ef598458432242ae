package store

import (
	"encoding/binary"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestApplySnapshotsPruneAndReplayRange(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 30; seq++ {
		w := Write{Events: []Event{{Seq: seq, Data: []byte(fmt.Sprint(seq))}}}
		if seq%10 == 0 {
			w.Snapshot = &Snapshot{Seq: seq, Version: 1, Config: []byte("c"), State: []byte(fmt.Sprint("state", seq))}
			w.Keep = 2
		}
		if err := s.Apply(w); err != nil {
			t.Fatal(err)
		}
	}
	snaps, err := s.Snapshots()
	if err != nil || len(snaps) != 2 || snaps[0] != 20 || snaps[1] != 30 {
		t.Fatalf("snapshots %v (%v): want the newest two, 20 and 30", snaps, err)
	}
	latest, err := s.Latest()
	if err != nil || latest.Seq != 30 || string(latest.State) != "state30" {
		t.Fatalf("latest %+v %v", latest, err)
	}
	var seqs []uint64
	if err := s.Events(0, func(seq uint64, _ []byte) error { seqs = append(seqs, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	// Events up to the oldest kept snapshot (20) are gone.
	if len(seqs) != 10 || seqs[0] != 21 || seqs[9] != 30 {
		t.Fatalf("events left %v, want 21..30", seqs)
	}
	seqs = nil
	_ = s.Events(25, func(seq uint64, _ []byte) error { seqs = append(seqs, seq); return nil })
	if len(seqs) != 5 || seqs[0] != 26 {
		t.Fatalf("events after 25: %v", seqs)
	}
	if last, _ := s.LastSeq(); last != 30 {
		t.Fatalf("last seq %d", last)
	}
	s.Close()

	// Everything survives a reopen.
	s, err = Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, _ := s.Latest(); l == nil || l.Seq != 30 {
		t.Fatalf("after reopen: %+v", l)
	}
}

func TestVersionsAndMeta(t *testing.T) {
	s, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Apply(Write{Versions: []Version{{N: 1, Note: "one", State: []byte("s1")}, {N: 2, Note: "two", Learns: 5, State: []byte("s2")}},
		Meta: map[string][]byte{"paused": []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions()
	if err != nil || len(vs) != 2 || vs[1].Note != "two" || vs[1].Learns != 5 || vs[0].State != nil {
		t.Fatalf("versions %+v %v (state is left out of the list)", vs, err)
	}
	v, err := s.Version(2)
	if err != nil || string(v.State) != "s2" {
		t.Fatalf("version 2: %+v %v", v, err)
	}
	if _, err := s.Version(3); err != ErrNoVersion {
		t.Fatalf("missing version: %v", err)
	}
	if m, _ := s.Meta("paused"); string(m) != "1" {
		t.Fatalf("meta %q", m)
	}
	if m, _ := s.Meta("nothing"); m != nil {
		t.Fatalf("absent meta %q", m)
	}
	if err := s.Writable(); err != nil {
		t.Fatal(err)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir, false); err == nil {
		t.Fatal("a second server opened the same data directory")
	}
}

func TestEventRecordsHoldManyEvents(t *testing.T) {
	s, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seq uint64
	for _, n := range []int{5, 1, 3} {
		var evs []Event
		for range n {
			seq++
			evs = append(evs, Event{Seq: seq, Data: []byte(fmt.Sprint("e", seq))})
		}
		if err := s.Apply(Write{Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	for after := uint64(0); after <= 10; after++ {
		var got []string
		if err := s.Events(after, func(seq uint64, d []byte) error {
			if string(d) != fmt.Sprint("e", seq) {
				t.Fatalf("event %d holds %q", seq, d)
			}
			got = append(got, string(d))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := max(0, 9-int(after)); len(got) != want {
			t.Errorf("after %d: %v, want %d events", after, got, want)
		}
	}
	if last, _ := s.LastSeq(); last != 9 {
		t.Errorf("last seq %d, want 9", last)
	}
	if err := s.Apply(Write{Events: []Event{{Seq: 11}, {Seq: 13}}}); err == nil {
		t.Error("events with a gap were stored")
	}
}

// TestRecordsRoundTrip writes events of mixed lengths (deltas and plain)
// over several records and reads them back byte for byte, along with a
// record in the first (plain) format.
func TestRecordsRoundTrip(t *testing.T) {
	s, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A record in the first format: count, then length and bytes.
	old := [][]byte{[]byte("first"), []byte("second")}
	rec := binary.AppendUvarint(nil, uint64(len(old)))
	for _, d := range old {
		rec = binary.AppendUvarint(rec, uint64(len(d)))
		rec = append(rec, d...)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bEvents).Put(key(1), rec) }); err != nil {
		t.Fatal(err)
	}
	want := map[uint64][]byte{1: old[0], 2: old[1]}
	seq := uint64(3)
	for batch := range 5 {
		var evs []Event
		for i := range 300 + 100*batch {
			d := fmt.Appendf(nil, "event %08d label %d", seq*7919%100000, i%2)
			if i%13 == 0 {
				d = append(d, "longer"...)
			}
			if i%29 == 0 {
				d = nil
			}
			evs = append(evs, Event{Seq: seq, Data: d})
			want[seq] = d
			seq++
		}
		if err := s.Apply(Write{Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err = s.Events(0, func(seq uint64, data []byte) error {
		n++
		if string(data) != string(want[seq]) {
			t.Fatalf("event %d: %q, want %q", seq, data, want[seq])
		}
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("%d events read (%v), want %d", n, err, len(want))
	}
	// From the middle of a record.
	n = 0
	if err := s.Events(1000, func(seq uint64, data []byte) error {
		if n == 0 && seq != 1001 {
			t.Fatalf("first event after 1000 is %d", seq)
		}
		n++
		if string(data) != string(want[seq]) {
			t.Fatalf("event %d: %q, want %q", seq, data, want[seq])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastSeq(); err != nil || last != seq-1 {
		t.Fatalf("last seq %d (%v), want %d", last, err, seq-1)
	}
}
