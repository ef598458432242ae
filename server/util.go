package server

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olops/olops/internal/api"
)

// idCache keeps the features of recent predictions under their id so that
// a label arriving later can be joined to them. It is bounded in size
// (oldest first out) and in age. Every prediction puts an entry, so the
// steady state allocates nothing: the entries live in a ring whose slots
// (and their byte buffers) are reused, found through an open-addressing
// table of slot numbers.
type idCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	seed  maphash.Seed
	slots []idSlot // a ring: head is the oldest, size the slots in use
	head  int
	size  int
	live  int
	table []int32 // slot number + 1, 0 for empty; linear probing
	mask  uint64
	block []byte // where new slots' buffers are cut from
}

type idSlot struct {
	// buf is the id, then the event encoding of the sample and the
	// prediction served.
	buf  []byte
	klen int
	at   int64 // unix nanoseconds
	hash uint64
	live bool // false once removed, replaced or expired
}

func (sl *idSlot) key() []byte { return sl.buf[:sl.klen] }

// slotBytes is the room a slot's buffer starts with: an id and a sample
// of a dozen features fit; a bigger one grows its own.
const slotBytes = 256

// carve returns an empty buffer for a new slot, cut from a shared block:
// while the ring first fills, one allocation serves many slots.
func (c *idCache) carve() []byte {
	if cap(c.block)-len(c.block) < slotBytes {
		c.block = make([]byte, 0, 256*slotBytes)
	}
	n := len(c.block)
	c.block = c.block[:n+slotBytes]
	return c.block[n : n : n+slotBytes]
}

func newIDCache(max int, ttl time.Duration) *idCache {
	n := 1
	for n < 2*max {
		n *= 2
	}
	return &idCache{ttl: ttl, seed: maphash.MakeSeed(), slots: make([]idSlot, max), table: make([]int32, n), mask: uint64(n - 1)}
}

// find returns the table position of key, or -1.
func (c *idCache) find(key []byte, h uint64) int {
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		k := c.table[i]
		if k == 0 {
			return -1
		}
		if sl := &c.slots[k-1]; sl.hash == h && string(sl.key()) == string(key) {
			return int(i)
		}
	}
}

// unlink empties table position i, shifting later entries of its probe
// run back so that lookups need no tombstones.
func (c *idCache) unlink(i int) {
	c.slots[c.table[i]-1].live = false
	c.live--
	j := uint64(i)
	for {
		c.table[j] = 0
		k := (j + 1) & c.mask
		for ; ; k = (k + 1) & c.mask {
			e := c.table[k]
			if e == 0 {
				return
			}
			home := c.slots[e-1].hash & c.mask
			// Move e back to j unless its home lies cyclically in (j, k].
			if (k > j && (home <= j || home > k)) || (k < j && home <= j && home > k) {
				break
			}
		}
		c.table[j] = c.table[k]
		j = k
	}
}

// drop forgets the oldest slot.
func (c *idCache) drop() {
	sl := &c.slots[c.head]
	if sl.live {
		c.unlink(c.find(sl.key(), sl.hash))
	}
	c.head = (c.head + 1) % len(c.slots)
	c.size--
}

func (c *idCache) put(id string, x sample, sv *served, now time.Time) {
	c.putEncoded([]byte(id), (&event{X: x, Served: sv}).appendTo(nil), now)
}

// putEncoded is put with the id as bytes and the sample and prediction
// already encoded (outside the lock); it copies both.
func (c *idCache) putEncoded(id, enc []byte, now time.Time) {
	h := maphash.Bytes(c.seed, id)
	at := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	// A reused id: only its newest entry counts.
	if i := c.find(id, h); i >= 0 {
		c.unlink(i)
	}
	for c.size > 0 && (c.size == len(c.slots) || !c.slots[c.head].live || at-c.slots[c.head].at > int64(c.ttl)) {
		c.drop()
	}
	n := (c.head + c.size) % len(c.slots)
	c.size++
	sl := &c.slots[n]
	if sl.buf == nil {
		sl.buf = c.carve()
	}
	sl.buf = append(append(sl.buf[:0], id...), enc...)
	sl.klen = len(id)
	sl.at, sl.hash, sl.live = at, h, true
	c.live++
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		if c.table[i] == 0 {
			c.table[i] = int32(n + 1)
			break
		}
	}
}

// len is the number of ids kept.
func (c *idCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// get returns the features predicted under id and the prediction
// served, if still kept.
func (c *idCache) get(id string, now time.Time) (sample, *served, bool) {
	key := []byte(id)
	h := maphash.Bytes(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.find(key, h)
	if i < 0 {
		return nil, nil, false
	}
	sl := &c.slots[c.table[i]-1]
	if now.UnixNano()-sl.at > int64(c.ttl) {
		return nil, nil, false
	}
	// Decoded under the lock: the slot's buffer is reused.
	e, err := decodeEvent(sl.buf[sl.klen:])
	if err != nil {
		return nil, nil, false
	}
	return e.X, e.Served, true
}

// remove forgets id once its label was learned (a label joins once).
func (c *idCache) remove(id string) {
	key := []byte(id)
	h := maphash.Bytes(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.find(key, h); i >= 0 {
		c.unlink(i)
	}
}

// bucket is a token bucket: rate tokens per second, up to burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	b := float64(max(burst, 1))
	return &bucket{rate: rate, burst: b, tokens: b, last: time.Now()}
}

func (b *bucket) refill(now time.Time) {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// allow takes one token if there is one.
func (b *bucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(time.Now())
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// wait takes n tokens, waiting for them (streams slow down instead of
// failing).
func (b *bucket) wait(ctx context.Context, n int) error {
	for n > 0 {
		b.mu.Lock()
		b.refill(time.Now())
		take := math.Min(float64(n), math.Floor(b.tokens))
		b.tokens -= take
		n -= int(take)
		need := 0.0
		if n > 0 {
			need = math.Min(float64(n), b.burst) - b.tokens
		}
		b.mu.Unlock()
		if n == 0 {
			return nil
		}
		t := time.NewTimer(time.Duration(need / b.rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// hub fans server-sent events out to subscribers; a slow subscriber misses
// events instead of slowing the server.
type hub struct {
	mu     sync.Mutex
	subs   map[chan api.Event]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan api.Event]struct{}{}} }

func (h *hub) subscribe() (chan api.Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	c := make(chan api.Event, 64)
	h.subs[c] = struct{}{}
	return c, true
}

func (h *hub) unsubscribe(c chan api.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[c]; ok {
		delete(h.subs, c)
		close(c)
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *hub) publish(e api.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}

// close ends every subscription (on shutdown).
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.subs {
		delete(h.subs, c)
		close(c)
	}
}

// histogram counts durations in quarter-octave buckets from 1µs, lock-free.
type histogram struct {
	counts [nBuckets]atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	n      atomic.Uint64
}

const nBuckets = 100

// bucketUpper is the upper bound of bucket i in seconds.
func bucketUpper(i int) float64 { return 1e-6 * math.Pow(2, float64(i+1)/4) }

func (h *histogram) observe(d time.Duration) { h.observeN(d, 1) }

// observeN counts n observations of d (the lines of one stream chunk).
func (h *histogram) observeN(d time.Duration, n int) {
	if n <= 0 {
		return
	}
	s := d.Seconds()
	i := 0
	if s > 1e-6 {
		i = int(math.Ceil(4*math.Log2(s/1e-6))) - 1
	}
	i = min(max(i, 0), nBuckets-1)
	h.counts[i].Add(uint64(n))
	h.sum.Add(uint64(d) * uint64(n))
	h.n.Add(uint64(n))
}

// quantile returns the q-quantile in milliseconds (the bucket's bound) of
// the observations of all hs together, 0 when there are none.
func quantile(q float64, hs ...*histogram) float64 {
	var counts [nBuckets]uint64
	var n uint64
	for _, h := range hs {
		for i := range counts {
			c := h.counts[i].Load()
			counts[i] += c
			n += c
		}
	}
	if n == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(n))), 1)
	var c uint64
	for i := range counts {
		c += counts[i]
		if c >= rank {
			return bucketUpper(i) * 1000
		}
	}
	return bucketUpper(nBuckets-1) * 1000
}

// quantile returns the q-quantile in milliseconds (the bucket's bound).
func (h *histogram) quantile(q float64) float64 { return quantile(q, h) }

// latencies are the request histograms by route kind; streamLine counts
// each /v1/stream line, from when its chunk was read to when its result
// was written.
type latencies struct {
	predict, learn, stream, infer, streamLine histogram
}

// summary is the latency of everything answered: single requests and
// stream lines (a stream request's own duration is its client's doing).
func (l *latencies) summary() api.Latency {
	hs := []*histogram{&l.predict, &l.learn, &l.infer, &l.streamLine}
	return api.Latency{P50: quantile(0.5, hs...), P99: quantile(0.99, hs...)}
}

// rates estimates events per second from counters sampled each second.
type rates struct {
	mu           sync.Mutex
	ring         [6]sample2
	n            int
	preds, learn float64
}

type sample2 struct {
	at           time.Time
	preds, learn uint64
}

func (r *rates) add(now time.Time, preds, learns uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.n%len(r.ring)] = sample2{now, preds, learns}
	r.n++
	if r.n < 2 {
		return
	}
	oldest := r.ring[max(r.n-len(r.ring), 0)%len(r.ring)]
	newest := r.ring[(r.n-1)%len(r.ring)]
	dt := newest.at.Sub(oldest.at).Seconds()
	if dt > 0 {
		r.preds = float64(newest.preds-oldest.preds) / dt
		r.learn = float64(newest.learn-oldest.learn) / dt
	}
}

func (r *rates) get() api.Rates {
	r.mu.Lock()
	defer r.mu.Unlock()
	return api.Rates{Predictions: r.preds, Learns: r.learn}
}
