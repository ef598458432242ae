package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/server/store"
)

type ackedEvent struct {
	x     sample
	label string
}

// TestCrashKeepsEveryAcknowledgedLearn kills the server with SIGKILL at
// random moments under concurrent learn load (single learns and NDJSON
// streams, batch and fsync durability), restarts it on the same data
// directory, and checks that every acknowledged event is in the log with
// its content, that the log has no gaps, and that the restarted server
// predicts bit-identically to a fresh in-process model that learned
// exactly the logged events in order.
func TestCrashKeepsEveryAcknowledgedLearn(t *testing.T) {
	const iterations = 14
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	cfgText := func(durability string) string {
		// Snapshots every 150 events so that restarts load a snapshot and
		// replay the rest; keep them all so the whole log stays readable.
		return binaryConfig("  snapshots:\n    every: 150\n    keep: 100000\n  durability: " + durability + "\n")
	}
	cfg, err := config.Parse([]byte(cfgText("batch")), "crash.yaml")
	if err != nil {
		t.Fatal(err)
	}
	probes := []string{`{"a":0.5,"b":-1,"c":"k0"}`, `{"a":-2,"b":3,"c":"k2"}`, `{"a":10,"b":0.25}`, `{"c":"k1"}`}
	acked := map[uint64]ackedEvent{}
	var ackMu sync.Mutex
	var logged uint64
	var ref *model
	var unique atomic.Int64

	for it := 0; it <= iterations; it++ {
		durability := []string{"batch", "fsync"}[it%2]
		p := start(t, serveOpts{config: cfgText(durability), dataDir: dir, args: []string{"--log-level", "info"}})
		if ref != nil {
			for _, pr := range probes {
				got := predictProba(t, p, pr)
				x := mustSample(t, pr)
				var o outcome
				var row learn.Row
				if err := ref.predict(x, &row, &o); err != nil {
					t.Fatal(err.Error)
				}
				wantPred, wantProba := ref.answer(&o)
				if fmt.Sprint(got.Prediction) != fmt.Sprint(wantPred) || !sameProba(got.Proba, wantProba) {
					t.Fatalf("iteration %d, probe %s: server %v %v, reference model %v %v (after %d logged events)",
						it, pr, got.Prediction, got.Proba, wantPred, wantProba, logged)
				}
			}
			if m := getModel(t, p); m.Counters.Learns != logged {
				t.Fatalf("iteration %d: server has %d learns, the log %d", it, m.Counters.Learns, logged)
			}
		}
		if it == iterations {
			p.stop()
			break
		}

		// Load until the kill.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 5 * time.Second}
		for w := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed+uint64(it*10+w), 1))
				for {
					select {
					case <-stop:
						return
					default:
					}
					if w == 4 {
						streamLoad(client, p.pub, r, &unique, acked, &ackMu)
					} else {
						learnLoad(client, p.pub, r, &unique, acked, &ackMu)
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+rng.IntN(230)) * time.Millisecond)
		p.kill()
		close(stop)
		wg.Wait()

		// Read the log the killed server left behind.
		st, err := store.Open(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := models.New(cfg.LearnSpec())
		if err != nil {
			t.Fatal(err)
		}
		ref = &model{cfg: cfg, p: pl}
		var next uint64 = 1
		var row learn.Row
		err = st.Events(0, func(seq uint64, data []byte) error {
			if seq != next {
				return fmt.Errorf("the log jumps from %d to %d", next-1, seq)
			}
			next++
			e, err := decodeEvent(data)
			if err != nil {
				return err
			}
			if err := rowFor(pl, e.X, &row); err != nil {
				return err
			}
			return pl.LearnClass(&row, e.Label)
		})
		if err != nil {
			st.Close()
			t.Fatalf("iteration %d: %v", it, err)
		}
		logged = next - 1
		ackMu.Lock()
		for seq, a := range acked {
			if seq > logged {
				t.Errorf("iteration %d: acknowledged event %d is not in the log (last %d)", it, seq, logged)
				continue
			}
			var got event
			_ = st.Events(seq-1, func(s uint64, data []byte) error {
				if s == seq {
					got, _ = decodeEvent(data)
				}
				return errStop
			})
			if got.Label != a.label || fmt.Sprint(got.X) != fmt.Sprint(a.x) {
				t.Errorf("event %d: logged %v %q, acknowledged %v %q", seq, got.X, got.Label, a.x, a.label)
			}
		}
		nAcked := len(acked)
		ackMu.Unlock()
		st.Close()
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("iteration %d (%s): %d events logged, %d acknowledged so far", it, durability, logged, nAcked)
	}
	if len(acked) == 0 {
		t.Fatal("no learn was acknowledged: the load never reached the server")
	}
}

var errStop = fmt.Errorf("stop")

func sameProba(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func mustSample(t *testing.T, features string) sample {
	t.Helper()
	var f api.Features
	if err := json.Unmarshal([]byte(features), &f); err != nil {
		t.Fatal(err)
	}
	x, aerr := canonical(f, nil)
	if aerr != nil {
		t.Fatal(aerr.Error)
	}
	return x
}

func randomFeatures(r *rand.Rand, unique *atomic.Int64) (api.Features, string) {
	f := api.Features{"a": r.NormFloat64(), "b": float64(r.IntN(100)) / 7, "u": float64(unique.Add(1))}
	if r.IntN(4) > 0 {
		f["c"] = fmt.Sprintf("k%d", r.IntN(3))
	}
	label := "0"
	if f["a"].(float64)+r.NormFloat64()*0.3 > 0 {
		label = "1"
	}
	return f, label
}

func learnLoad(c *http.Client, base string, r *rand.Rand, unique *atomic.Int64, acked map[uint64]ackedEvent, mu *sync.Mutex) {
	f, label := randomFeatures(r, unique)
	b, _ := json.Marshal(api.LearnRequest{Features: f, Label: label})
	resp, err := c.Post(base+"/v1/learn", "application/json", bytes.NewReader(b))
	if err != nil {
		time.Sleep(time.Millisecond)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return
	}
	var lr api.LearnReply
	if json.NewDecoder(resp.Body).Decode(&lr) != nil {
		return
	}
	x, _ := canonical(f, nil)
	mu.Lock()
	acked[lr.Seq] = ackedEvent{x: x, label: label}
	mu.Unlock()
}

func streamLoad(c *http.Client, base string, r *rand.Rand, unique *atomic.Int64, acked map[uint64]ackedEvent, mu *sync.Mutex) {
	var body strings.Builder
	var sent []ackedEvent
	for range 20 {
		f, label := randomFeatures(r, unique)
		b, _ := json.Marshal(api.StreamLine{Features: f, Label: label})
		body.Write(b)
		body.WriteByte('\n')
		x, _ := canonical(f, nil)
		sent = append(sent, ackedEvent{x: x, label: label})
	}
	resp, err := c.Post(base+"/v1/stream", "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		time.Sleep(time.Millisecond)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var res api.StreamResult
		if json.Unmarshal(sc.Bytes(), &res) != nil || res.Seq == 0 || res.Line < 1 || res.Line > len(sent) {
			continue
		}
		mu.Lock()
		acked[res.Seq] = sent[res.Line-1]
		mu.Unlock()
	}
}
