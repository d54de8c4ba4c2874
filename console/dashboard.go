package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// severities in chart order, bottom of a stacked bar first.
var severities = []string{"critical", "high", "medium", "low"}

// actionLabels name what the front end did in the words of the people
// who review it.
var actionLabels = map[string]string{
	"pass":       "delivered clear",
	"notify":     "delivered, notified",
	"modify":     "tagged (e.g. for encryption)",
	"redirect":   "redirected",
	"quarantine": "quarantined",
	"tempfail":   "deferred",
	"block":      "blocked",
}

// actionOrder lists the actions from the mildest.
var actionOrder = []string{"pass", "notify", "modify", "redirect", "quarantine", "tempfail", "block"}

// rect is one bar (or segment) of an SVG chart, laid out in Go so that
// the template only prints numbers.
type rect struct {
	X, Y, W, H float64
	Class      string
	Href       string
	Title      string // tooltip: label and count
}

type label struct {
	X, Y float64
	Text string
	Href string
}

// chart is one server-rendered SVG chart.
type chart struct {
	Title  string
	Width  float64
	Height float64
	Bars   []rect
	Labels []label
	Empty  bool
}

type dashboardData struct {
	F      *figures
	PerDay chart
	Charts []chart
	Legend []string
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, ss *session) {
	f, err := s.stats.get(r.Context())
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	d := dashboardData{F: f, PerDay: perDayChart(f), Legend: severities}
	d.Charts = []chart{
		hbars("Top policies", f.Policies, func(k string) string { return "/incidents?" + sinceQuery(f, "policy", k) }, nil),
		hbars("Top senders", f.Senders, func(k string) string { return "/incidents?" + sinceQuery(f, "sender", k) }, nil),
		hbars("Actions taken", f.Actions, func(k string) string { return "/incidents?" + sinceQuery(f, "action", k) },
			func(k string) string {
				if l, ok := actionLabels[k]; ok {
					return l
				}
				return k
			}),
		heldChart(f),
	}
	s.render(w, r, http.StatusOK, "dashboard", "Dashboard", ss, d)
}

func sinceQuery(f *figures, key, v string) string {
	return url.Values{key: {v}, "since": {f.Since.Format(time.DateOnly)}}.Encode()
}

func perDayChart(f *figures) chart {
	const w, h, top, bottom, left = 700.0, 220.0, 10.0, 30.0, 40.0
	c := chart{Title: "Incidents per day by severity", Width: w, Height: h}
	var peak int64
	for _, d := range f.PerDay {
		var t int64
		for _, n := range d {
			t += n
		}
		peak = max(peak, t)
	}
	c.Empty = peak == 0
	peak = max(peak, 1)
	slot := (w - left) / float64(len(f.PerDay))
	scale := (h - top - bottom) / float64(peak)
	c.Labels = append(c.Labels, label{X: 0, Y: top + 10, Text: strconv.FormatInt(peak, 10)}, label{X: 0, Y: h - bottom, Text: "0"})
	for i, d := range f.PerDay {
		day := f.Since.AddDate(0, 0, i)
		x := left + float64(i)*slot + slot*0.15
		y := h - bottom
		for _, sev := range severities {
			n := d[sev]
			if n == 0 {
				continue
			}
			bh := float64(n) * scale
			y -= bh
			c.Bars = append(c.Bars, rect{X: x, Y: y, W: slot * 0.7, H: bh, Class: "sev-" + sev,
				Title: day.Format("Jan 2") + ": " + strconv.FormatInt(n, 10) + " " + sev,
				Href: "/incidents?" + url.Values{"severity": {sev}, "since": {day.Format(time.DateOnly)},
					"until": {day.AddDate(0, 0, 1).Format(time.DateOnly)}}.Encode()})
		}
		if i%2 == 0 || len(f.PerDay) <= 7 {
			c.Labels = append(c.Labels, label{X: x, Y: h - bottom + 16, Text: day.Format("Jan 2"),
				Href: "/incidents?" + url.Values{"since": {day.Format(time.DateOnly)}, "until": {day.AddDate(0, 0, 1).Format(time.DateOnly)}}.Encode()})
		}
	}
	return c
}

// hbars is a horizontal bar chart of counts, each bar linking to href(key).
func hbars(title string, cs []count, href func(string) string, name func(string) string) chart {
	const w, row, labelW = 340.0, 24.0, 170.0
	c := chart{Title: title, Width: w, Height: row*float64(max(len(cs), 1)) + 4, Empty: len(cs) == 0}
	var peak int64 = 1
	for _, x := range cs {
		peak = max(peak, x.N)
	}
	for i, x := range cs {
		text := x.Key
		if name != nil {
			text = name(x.Key)
		}
		if text == "" {
			text = "(none)"
		}
		y := float64(i) * row
		bw := (w - labelW - 50) * float64(x.N) / float64(peak)
		c.Bars = append(c.Bars, rect{X: labelW, Y: y + 4, W: max(bw, 1), H: row - 8, Class: "bar", Href: href(x.Key),
			Title: text + ": " + strconv.FormatInt(x.N, 10)})
		c.Labels = append(c.Labels,
			label{X: 0, Y: y + row/2 + 4, Text: shorten(text, 26), Href: href(x.Key)},
			label{X: labelW + bw + 6, Y: y + row/2 + 4, Text: strconv.FormatInt(x.N, 10)})
	}
	return c
}

func heldChart(f *figures) chart {
	cs := make([]count, len(heldAges))
	for i, b := range heldAges {
		cs[i] = count{Key: b.Label, N: f.HeldAge[i]}
	}
	var total int64
	for _, n := range f.HeldAge {
		total += n
	}
	c := hbars("Held messages by age", cs, func(k string) string {
		for i, b := range heldAges {
			if b.Label == k {
				return "/quarantine?age=" + strconv.Itoa(i)
			}
		}
		return "/quarantine"
	}, nil)
	c.Empty = total == 0
	return c
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
