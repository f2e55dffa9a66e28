package console

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// lineSeries is one line of a line chart: its values at the chart's x
// positions (NaN where there is none) and its CSS class.
type lineSeries struct {
	Name  string
	Class string
	Y     []float64
}

// lineAxes says how a line chart labels and scales its axes.
type lineAxes struct {
	// YMin and YMax bound the y axis; YUnit names what it counts.
	YMin, YMax float64
	YUnit      string
	// YTicks are the y values labelled beside the axis, from niceTicks;
	// without them the axis is labelled at its bounds and middle.
	YTicks []float64
	// YLabel writes a y value; XLabel an x value.
	YLabel, XLabel func(float64) string
	// XTicks are the x values labelled under the axis; XUnit names what
	// the x axis counts.
	XTicks []float64
	XUnit  string
}

// lineChart draws series over the x values xs (ascending) as an SVG line
// chart with a y axis labelled at its ticks (or its bounds and middle),
// labelled x ticks and the units of both axes. Like barChart its labels stay readable when a phone
// shrinks it to fit.
func lineChart(id, title string, xs []float64, series []lineSeries, ax lineAxes) template.HTML {
	const w, h, left, right, top, bottom = 420, 150, 64, 12, 8, 40
	if len(xs) == 0 {
		return ""
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if ax.YMax <= ax.YMin {
		ax.YMax = ax.YMin + 1
	}
	px := func(x float64) float64 { return left + (x-x0)/(x1-x0)*float64(w-left-right) }
	py := func(y float64) float64 {
		return top + (ax.YMax-min(max(y, ax.YMin), ax.YMax))/(ax.YMax-ax.YMin)*float64(h-top)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart line-chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title"><title id="%s-title">%s</title>`,
		id, w, h+bottom, id, id, template.HTMLEscapeString(title))
	yTicks := ax.YTicks
	if len(yTicks) == 0 {
		yTicks = []float64{ax.YMin, (ax.YMin + ax.YMax) / 2, ax.YMax}
	}
	for _, v := range yTicks {
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, y, y, left-6, y+4, template.HTMLEscapeString(ax.YLabel(v)))
	}
	for i, x := range ax.XTicks {
		anchor := "middle"
		switch {
		case i == 0 && px(x) < left+40:
			anchor = "start"
		case i == len(ax.XTicks)-1 && px(x) > w-right-40:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/><text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`,
			px(x), px(x), h, h+4, px(x), h+17, anchor, template.HTMLEscapeString(ax.XLabel(x)))
	}
	fmt.Fprintf(&b, `<text class="axis unit" x="%d" y="%d">%s</text><text class="axis unit" x="%d" y="%d" text-anchor="end">%s</text>`,
		left, h+bottom-3, template.HTMLEscapeString(ax.YUnit), w-right, h+bottom-3, template.HTMLEscapeString(ax.XUnit))
	for _, s := range series {
		var pts []string
		flush := func() {
			if len(pts) == 1 {
				pts = append(pts, pts[0])
			}
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline class="line %s" points="%s"><title>%s</title></polyline>`, s.Class, strings.Join(pts, " "), template.HTMLEscapeString(s.Name))
			}
			pts = nil
		}
		for i, y := range s.Y {
			if i >= len(xs) || math.IsNaN(y) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[i]), py(y)))
		}
		flush()
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks returns the ticks of an axis over [lo, hi]: the multiples of
// one step, from the one at or below lo to the one at or above hi, at most
// most of them. The step is the smallest that fits of 1, 2 or 5 times a
// power of ten, so an axis reads 0, 50, 100 or -800, -600 … 200 rather
// than -750, -325, 100.
func niceTicks(lo, hi float64, most int) []float64 {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		hi = lo + 1
	}
	most = max(most, 2)
	// The step is at least the span over the gaps there may be; start
	// from the power of ten below that and go up through 1, 2, 5.
	pow := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(most-1))))
	for {
		for _, m := range []float64{1, 2, 5} {
			step := m * pow
			first, last := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
			if int(last-first)+1 > most {
				continue
			}
			ticks := make([]float64, 0, int(last-first)+1)
			for k := first; k <= last; k++ {
				// k×step, rounded to the step's decimals so 0.1 steps
				// do not drift to 0.30000000000000004.
				ticks = append(ticks, roundTo(k*step, step))
			}
			return ticks
		}
		pow *= 10
	}
}

// roundTo rounds v to the decimals of step (a power of ten times 1, 2 or
// 5).
func roundTo(v, step float64) float64 {
	if step >= 1 {
		return math.Round(v)
	}
	scale := math.Pow(10, math.Ceil(-math.Log10(step)))
	return math.Round(v*scale) / scale
}
