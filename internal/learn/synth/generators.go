package synth

import (
	"math"

	"github.com/olops/olops/internal/learn/pyrand"
)

// sea is River's SEA (random.Random): three uniform features on [0, 10),
// positive when x0 + x1 exceeds the variant's threshold; noise flips.
type sea struct {
	rng       *pyrand.Python
	threshold float64
	noise     float64
}

func newSEA(seed int64, variant int, noise float64) *sea {
	return &sea{rng: pyrand.NewPython(seed), threshold: [4]float64{8, 9, 7, 9.5}[variant], noise: noise}
}

func (g *sea) next(x []float64) int {
	for i := range 3 {
		x[i] = g.rng.Uniform(0, 10)
	}
	y := x[0]+x[1] > g.threshold
	if g.noise > 0 && g.rng.Random() < g.noise {
		y = !y
	}
	return b2i(y)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stagger is River's STAGGER (NumPy): size, color and shape in 0..2.
type stagger struct {
	rng      *pyrand.NumPy
	fn       int
	balance  bool
	wantZero bool
}

func newSTAGGER(seed int64, fn int, balance bool) *stagger {
	return &stagger{rng: pyrand.NewNumPy(seed), fn: fn, balance: balance}
}

func (g *stagger) next(x []float64) int {
	for {
		size, color, shape := g.rng.Randint(3), g.rng.Randint(3), g.rng.Randint(3)
		var y int
		switch g.fn {
		case 0:
			y = b2i(size == 0 && color == 0)
		case 1:
			y = b2i(color == 2 || shape == 0)
		default:
			y = b2i(size == 1 || size == 2)
		}
		if g.balance {
			if (g.wantZero && y != 0) || (!g.wantZero && y != 1) {
				continue
			}
			g.wantZero = !g.wantZero
		}
		x[0], x[1], x[2] = float64(size), float64(color), float64(shape)
		return y
	}
}

var agrawalNames = []string{"salary", "commission", "age", "elevel", "car", "zipcode", "hvalue", "hyears", "loan"}

// agrawal is River's Agrawal (NumPy) with its ten loan functions.
type agrawal struct {
	rng          *pyrand.NumPy
	fn           int
	balance      bool
	wantZero     bool
	perturbation float64
}

func newAgrawal(seed int64, fn int, balance bool, perturbation float64) *agrawal {
	return &agrawal{rng: pyrand.NewNumPy(seed), fn: fn, balance: balance, perturbation: perturbation}
}

func (g *agrawal) next(x []float64) int {
	var salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan float64
	var y int
	for {
		salary = 20000 + 130000*g.rng.Rand()
		commission = 0
		if salary < 75000 {
			commission = 10000 + 75000*g.rng.Rand()
		}
		age = float64(20 + g.rng.Randint(61))
		elevel = float64(g.rng.Randint(5))
		car = float64(g.rng.Randint(20))
		zipcode = float64(g.rng.Randint(9))
		hvalue = (9 - zipcode) * 100000 * (0.5 + g.rng.Rand())
		hyears = float64(1 + g.rng.Randint(30))
		loan = g.rng.Rand() * 500000
		y = agrawalClass(g.fn, salary, commission, age, elevel, hvalue, hyears, loan)
		if !g.balance {
			break
		}
		if (g.wantZero && y == 0) || (!g.wantZero && y == 1) {
			g.wantZero = !g.wantZero
			break
		}
	}
	if g.perturbation > 0 {
		salary = g.perturb(salary, 20000, 150000, 0)
		if commission > 0 {
			commission = g.perturb(commission, 10000, 75000, 0)
		}
		age = math.RoundToEven(g.perturb(age, 20, 80, 0))
		// River passes (min=(9-zipcode)*100000, max=0, range=135000) here,
		// so a perturbed house value ends up at its minimum or at 0; kept
		// for parity.
		hvalue = g.perturb(hvalue, (9-zipcode)*100000, 0, 135000)
		hyears = math.RoundToEven(g.perturb(hyears, 1, 30, 0))
		loan = g.perturb(loan, 0, 500000, 0)
	}
	x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8] = salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan
	return y
}

func (g *agrawal) perturb(v, lo, hi, rng float64) float64 {
	if rng == 0 {
		rng = hi - lo
	}
	v += rng * (2 * (g.rng.Rand() - 0.5)) * g.perturbation
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func in(lo, v, hi float64) int { return b2i(lo <= v && v <= hi) }

func agrawalClass(fn int, salary, commission, age, elevel, hvalue, hyears, loan float64) int {
	switch fn {
	case 0:
		return b2i(age < 40 || 60 <= age)
	case 1:
		switch {
		case age < 40:
			return in(50000, salary, 100000)
		case age < 60:
			return in(75000, salary, 125000)
		default:
			return in(25000, salary, 75000)
		}
	case 2:
		switch {
		case age < 40:
			return b2i(elevel == 0 || elevel == 1)
		case age < 60:
			return b2i(elevel == 1 || elevel == 2 || elevel == 3)
		default:
			return b2i(elevel == 2 || elevel == 3 || elevel == 4)
		}
	case 3:
		switch {
		case age < 40:
			if elevel == 0 || elevel == 1 {
				return in(25000, salary, 75000)
			}
			return in(50000, salary, 100000)
		case age < 60:
			if elevel == 1 || elevel == 2 || elevel == 3 {
				return in(50000, salary, 100000)
			}
			return in(75000, salary, 125000)
		default:
			if elevel == 2 || elevel == 3 || elevel == 4 {
				return in(50000, salary, 100000)
			}
			return in(25000, salary, 75000)
		}
	case 4:
		// As River writes it, including its mixed salary/loan tests.
		switch {
		case age < 40:
			if in(50000, salary, 100000) == 1 {
				return in(100000, loan, 300000)
			}
			return in(200000, salary, 400000)
		case age < 60:
			if in(75000, salary, 125000) == 1 {
				return b2i(200000 <= salary && loan <= 400000)
			}
			return in(300000, salary, 500000)
		default:
			if in(25000, salary, 75000) == 1 {
				return in(300000, loan, 500000)
			}
			return in(75000, loan, 300000)
		}
	case 5:
		total := salary + commission
		switch {
		case age < 40:
			return in(50000, total, 100000)
		case age < 60:
			return in(75000, total, 125000)
		default:
			return in(25000, total, 75000)
		}
	case 6:
		return b2i(!(2*(salary+commission)/3-loan/5-20000 > 1))
	case 7:
		return b2i(!(2*(salary+commission)/3-5000*elevel-20000 > 1))
	case 8:
		return b2i(!(2*(salary+commission)/3-5000*elevel-loan/5-10000 > 1))
	default:
		equity := 0.0
		if hyears >= 20 {
			equity = hvalue * (hyears - 20) / 10
		}
		return b2i(!(2*(salary+commission)/3-5000*elevel+equity/5-10000 > 1))
	}
}

// hyperplane is River's rotating Hyperplane (random.Random).
type hyperplane struct {
	rng                     *pyrand.Python
	weights                 []float64
	direction               []float64
	nDrift                  int
	magChange, noise, sigma float64
}

func newHyperplane(seed int64, nf, nDrift int, magChange, noise, sigma float64) *hyperplane {
	g := &hyperplane{rng: pyrand.NewPython(seed), nDrift: nDrift, magChange: magChange, noise: noise, sigma: sigma}
	g.weights = make([]float64, nf)
	for i := range g.weights {
		g.weights[i] = g.rng.Random()
	}
	g.direction = make([]float64, nf)
	for i := 0; i < nDrift; i++ {
		g.direction[i] = 1
	}
	return g
}

func (g *hyperplane) next(x []float64) int {
	var sumW, sum float64
	for _, w := range g.weights {
		sumW += w
	}
	for i := range g.weights {
		x[i] = g.rng.Random()
		sum += g.weights[i] * x[i]
	}
	y := b2i(sum >= sumW*0.5)
	if 0.01+g.rng.Random() <= g.noise {
		y = 1 - y
	}
	for i := 0; i < g.nDrift; i++ {
		g.weights[i] += g.direction[i] * g.magChange
		if 0.01+g.rng.Random() <= g.sigma {
			g.direction[i] = -g.direction[i]
		}
	}
	return y
}

// rbf is River's RandomRBF (NumPy): weighted random centroids, samples
// offset from the chosen one by a Gaussian length in a random direction.
type rbf struct {
	rng     *pyrand.NumPy
	centres [][]float64
	labels  []int
	stdDevs []float64
	weights []float64
	sumW    float64
	offsets []float64
}

func newRBF(seedModel, seedSample int64, nClasses, nf, nCentroids int) *rbf {
	m := pyrand.NewNumPy(seedModel)
	g := &rbf{rng: pyrand.NewNumPy(seedSample), offsets: make([]float64, nf)}
	for i := 0; i < nCentroids; i++ {
		c := make([]float64, nf)
		for j := range c {
			c[j] = m.Rand()
		}
		g.centres = append(g.centres, c)
		g.labels = append(g.labels, m.Randint(nClasses))
		g.stdDevs = append(g.stdDevs, m.Rand())
		g.weights = append(g.weights, m.Rand())
	}
	g.sumW = pairwiseSum(g.weights)
	return g
}

func (g *rbf) next(x []float64) int {
	val := g.rng.Rand() * g.sumW
	idx, acc := 0, 0.0
	for acc <= val && idx < len(g.weights) {
		acc += g.weights[idx]
		idx++
	}
	idx--
	var mag float64
	for i := range g.offsets {
		g.offsets[i] = g.rng.Rand()*2 - 1
		mag += g.offsets[i] * g.offsets[i]
	}
	mag = math.Sqrt(mag)
	scale := g.rng.Normal() * g.stdDevs[idx] / mag
	for i, c := range g.centres[idx] {
		x[i] = c + g.offsets[i]*scale
	}
	return g.labels[idx]
}

// pairwiseSum is numpy.sum over float64s (its pairwise summation with
// eight accumulators), so the total matches River's to the last bit.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		h := n / 2
		h -= h % 8
		return pairwiseSum(a[:h]) + pairwiseSum(a[h:])
	}
}
