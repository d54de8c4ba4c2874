package edm

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/maildlp/maildlp/internal/fsutil"
)

// ColumnSpec is one column of the table to index, as given to the index
// tool: "name:class" or "name:class:primary".
type ColumnSpec struct {
	Name    string
	Class   Class
	Primary bool
}

// ParseColumns reads a comma-separated list of column specs.
func ParseColumns(s string) ([]ColumnSpec, error) {
	var out []ColumnSpec
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
			return nil, fmt.Errorf("column %q: want name:class or name:class:primary", f)
		}
		c, err := ParseClass(parts[1])
		if err != nil {
			return nil, fmt.Errorf("column %q: %v", parts[0], err)
		}
		spec := ColumnSpec{Name: parts[0], Class: c}
		if len(parts) == 3 {
			switch parts[2] {
			case "primary":
				spec.Primary = true
			case "supporting":
			default:
				return nil, fmt.Errorf("column %q: role %q (want primary or supporting)", parts[0], parts[2])
			}
		}
		if spec.Primary && !c.anchorable() {
			return nil, fmt.Errorf("column %q: a %s column cannot be primary (want digits, alnum, email or phone)", parts[0], c)
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("column %q listed twice", spec.Name)
		}
		seen[spec.Name] = true
		out = append(out, spec)
	}
	if len(out) > maxColumns {
		return nil, fmt.Errorf("%d columns (at most %d)", len(out), maxColumns)
	}
	if !slices.ContainsFunc(out, func(c ColumnSpec) bool { return c.Primary }) {
		return nil, errors.New("no primary column (mark one name:class:primary)")
	}
	return out, nil
}

// BuildOptions say how to read the table.
type BuildOptions struct {
	Name      string
	Columns   []ColumnSpec
	Delimiter rune   // ',' (default), '\t', '|', ';'
	Header    bool   // the first record names the columns (and is skipped)
	DateOrder string // "mdy" (default) or "dmy" for ambiguous dates
	// MaxBadShare stops indexing when more than this share of the rows
	// (checked from 1000 rows on) has the wrong number of cells; default
	// 0.05.
	MaxBadShare float64
	// MaxRowsPerValue: an anchor value in more rows than this is weak and
	// anchors none (default 8).
	MaxRowsPerValue int
}

type cell struct {
	tag  uint64
	fkey uint64
	ref  uint32
}

// Build reads a table and returns the index bytes.
func Build(r io.Reader, key *Key, o BuildOptions) ([]byte, *Meta, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if o.DateOrder == "" {
		o.DateOrder = "mdy"
	}
	if o.MaxBadShare == 0 {
		o.MaxBadShare = 0.05
	}
	if o.MaxRowsPerValue == 0 {
		o.MaxRowsPerValue = 8
	}
	cr := csv.NewReader(r)
	cr.Comma = o.Delimiter
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	meta := &Meta{Name: o.Name}
	var nsup int
	for _, c := range o.Columns {
		meta.Columns = append(meta.Columns, Column{Name: c.Name, Class: c.Class.String(), Primary: c.Primary, class: c.Class, MinLen: maxValueLen})
		if !c.Primary {
			nsup++
		}
	}
	// The reader hands batches of rows to a worker per core, which
	// normalise and hash them: the table is never held whole, and reading
	// overlaps hashing.
	type batch struct {
		idx, first int
		rows       [][]string
	}
	workers := runtime.GOMAXPROCS(0)
	per := make([][]cell, workers)
	cols := make([][]Column, workers)
	var (
		mu       sync.Mutex
		supports [][]uint32 // per batch
	)
	ch := make(chan batch, 2*workers)
	var wg sync.WaitGroup
	for w := range workers {
		cols[w] = slices.Clone(meta.Columns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := key.newTagger()
			var buf []byte
			for b := range ch {
				sup := make([]uint32, len(b.rows)*nsup)
				for k, rec := range b.rows {
					ri := b.first + k
					s := 0
					for ci, spec := range o.Columns {
						var v string
						if spec.Class == Date {
							if ds := parseDates(extractNorm(rec[ci]), o.DateOrder); len(ds) > 0 {
								v = ds[0]
							}
						} else {
							v = Normalize(spec.Class, rec[ci])
						}
						col := &cols[w][ci]
						if v != "" {
							col.Values++
							if spec.Primary {
								col.MinLen, col.MaxLen = min(col.MinLen, len(v)), max(col.MaxLen, len(v))
							}
							if spec.Class == Alnum && !strings.ContainsAny(v, "0123456789") {
								col.Letters = true
							}
							if spec.Class == Name {
								col.MaxTokens = min(maxNameTokens, max(col.MaxTokens, strings.Count(v, " ")+1))
							}
						}
						if !spec.Primary {
							if v != "" {
								tg := key.supportTag(spec.Class, []byte(v), buf)
								if tg == 0 {
									tg = 1
								}
								sup[k*nsup+s] = tg
							}
							s++
							continue
						}
						if v == "" || len(v) > maxValueLen {
							continue
						}
						per[w] = append(per[w], cell{
							tag:  t.tag(spec.Class, []byte(v)),
							fkey: key.filterKey(spec.Class, []byte(v), buf),
							ref:  uint32(ri)<<colBits | uint32(ci),
						})
					}
				}
				mu.Lock()
				for len(supports) <= b.idx {
					supports = append(supports, nil)
				}
				supports[b.idx] = sup
				mu.Unlock()
			}
		}()
	}
	const batchRows = 4096
	nrows, bad, line := 0, 0, 0
	cur := batch{}
	err := func() error {
		defer func() {
			if len(cur.rows) > 0 {
				ch <- cur
			}
			close(ch)
			wg.Wait()
		}()
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			line++
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					return fmt.Errorf("edm: read table: %w", err)
				}
				bad++
				continue
			}
			if line == 1 && o.Header {
				continue
			}
			if len(rec) != len(o.Columns) {
				bad++
			} else {
				if nrows >= maxRows-1 {
					return fmt.Errorf("edm: more than %d rows", maxRows-1)
				}
				cur.rows = append(cur.rows, slices.Clone(rec))
				nrows++
				if len(cur.rows) == batchRows {
					ch <- cur
					cur = batch{idx: cur.idx + 1, first: nrows}
				}
			}
			if n := bad + nrows; n >= 1000 && float64(bad) > o.MaxBadShare*float64(n) {
				return fmt.Errorf("edm: %d of the first %d rows have not %d cells: wrong --delimiter or --columns?", bad, n, len(o.Columns))
			}
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	meta.Rows, meta.Skipped = nrows, bad
	support := make([]uint32, 0, nrows*nsup)
	for _, s := range supports {
		support = append(support, s...)
	}
	supports = nil
	for ci := range meta.Columns {
		c := &meta.Columns[ci]
		for w := range workers {
			wc := cols[w][ci]
			c.Values += wc.Values
			c.MinLen, c.MaxLen = min(c.MinLen, wc.MinLen), max(c.MaxLen, wc.MaxLen)
			c.MaxTokens = max(c.MaxTokens, wc.MaxTokens)
			c.Letters = c.Letters || wc.Letters
		}
		if c.MinLen > c.MaxLen {
			c.MinLen = 0
		}
	}
	var cells []cell
	for _, p := range per {
		cells = append(cells, p...)
	}
	per = nil
	slices.SortFunc(cells, func(a, b cell) int {
		switch {
		case a.tag < b.tag:
			return -1
		case a.tag > b.tag:
			return 1
		}
		return int(a.ref) - int(b.ref)
	})
	// Drop weak values (in too many rows to anchor one); collect the
	// distinct filter keys.
	tags := make([]uint64, 0, len(cells))
	refs := make([]uint32, 0, len(cells))
	var fkeys []uint64
	for i := 0; i < len(cells); {
		j := i + 1
		for j < len(cells) && cells[j].tag == cells[i].tag {
			j++
		}
		if j-i > o.MaxRowsPerValue {
			meta.Columns[cells[i].ref&(1<<colBits-1)].Weak++
		} else {
			for k := i; k < j; k++ {
				tags = append(tags, cells[k].tag)
				refs = append(refs, cells[k].ref)
			}
			fkeys = append(fkeys, cells[i].fkey)
		}
		i = j
	}
	cells = nil
	slices.Sort(fkeys)
	fkeys = slices.Compact(fkeys)
	f, err := buildXorFilter(fkeys)
	if err != nil {
		return nil, nil, err
	}
	b, err := encode(key, meta, f, tags, refs, support, nsup)
	return b, meta, err
}

// WriteIndex writes an index file atomically: a temporary file in the
// same directory, synced, renamed over the target, so that a reader
// (a reload) sees the old file or the new one, never a part.
func WriteIndex(path string, data []byte) error {
	if err := fsutil.WriteAtomic(path, data, 0o644, ".edm-*"); err != nil {
		return fmt.Errorf("edm: write index: %w", err)
	}
	return nil
}
