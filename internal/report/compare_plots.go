package report

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// comparePlot draws metric against axis (lines: Comparison.Lines(axis)):
// each line's runs as points and its least-squares line, named in the
// legend with its equation.
func comparePlot(file, axis string, lines []Series, m Metric) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s against %s", m.Name, axis)
	p.X.Label.Text = axis
	if axis == FieldMBPerVisit {
		p.X.Label.Text = "MB per visit (measured)"
	}
	p.Y.Label.Text = m.Name + " (" + m.Unit + ")"
	p.Legend.Top = true
	p.Legend.Left = true
	for i, s := range lines {
		var pts plotter.XYs
		for j, y := range s.Points[m.Name] {
			if !math.IsNaN(y) {
				pts = append(pts, plotter.XY{X: s.X[j], Y: y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		p.Add(sc)
		name := s.Name
		if f, ok := s.FitOf(m.Name); ok {
			x0, x1 := pts[0].X, pts[len(pts)-1].X
			line, err := plotter.NewLine(plotter.XYs{{X: x0, Y: f.Intercept + f.Slope*x0}, {X: x1, Y: f.Intercept + f.Slope*x1}})
			if err != nil {
				return err
			}
			line.Color = plotutil.Color(i)
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			p.Add(line)
			name += fmt.Sprintf(": y = %.3g + %.3g x (R² %.2f)", f.Intercept, f.Slope, f.R2)
		}
		p.Legend.Add(name, sc)
	}
	return savePlot(p, 8*vg.Inch, 5*vg.Inch, file)
}

// fellBehindPlot draws the slowest group's transit time per visit of each
// run that fell behind.
func fellBehindPlot(file string, cm *Comparison, runs []*Compared) error {
	p := plot.New()
	p.Title.Text = "Transit time per visit of the runs that fell behind"
	p.X.Label.Text = "visit"
	p.Y.Label.Text = "s"
	p.Legend.Top = true
	p.Legend.Left = true
	for i, c := range runs {
		var pts plotter.XYs
		for _, r := range c.Run.Rows {
			if lbl := label(c.Run.Groups, r.Group); lbl == c.TransitGroup && r.TransitTime > 0 {
				pts = append(pts, plotter.XY{X: float64(r.Visit), Y: r.TransitTime.Seconds()})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = draw.CircleGlyph{}
		p.Add(l, s)
		p.Legend.Add(cm.label(c)+" ("+c.Run.Meta.RunID+")", l, s)
	}
	return savePlot(p, 8*vg.Inch, 5*vg.Inch, file)
}
