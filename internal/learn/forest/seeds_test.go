package forest

import (
	"github.com/olops/olops/internal/learn"
	"testing"
)

func TestSeedSpread(t *testing.T) {
	for _, c := range []struct {
		file, target, pos string
		task              learn.Task
	}{
		{"image_segments.csv.gz", "category", "", learn.Multiclass},
		{"bananas.csv", "label", "1", learn.Binary},
		{"phishing.csv.gz", "is_phishing", "1", learn.Binary},
	} {
		d := loadCSV(t, c.file, c.target)
		var accs []float64
		sum := 0.0
		for s := 0; s < 10; s++ {
			m := 0
			if c.task == learn.Binary {
				m = 2
			}
			f, _ := NewARFClassifier(map[string]any{"seed": s}, m)
			set, _ := classify(t, f, d, c.task, c.pos)
			a := set.Overall()["accuracy"]
			accs = append(accs, a)
			sum += a
		}
		t.Logf("%s mean %.4f %v", c.file, sum/10, accs)
	}
}
