package config

import "math"

// Defaults of the dataset detector keys (docs/edm.md).
const (
	DefaultMinColumns   = 2
	DefaultEDMProximity = 300
	maxEDMProximity     = 100000
	maxEDMColumns       = 32
)

// validateDataset checks the keys of an edm or idm detector: the paths
// exist and the key file is private. The index itself (its columns, its
// key id) is checked when the engine opens it, with the detector's
// position in the error.
func (l *loader) validateDataset(d *Detector, at located) {
	s, p := at.src, at.path
	dataset := d.Type == DetectorEDM || d.Type == DetectorIDM
	for _, k := range []struct {
		key string
		set bool
		typ DetectorType
	}{
		{"primary", d.Primary != nil, DetectorEDM},
		{"columns", d.Columns != nil, DetectorEDM},
		{"min_columns", d.MinColumns != 0, DetectorEDM},
		{"proximity", d.Proximity != 0, DetectorEDM},
		{"exact", d.Exact != nil, DetectorIDM},
		{"min_containment", d.MinContainment != 0, DetectorIDM},
		{"min_passage", d.MinPassage != 0, DetectorIDM},
	} {
		if k.set && d.Type != k.typ {
			s.errorf(p.with(k.key), "only for type = %q", k.typ)
		}
	}
	if !dataset {
		for _, k := range []struct {
			key string
			set bool
		}{{"index", d.Index != ""}, {"key_file", d.KeyFile != ""}} {
			if k.set {
				s.errorf(p.with(k.key), "only for type = \"edm\" or \"idm\"")
			}
		}
		return
	}
	if d.Index == "" {
		s.errorf(p, "missing index (the file written by maildlp %s index)", d.Type)
	} else {
		d.Index = l.resolve(s, d.Index)
		if _, err := l.read(d.Index); err != nil {
			s.errorf(p.with("index"), "read index: %v", unwrapPath(err))
		}
	}
	if d.KeyFile == "" {
		s.errorf(p, "missing key_file (the file written by maildlp %s keygen)", d.Type)
	} else {
		d.KeyFile = l.resolve(s, d.KeyFile)
		if _, err := l.read(d.KeyFile); err != nil {
			s.errorf(p.with("key_file"), "read key file: %v", unwrapPath(err))
		} else if l.stat != nil {
			if fi, err := l.stat(d.KeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
				s.errorf(p.with("key_file"), "key file %s is readable by others (mode %04o; want 0600)", d.KeyFile, fi.Mode().Perm())
			}
		}
	}
	if d.Type == DetectorEDM {
		if d.MinColumns == 0 {
			d.MinColumns = DefaultMinColumns
		}
		if d.MinColumns < 1 || d.MinColumns > maxEDMColumns {
			s.errorf(p.with("min_columns"), "%d out of range (want 1 to %d)", d.MinColumns, maxEDMColumns)
		}
		if d.Proximity == 0 {
			d.Proximity = DefaultEDMProximity
		}
		if d.Proximity < 1 || d.Proximity > maxEDMProximity {
			s.errorf(p.with("proximity"), "%d out of range (want 1 to %d characters)", d.Proximity, maxEDMProximity)
		}
		for _, list := range []struct {
			key string
			l   []string
		}{{"primary", d.Primary}, {"columns", d.Columns}} {
			if list.l != nil && len(list.l) == 0 {
				s.errorf(p.with(list.key), "empty list (leave the key out for the default)")
			}
			seen := map[string]bool{}
			for i, c := range list.l {
				switch {
				case !detectorName.MatchString(c):
					s.errorf(p.with(list.key).index(i), "invalid column name %q", c)
				case seen[c]:
					s.errorf(p.with(list.key).index(i), "column %q listed twice", c)
				}
				seen[c] = true
			}
		}
		if d.Columns != nil && d.MinColumns > len(d.Columns) {
			s.errorf(p.with("min_columns"), "%d, more than the %d columns listed", d.MinColumns, len(d.Columns))
		}
	}
	if d.Type == DetectorIDM {
		if c := d.MinContainment; c < 0 || c > 1 || math.IsNaN(c) {
			s.errorf(p.with("min_containment"), "%v out of range (want 0 to 1)", c)
		}
		if d.MinPassage < 0 {
			s.errorf(p.with("min_passage"), "must not be negative")
		}
		if d.Exact != nil && !*d.Exact && d.MinContainment == 0 && d.MinPassage == 0 {
			s.errorf(p, "nothing to match (want exact, min_containment or min_passage)")
		}
	}
}

// resolve makes a path relative to the file s absolute.
func (l *loader) resolve(s *source, name string) string {
	if l.isAbs(name) {
		return name
	}
	return l.join(s.dir, name)
}

// IsExact reports whether an idm detector matches whole documents by their
// hashes.
func (d *Detector) IsExact() bool { return d.Exact == nil || *d.Exact }
