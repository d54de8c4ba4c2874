package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// The embedded defaults: the main config that [Default] returns and the
// default policy (identical to contrib/policies/default.toml).
//
//go:embed default.toml default-policy.toml
var embedded embed.FS

// DefaultPolicy is the embedded default policy file.
func DefaultPolicy() []byte {
	b, _ := embedded.ReadFile("default-policy.toml")
	return b
}

// DefaultMain is the embedded default main config file.
func DefaultMain() []byte {
	b, _ := embedded.ReadFile("default.toml")
	return b
}

// Load reads the main config at path and the policy files it lists
// (relative to its directory; a name with *, ? or [ is a pattern whose
// matches are loaded in name order), decodes them strictly, fills the defaults
// and validates everything. The error joins every problem found (each an
// [*Error] naming file:line), so a caller can report them all at once.
//
// builtin reports whether a name is a built-in detector identifier (the
// engine's catalogue, policy/detect.IsBuiltin): config knows no detector
// itself, and an unknown name is still an error with its file and line.
func Load(path string, builtin func(name string) bool) (*Config, error) {
	l := &loader{read: os.ReadFile, stat: os.Stat, join: filepath.Join, isAbs: filepath.IsAbs, dir: filepath.Dir, glob: filepath.Glob, builtin: builtin}
	c, err := l.load(path)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// Default returns the embedded default config: the milter and the
// reinjection hop on loopback, metrics on 127.0.0.1:9030, incidents on
// standard output, and the embedded default policy. builtin is as for [Load].
func Default(builtin func(name string) bool) (*Config, error) {
	return loadFS(embedded, "default.toml", builtin)
}

// loadFS loads a config from a file system (used for the embedded default).
func loadFS(fsys fs.FS, name string, builtin func(string) bool) (*Config, error) {
	l := &loader{
		builtin: builtin,
		read:    func(n string) ([]byte, error) { return fs.ReadFile(fsys, n) },
		join:    path.Join,
		isAbs:   path.IsAbs,
		dir:     path.Dir,
	}
	return l.load(name)
}

// LoadBytes decodes a main config given as bytes (name is used in errors
// and policy_files are resolved against dir). It is what Load does after
// reading the file; tests and fuzzing use it. builtin is as for [Load].
func LoadBytes(name string, data []byte, builtin func(name string) bool) (*Config, error) {
	l := &loader{
		builtin: builtin,
		read: func(n string) ([]byte, error) {
			if n == name {
				return data, nil
			}
			return os.ReadFile(n)
		},
		stat: os.Stat,
		join: filepath.Join, isAbs: filepath.IsAbs, dir: filepath.Dir, glob: filepath.Glob,
	}
	return l.load(name)
}

type loader struct {
	read  func(name string) ([]byte, error)
	stat  func(name string) (fs.FileInfo, error) // nil: files are not on disk (embedded)
	join  func(elem ...string) string
	isAbs func(string) bool
	dir   func(string) string
	glob  func(pattern string) ([]string, error) // sorted matches; nil: no patterns
	// builtin reports whether a name is a built-in detector (nil: none is)
	builtin func(name string) bool

	sources []*source
	// where each policy and detector was defined, in order
	policySrc   []located
	detectorSrc []located
}

type located struct {
	src  *source
	path keyPath
}

// policyFile is the shape of a policy file: policies and detectors only.
type policyFile struct {
	Policies  []Policy   `toml:"policy"`
	Detectors []Detector `toml:"detector"`
}

func (l *loader) load(name string) (*Config, error) {
	if l.builtin == nil {
		l.builtin = func(string) bool { return false }
	}
	var c Config
	src, ok, err := l.parse(name, &c)
	if err != nil {
		return nil, err // the main file cannot be read
	}
	if ok {
		l.locate(src, &c.Policies, &c.Detectors)
		for i, f := range c.PolicyFiles {
			p := keyPath{}.with("policy_files").index(i)
			if strings.TrimSpace(f) == "" {
				src.errorf(p, "empty file name")
				continue
			}
			full := f
			if !l.isAbs(f) {
				full = l.join(src.dir, f)
			}
			files := []string{full}
			if strings.ContainsAny(f, "*?[") {
				if l.glob == nil {
					src.errorf(p, "patterns are not supported here")
					continue
				}
				matches, err := l.glob(full)
				if err != nil {
					src.errorf(p, "bad pattern %q", f)
					continue
				}
				if len(matches) == 0 {
					src.errorf(p, "no policy file matches %q", f)
					continue
				}
				files = matches
			}
			for _, name := range files {
				var pf policyFile
				psrc, ok, err := l.parse(name, &pf)
				if err != nil {
					src.errorf(p, "read policy file: %v", unwrapPath(err))
					continue
				}
				if !ok {
					continue
				}
				l.locate(psrc, &pf.Policies, &pf.Detectors)
				c.Policies = append(c.Policies, pf.Policies...)
				c.Detectors = append(c.Detectors, pf.Detectors...)
			}
		}
	}
	c.applyDefaults()
	l.validate(&c, src)
	var errs []error
	for _, s := range l.sources {
		sort.SliceStable(s.errs, func(i, j int) bool { return s.errs[i].Line < s.errs[j].Line })
		for _, e := range s.errs {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// parse reads and decodes one file into v. ok is false when the file has a
// syntax error (recorded on its source); err is set when it cannot be read.
func (l *loader) parse(name string, v any) (*source, bool, error) {
	data, err := l.read(name)
	if err != nil {
		return nil, false, err
	}
	src := &source{name: name, dir: l.dir(name)}
	l.sources = append(l.sources, src)
	var m map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			src.errs = append(src.errs, &Error{File: name, Line: pe.Position.Line, Msg: "syntax error: " + pe.Message})
		} else {
			src.errs = append(src.errs, &Error{File: name, Msg: "syntax error: " + err.Error()})
		}
		return src, false, nil
	}
	src.idx = indexLines(string(data))
	src.decode(m, reflect.ValueOf(v).Elem(), nil)
	return src, true, nil
}

// locate records where each policy, detector and condition was written.
func (l *loader) locate(src *source, policies *[]Policy, detectors *[]Detector) {
	for i := range *policies {
		p := keyPath{}.with("policy").index(i)
		pol := &(*policies)[i]
		pol.Pos = src.pos(p)
		locateCondition(src, &pol.Rule, p.with("rule"))
		l.policySrc = append(l.policySrc, located{src, p})
	}
	for i := range *detectors {
		p := keyPath{}.with("detector").index(i)
		(*detectors)[i].Pos = src.pos(p)
		l.detectorSrc = append(l.detectorSrc, located{src, p})
	}
}

func locateCondition(src *source, c *Condition, p keyPath) {
	c.Pos = src.pos(p)
	for _, g := range []struct {
		key  string
		list []Condition
	}{{"all", c.All}, {"any", c.Any}, {"none", c.None}} {
		for i := range g.list {
			locateCondition(src, &g.list[i], p.with(g.key).index(i))
		}
	}
}

// pos is "file:line" of p.
func (s *source) pos(p keyPath) string {
	if l := s.idx.line(p); l > 0 {
		return fmt.Sprintf("%s:%d", s.name, l)
	}
	return s.name
}
