package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error is one problem in a config or policy file, with where it is.
// Load joins every Error it finds (errors.Join) so that all of them are
// reported at once.
type Error struct {
	File string // the file as given (config path, or relative policy file path)
	Line int    // 1-based; 0 when unknown
	Key  string // key path, e.g. policy[0].rule.all[1].detector
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	writePrintable(&b, e.Msg)
	return b.String()
}

// writePrintable writes s with control characters escaped, so that a
// message quoting the file (a TOML parser quotes what it could not read)
// stays one line: one problem, one line, each naming its file.
func writePrintable(b *strings.Builder, s string) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
}

// source is one decoded file with its line index; it collects errors.
type source struct {
	name string // as shown in errors
	dir  string // directory for relative paths inside it
	idx  lineIndex
	errs []*Error
}

func (s *source) errorf(p keyPath, format string, args ...any) {
	s.errs = append(s.errs, &Error{File: s.name, Line: s.idx.line(p), Key: p.String(), Msg: fmt.Sprintf(format, args...)})
}

// tomlDecoder is implemented by config types that accept more than one TOML
// shape (e.g. unscannable = true or a list of reasons).
type tomlDecoder interface {
	decodeTOML(v any) error
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	tomlDecoderType = reflect.TypeFor[tomlDecoder]()
)

// decode stores the generic TOML value v (as BurntSushi/toml produces it
// when decoding into a map) into rv, strictly: unknown keys and wrong types
// are recorded as errors and decoding goes on with the next key, so that
// every problem is reported at once.
func (s *source) decode(v any, rv reflect.Value, p keyPath) {
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		rv = rv.Elem()
	}
	if rv.CanAddr() {
		if rv.Addr().Type().Implements(tomlDecoderType) {
			if err := rv.Addr().Interface().(tomlDecoder).decodeTOML(v); err != nil {
				s.errorf(p, "%v", err)
			}
			return
		}
		if rv.Addr().Type().Implements(textUnmarshaler) {
			var text string
			switch x := v.(type) {
			case string:
				text = x
			case int64:
				text = strconv.FormatInt(x, 10)
			default:
				s.errorf(p, "want a string, got %s", describe(v))
				return
			}
			if err := rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
				s.errorf(p, "%v", err)
			}
			return
		}
	}
	switch rv.Kind() {
	case reflect.String:
		x, ok := v.(string)
		if !ok {
			s.errorf(p, "want a string, got %s", describe(v))
			return
		}
		rv.SetString(x)
	case reflect.Bool:
		x, ok := v.(bool)
		if !ok {
			s.errorf(p, "want true or false, got %s", describe(v))
			return
		}
		rv.SetBool(x)
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, ok := v.(int64)
		if !ok {
			s.errorf(p, "want an integer, got %s", describe(v))
			return
		}
		if rv.OverflowInt(x) {
			s.errorf(p, "integer %d out of range", x)
			return
		}
		rv.SetInt(x)
	case reflect.Float64:
		switch x := v.(type) {
		case float64:
			rv.SetFloat(x)
		case int64:
			rv.SetFloat(float64(x))
		default:
			s.errorf(p, "want a number, got %s", describe(v))
		}
	case reflect.Slice:
		av := reflect.ValueOf(v)
		if v == nil || av.Kind() != reflect.Slice {
			s.errorf(p, "want an array, got %s", describe(v))
			return
		}
		out := reflect.MakeSlice(rv.Type(), av.Len(), av.Len())
		for i := range av.Len() {
			s.decode(av.Index(i).Interface(), out.Index(i), p.index(i))
		}
		rv.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || rv.Type().Key().Kind() != reflect.String {
			s.errorf(p, "want a table, got %s", describe(v))
			return
		}
		out := reflect.MakeMapWithSize(rv.Type(), len(m))
		for k, x := range m {
			e := reflect.New(rv.Type().Elem()).Elem()
			s.decode(x, e, p.with(k))
			out.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), e)
		}
		rv.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			s.errorf(p, "want a table, got %s", describe(v))
			return
		}
		fields := structFields(rv.Type())
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			i, ok := fields[k]
			if !ok {
				s.errorf(p.with(k), "unknown key%s", suggest(k, fields))
				continue
			}
			s.decode(m[k], rv.Field(i), p.with(k))
		}
	default:
		s.errorf(p, "cannot decode into %s", rv.Type())
	}
}

// structFields maps the toml tag names of t's exported fields to their index.
func structFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

// suggest names the known key closest to an unknown one, if any is close.
func suggest(k string, fields map[string]int) string {
	best, bestD := "", 3
	for f := range fields {
		if d := editDistance(k, f); d < bestD || d == bestD && best != "" && f < best {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names the TOML type of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", truncate(x, 40))
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("float %g", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case map[string]any:
		return "a table"
	case time.Time:
		return "a datetime"
	case nil:
		return "nothing"
	}
	if reflect.ValueOf(v).Kind() == reflect.Slice {
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
