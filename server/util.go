package server

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olops/olops/internal/api"
)

// idCache keeps the features of recent predictions under their id so that
// a label arriving later can be joined to them. It is bounded in size
// (oldest first out) and in age. Features are kept encoded: one
// pointer-free slice per entry keeps the garbage collector's work small.
type idCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	items map[string]cached
	order []queued // insertion order, a queue
	head  int
	gen   uint64
}

type cached struct {
	x   []byte // event encoding of the sample (no label)
	at  time.Time
	gen uint64
}

type queued struct {
	id  string
	at  time.Time
	gen uint64
}

func newIDCache(max int, ttl time.Duration) *idCache {
	return &idCache{max: max, ttl: ttl, items: make(map[string]cached)}
}

func (c *idCache) put(id string, x sample, sv *served, now time.Time) {
	enc := (&event{X: x, Served: sv}).appendTo(make([]byte, 0, 48+16*len(x)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.items[id] = cached{x: enc, at: now, gen: c.gen}
	c.order = append(c.order, queued{id: id, at: now, gen: c.gen})
	for c.head < len(c.order) && (len(c.items) > c.max || now.Sub(c.order[c.head].at) > c.ttl) {
		q := c.order[c.head]
		c.order[c.head] = queued{}
		c.head++
		// A reused id was put again later: only its newest entry counts.
		if it, ok := c.items[q.id]; ok && it.gen == q.gen {
			delete(c.items, q.id)
		}
	}
	// Compact the queue once half of it is consumed.
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

// get returns the features predicted under id and the prediction
// served, if still kept.
func (c *idCache) get(id string, now time.Time) (sample, *served, bool) {
	c.mu.Lock()
	it, ok := c.items[id]
	c.mu.Unlock()
	if !ok || now.Sub(it.at) > c.ttl {
		return nil, nil, false
	}
	e, err := decodeEvent(it.x)
	if err != nil {
		return nil, nil, false
	}
	return e.X, e.Served, true
}

// remove forgets id once its label was learned (a label joins once).
func (c *idCache) remove(id string) {
	c.mu.Lock()
	delete(c.items, id)
	c.mu.Unlock()
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
