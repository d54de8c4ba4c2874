package extract

import (
	"bytes"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlText returns the text of an HTML document: entities decoded, script,
// style and comments dropped. Block elements separate words with a line
// break (table cells with a tab); inline elements separate nothing, so a
// value split by <b> or <span> tags stays whole. Alt, title and href
// attribute values are added on lines of their own. Text hidden by CSS
// (display:none, visibility:hidden, font-size:0, the hidden attribute) is
// moved to the end, so that hidden filler cannot split a visible value and
// the hidden text is still scanned.
func htmlText(doc []byte) string {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var b, hidden strings.Builder
	b.Grow(len(doc) / 2)
	var hideAtom atom.Atom // element that hides its content
	hideNest := 0          // open hideAtom elements while hidden
	var lower []byte       // scratch for lower-cased raw tags
	skip := 0              // inside script/style
	var last byte          // last separator written, 0 after text
	sep := func(c byte) {
		if b.Len() == 0 || last == '\n' || last == c {
			return
		}
		b.WriteByte(c)
		last = c
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if hidden.Len() > 0 {
				sep('\n')
				b.WriteString(hidden.String())
			}
			return b.String()
		case html.TextToken:
			if skip == 0 {
				if t := z.Text(); len(t) > 0 {
					if hideNest > 0 {
						hidden.Write(t)
						continue
					}
					b.Write(t)
					last = 0
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			raw := z.Raw()
			a := tagAtom(raw)
			switch {
			case tt == html.EndTagToken:
				if hideNest > 0 && a == hideAtom {
					hideNest--
					if hideNest == 0 {
						hidden.WriteByte('\n')
					}
				}
			case tt == html.StartTagToken && hideNest > 0:
				if a == hideAtom {
					hideNest++
				}
			case tt == html.StartTagToken && !isVoid(a):
				lower = appendLower(lower[:0], raw)
				if hidesContent(lower) {
					hideAtom, hideNest = a, 1
				}
			}
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				if a == atom.Noscript {
					break // its text is shown when scripts are off: keep it
				}
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if c := blockSeparator(a); c != 0 {
				sep(c)
			}
			// Tokenizer.TagName and TagAttr allocate on every call: read
			// attributes only of elements that carry text in them.
			hasAttr := tt != html.EndTagToken && attrCarrier(a)
			if hasAttr {
				_, hasAttr = z.TagName()
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "alt", "title", "href", "value", "placeholder", "content":
					if len(bytes.TrimSpace(v)) > 0 {
						sep('\n')
						b.Write(v)
						last = 0
						sep('\n')
					}
				}
			}
		}
	}
}

// blockSeparator returns the separator a tag puts around its text, or 0 for
// inline elements.
func blockSeparator(a atom.Atom) byte {
	switch a {
	case atom.Td, atom.Th:
		return '\t'
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br,
		atom.Body, atom.Caption, atom.Center, atom.Dd, atom.Details, atom.Dialog,
		atom.Div, atom.Dl, atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5,
		atom.H6, atom.Head, atom.Header, atom.Hr, atom.Html, atom.Legend,
		atom.Li, atom.Main, atom.Nav, atom.Ol, atom.Option, atom.P, atom.Pre,
		atom.Section, atom.Summary, atom.Table, atom.Tbody, atom.Tfoot,
		atom.Thead, atom.Title, atom.Tr, atom.Ul, atom.Textarea, atom.Select,
		atom.Input, atom.Button, atom.Img, atom.Iframe, atom.Object, atom.Video:
		return '\n'
	}
	return 0
}

// tagAtom returns the atom of the tag in raw ("<Name ...>" or "</name>"),
// or 0 for unknown and over-long names, without allocating.
func tagAtom(raw []byte) atom.Atom {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	var buf [16]byte
	n := 0
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			break
		}
		if n == len(buf) {
			return 0
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return atom.Lookup(buf[:n])
}

// attrCarrier reports elements whose alt, title, href or value attributes
// are read as text.
func attrCarrier(a atom.Atom) bool {
	switch a {
	case atom.Img, atom.A, atom.Area, atom.Input, atom.Abbr, atom.Acronym,
		atom.Button, atom.Option, atom.Meta, atom.Textarea:
		return true
	}
	return false
}

var hiddenStyleRE = regexp.MustCompile(`display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0+(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:[;"'!]|$)|\shidden(?:[\s>/=]|$)`)

// hidesContent reports whether a lower-cased start tag hides its content.
func hidesContent(tag []byte) bool {
	if !bytes.Contains(tag, []byte("none")) && !bytes.Contains(tag, []byte("hidden")) && !bytes.Contains(tag, []byte("font-size")) {
		return false
	}
	return hiddenStyleRE.Match(tag)
}

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isVoid reports elements that have no content (and no end tag).
func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img,
		atom.Input, atom.Link, atom.Meta, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}
