package extract

import (
	"bytes"
	"regexp"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A table row is one line, as it reads in a browser, its cells joined by
// one tab each, empty cells included: a value spread over adjacent cells
// ("<td>4111</td><td>1111</td>...") reads as digit groups joined by one
// separator, and the header row lines up with the columns it names, as
// in a spreadsheet's text.

// htmlText returns the text of an HTML document in three sections, each
// separated from the next by a blank line so that a value cannot run from
// one into the other:
//
//   - the text a browser shows: entities decoded, white space collapsed as
//     a browser collapses it (kept in <pre> and <textarea>), block elements
//     on lines of their own, the cells of a table row on one line. Inline
//     elements and comments separate nothing, so a value split by <b>,
//     <span> or <!-- --> stays whole, as it is rendered;
//   - text hidden by CSS (display:none, visibility:hidden, font-size:0, the
//     hidden attribute), moved here so that hidden filler cannot split a
//     visible value, one hidden element a line;
//   - the text of the markup, one item a line: comments, the contents of
//     <script>, <style> and <template>, the doctype, and every attribute
//     value (data-*, alt, title, href, style and all others).
//
// All of it is sender text: nothing is dropped. m counts the work; at the
// deadline the text read so far is returned and the caller records the
// timeout.
func htmlText(m *meter, doc []byte) string {
	return htmlTextURIs(m, doc, nil)
}

// htmlTextURIs is htmlText that also appends to uris, when it is not nil,
// a copy of every attribute value that is a data: URI, for the caller to
// read as nested content.
func htmlTextURIs(m *meter, doc []byte, uris *[][]byte) string {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var vis, hidden, markup textWriter
	vis.b = make([]byte, 0, len(doc)/2)
	var hideAtom atom.Atom // element that hides its content
	hideNest := 0          // open hideAtom elements while hidden
	var lower []byte       // scratch for lower-cased raw tags
	raw := 0               // inside script or style: raw text
	tmpl := 0              // inside template: never rendered
	pre := 0               // inside pre, textarea, listing: white space kept
	for {
		tt := z.Next()
		if !m.step(len(z.Raw()) + 1) {
			break
		}
		switch tt {
		case html.ErrorToken:
			return joinSections(vis.b, hidden.b, markup.b)
		case html.TextToken:
			t := z.Text()
			switch {
			case raw > 0 || tmpl > 0:
				markup.item(t)
			case hideNest > 0:
				hidden.text(t, pre > 0)
			default:
				vis.text(t, pre > 0)
			}
		case html.CommentToken, html.DoctypeToken:
			// Not rendered, and not a separator either: the comment in
			// "4111<!-- x -->1111" is cut out of the number.
			markup.item(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			rawTag := z.Raw()
			a := tagAtom(rawTag)
			wasHidden := hideNest > 0
			switch {
			case tt == html.EndTagToken:
				if hideNest > 0 && a == hideAtom {
					hideNest--
					if hideNest == 0 {
						hidden.sep('\n')
					}
				}
			case tt == html.StartTagToken && hideNest > 0:
				if a == hideAtom {
					hideNest++
				}
			case tt == html.StartTagToken && !isVoid(a):
				lower = appendLower(lower[:0], rawTag)
				if hidesContent(lower) {
					hideAtom, hideNest = a, 1
				}
			}
			if tt != html.SelfClosingTagToken {
				d := 1
				if tt == html.EndTagToken {
					d = -1
				}
				switch a {
				case atom.Script, atom.Style:
					raw = max(raw+d, 0)
				case atom.Template:
					tmpl = max(tmpl+d, 0)
				case atom.Pre, atom.Textarea, atom.Listing, atom.Plaintext:
					pre = max(pre+d, 0)
				}
			}
			// The tags of a hidden element, its end tag included, lay out
			// hidden text only: display:none makes no line break.
			w := &vis
			if hideNest > 0 || wasHidden && tt == html.EndTagToken {
				w = &hidden
			}
			c := blockSeparator(a)
			if a == 0 && svgBlock(rawTag) {
				c = '\n'
			}
			switch {
			case (a == atom.Td || a == atom.Th) && tt != html.EndTagToken:
				w.cell()
			case c != 0:
				w.sep(c)
			}
			if a == atom.Li && tt == html.StartTagToken {
				// A browser draws a marker before each item: the item's
				// lines read as text after it, not as a column of
				// numbers ("• 4111 1111<br>1111 1111" is one value
				// wrapped by a line break).
				w.write([]byte("• "))
			}
			htmlAttrs(z, tt, rawTag, &markup, uris)
		}
	}
	return joinSections(vis.b, hidden.b, markup.b)
}

// htmlAttrs adds the attribute values of the current tag to w, one a
// line. Tokenizer.TagName and TagAttr copy what they return: they are
// called only for tags that have a value to read.
func htmlAttrs(z *html.Tokenizer, tt html.TokenType, rawTag []byte, w *textWriter, uris *[][]byte) {
	if bytes.IndexByte(rawTag, '=') < 0 {
		return
	}
	if tt == html.EndTagToken {
		// Browsers ignore attributes of end tags and the tokenizer does
		// not return them: keep the tag as written.
		w.item(rawTag)
		return
	}
	_, more := z.TagName()
	for more {
		var v []byte
		_, v, more = z.TagAttr()
		w.item(v)
		if uris != nil && isDataURI(v) {
			*uris = append(*uris, bytes.Clone(v))
		}
	}
}

// textWriter builds one section of text. Separators are owed, not
// written, until more text follows, so that a run of block tags or white
// space becomes one separator and none ends the section.
type textWriter struct {
	b       []byte
	pending byte // separator owed before the next text: 0, ' ', '\t' or '\n'
	cells   int  // cells begun on the current line
}

// sepRank orders separators: a line break wins over a tab (a cell), a tab
// over a space.
func sepRank(c byte) int {
	switch c {
	case '\n':
		return 3
	case '\t':
		return 2
	case ' ':
		return 1
	}
	return 0
}

// sep owes a separator. White space next to a cell boundary or a line
// break adds nothing.
func (w *textWriter) sep(c byte) {
	if c == '\n' {
		w.cells = 0
	}
	if len(w.b) == 0 {
		return
	}
	if last := w.b[len(w.b)-1]; c == ' ' && (last == '\t' || last == '\n') {
		return
	}
	if sepRank(c) > sepRank(w.pending) {
		w.pending = c
	}
}

// cell begins a table cell: every cell after the first of a line is one
// tab after the one before it, even when that one was empty, so that
// columns line up.
func (w *textWriter) cell() {
	w.cells++
	if w.cells == 1 {
		return
	}
	if w.pending == '\n' && len(w.b) > 0 {
		w.b = append(w.b, '\n')
	}
	w.pending = 0
	w.b = append(w.b, '\t')
}

func (w *textWriter) write(t []byte) {
	if len(t) == 0 {
		return
	}
	if w.pending != 0 {
		w.b = append(w.b, w.pending)
		w.pending = 0
	}
	w.b = append(w.b, t...)
}

// text adds text as a browser lays it out: a run of white space is one
// space, except where pre keeps it as written.
func (w *textWriter) text(t []byte, pre bool) {
	if pre {
		w.write(t)
		return
	}
	for len(t) > 0 {
		i := 0
		for i < len(t) && !isHTMLSpace(t[i]) {
			i++
		}
		w.write(t[:i])
		if i == len(t) {
			return
		}
		for i < len(t) && isHTMLSpace(t[i]) {
			i++
		}
		w.sep(' ')
		t = t[i:]
	}
}

// item adds t as written on a line of its own, if it holds more than
// white space.
func (w *textWriter) item(t []byte) {
	if len(bytes.TrimSpace(t)) == 0 {
		return
	}
	w.sep('\n')
	w.write(t)
	w.sep('\n')
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// joinSections joins the non-empty sections with a blank line between
// them.
func joinSections(sections ...[]byte) string {
	var out []byte
	for _, s := range sections {
		if len(s) == 0 {
			continue
		}
		if out == nil {
			out = s
			continue
		}
		out = append(append(out, '\n', '\n'), s...)
	}
	return ownedString(out)
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
		atom.Input, atom.Button, atom.Img, atom.Iframe, atom.Object, atom.Video,
		atom.Listing, atom.Plaintext:
		return '\n'
	}
	return 0
}

// svgBlock reports the tags of inline SVG elements that a browser draws
// as text of their own, at a position of their own: <text> and <desc>
// (<title> has an atom and is a block already). Their texts are lines,
// so that two numbers drawn apart do not read as one.
func svgBlock(raw []byte) bool {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	name := raw[i:]
	for _, n := range [...]string{"text", "desc"} {
		if len(name) >= len(n) && bytes.EqualFold(name[:len(n)], []byte(n)) &&
			(len(name) == len(n) || isTagNameEnd(name[len(n)])) {
			return true
		}
	}
	return false
}

func isTagNameEnd(c byte) bool {
	return c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
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
