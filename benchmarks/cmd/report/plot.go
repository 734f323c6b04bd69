package main

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/chanpool/chanpool/benchmarks"
)

// plotBench draws ns/op against clients, one line per contender, in a grid
// with one tile per pool size (rows) and GOMAXPROCS (columns), and writes it
// as a PNG. Both axes are logarithmic.
func plotBench(r *results, bench string, sizes, clients, procs []int, path string) error {
	plots := make([][]*plot.Plot, len(sizes))
	for j, size := range sizes {
		plots[j] = make([]*plot.Plot, len(procs))
		for i, p := range procs {
			pl := plot.New()
			pl.Title.Text = fmt.Sprintf("%s, size=%d, -cpu %d", bench, size, p)
			pl.X.Label.Text = "clients"
			pl.Y.Label.Text = "ns per acquire+release"
			pl.X.Scale, pl.Y.Scale = plot.LogScale{}, plot.LogScale{}
			pl.X.Tick.Marker, pl.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
			pl.Legend.Top = true
			pl.Legend.Left = true
			var lines []any
			for _, name := range benchmarks.Names {
				var pts plotter.XYs
				for _, n := range clients {
					if ns, ok := r.ns(cell{bench, name, size, n, p}); ok {
						pts = append(pts, plotter.XY{X: float64(n), Y: ns})
					}
				}
				if len(pts) > 0 {
					lines = append(lines, name, pts)
				}
			}
			if err := plotutil.AddLinePoints(pl, lines...); err != nil {
				return err
			}
			pl.Y.Max *= 8 // headroom on the log axis, so the legend covers no line
			plots[j][i] = pl
		}
	}

	img := vgimg.New(vg.Length(len(procs))*6*vg.Inch, vg.Length(len(sizes))*4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{
		Rows: len(sizes), Cols: len(procs),
		PadX: vg.Inch / 3, PadY: vg.Inch / 3,
		PadTop: vg.Inch / 6, PadBottom: vg.Inch / 6, PadLeft: vg.Inch / 6, PadRight: vg.Inch / 6,
	}
	canvases := plot.Align(plots, tiles, dc)
	for j := range plots {
		for i := range plots[j] {
			plots[j][i].Draw(canvases[j][i])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
