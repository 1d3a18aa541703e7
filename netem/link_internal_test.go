package netem

import (
	"math"
	"testing"
	"time"

	"gridlab/sim"
)

// lossStats runs n packets through a link state and returns the loss rate and mean burst length
// (consecutive losses).
func lossStats(seed uint64, p LinkParams, n int) (rate, burst float64) {
	ls := newLinkState(sim.New(seed), "test/", p)
	lost, bursts, run := 0, 0, 0
	for range n {
		if ls.lose() {
			lost++
			run++
			continue
		}
		if run > 0 {
			bursts++
			run = 0
		}
	}
	if run > 0 {
		bursts++
	}
	return float64(lost) / float64(n), float64(lost) / float64(max(bursts, 1))
}

// Each loss model's loss rate and mean burst length, over 400,000 packets and three fixed seeds,
// fall within bounds around the model's analytic values (about 5 standard errors of a Markov
// chain this long).
func TestLossModelStatistics(t *testing.T) {
	// 4-state chain with p13=0.01, p31=0.3, p32=0.2, p23=0.5, p14=0.005: its stationary
	// distribution, solved by power iteration below, gives the expected loss rate.
	fs := LossModel{Kind: LossFourState, P13: 0.01, P31: 0.3, P32: 0.2, P23: 0.5, P14: 0.005}
	pi := [5]float64{0, 1, 0, 0, 0}
	for range 10000 {
		var nx [5]float64
		nx[1] += pi[1] * (1 - fs.P13 - fs.P14)
		nx[3] += pi[1] * fs.P13
		nx[4] += pi[1] * fs.P14
		nx[2] += pi[2] * (1 - fs.P23)
		nx[3] += pi[2] * fs.P23
		nx[1] += pi[3] * fs.P31
		nx[2] += pi[3] * fs.P32
		nx[3] += pi[3] * (1 - fs.P31 - fs.P32)
		nx[1] += pi[4]
		pi = nx
	}
	for _, tc := range []struct {
		name      string
		p         LinkParams
		rate      float64 // expected loss rate
		burst     float64 // expected mean burst length (0: not checked)
		tolerance float64 // relative
	}{
		{"bernoulli 1%: bursts of 1/(1-p)", LinkParams{Loss: 0.01}, 0.01, 1 / 0.99, 0.05},
		{"bernoulli 5% with 25% correlation keeps its mean, lengthens bursts", LinkParams{Loss: 0.05, LossCorr: 0.25}, 0.05, 1 / (1 - (0.05 + 0.25*0.95)), 0.1},
		{"gilbert: rate p/(p+r), bursts 1/r", LinkParams{LossModel: LossModel{Kind: LossGilbertElliott, P: 0.01, R: 0.25, BadLoss: 1}}, 0.01 / 0.26, 4, 0.1},
		{"gilbert-elliott: bad 50%, good 0.1%", LinkParams{LossModel: LossModel{Kind: LossGilbertElliott, P: 0.02, R: 0.2, BadLoss: 0.5, GoodLoss: 0.001}},
			0.02/0.22*0.5 + 0.2/0.22*0.001, 0, 0.1},
		{"4-state: stationary loss", LinkParams{LossModel: fs}, pi[3] + pi[4], 0, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2, 3} {
				rate, burst := lossStats(seed, tc.p, 400_000)
				if math.Abs(rate-tc.rate) > tc.tolerance*tc.rate {
					t.Errorf("seed %d: loss rate %.5f, want %.5f ± %.0f%%", seed, rate, tc.rate, 100*tc.tolerance)
				}
				if tc.burst > 0 && math.Abs(burst-tc.burst) > tc.tolerance*tc.burst {
					t.Errorf("seed %d: mean burst %.3f, want %.3f ± %.0f%%", seed, burst, tc.burst, 100*tc.tolerance)
				}
			}
		})
	}
}

// Jitter distributions have the configured spread: uniform within ±J, the others a standard
// deviation of J (clamping at zero aside: the latency here is large enough).
func TestJitterDistributions(t *testing.T) {
	const J = 10 * time.Millisecond
	for _, d := range []Dist{DistUniform, DistNormal, DistPareto, DistParetoNormal} {
		for _, corr := range []float64{0, 0.5} {
			ls := newLinkState(sim.New(1), "test/", LinkParams{Latency: time.Second, Jitter: J, Dist: d, JitterCorr: corr})
			const n = 200_000
			var sum, sq float64
			for range n {
				x := float64(ls.delay()-time.Second) / float64(J)
				sum += x
				sq += x * x
			}
			mean := sum / n
			sd := math.Sqrt(sq/n - mean*mean)
			want := 1.0
			if d == DistUniform {
				want = 1 / math.Sqrt(3)
				if corr > 0 {
					// tc's correlated uniform narrows the spread: sd (1-c)/√(1-c²) of the uncorrelated one.
					want *= (1 - corr) / math.Sqrt(1-corr*corr)
				}
			}
			if math.Abs(mean) > 0.05 || math.Abs(sd-want) > 0.06*want {
				t.Errorf("%s corr %.1f: mean %.3f (want 0), sd %.3f (want %.3f)", d, corr, mean, sd, want)
			}
		}
	}
}
