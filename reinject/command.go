package reinject

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseCommand splits a command line into its verb (upper case) and its
// arguments (leading and trailing spaces removed).
func parseCommand(line string) (verb, args string) {
	verb, args, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), strings.Trim(args, " \t")
}

// pathArgs is a parsed MAIL FROM: or RCPT TO: argument.
type pathArgs struct {
	Addr   string   // the address, without brackets or source route
	Path   string   // as the client wrote it, brackets included
	Params []string // the ESMTP parameters as sent
	// Size is the SIZE parameter (-1: none); UTF8 the SMTPUTF8 parameter.
	Size int64
	UTF8 bool
}

// errSyntax is a parameter the hop does not understand; its text goes to
// the client in a 501/555 reply, so it names only the keyword.
type errSyntax struct {
	code int
	enh  string
	msg  string
}

func (e *errSyntax) Error() string { return e.msg }

func syntaxErr(code int, enh, format string, args ...any) error {
	return &errSyntax{code: code, enh: enh, msg: fmt.Sprintf(format, args...)}
}

// parsePathArgs parses the argument of MAIL (prefix "FROM:") or RCPT
// ("TO:"), keeping the path and the parameters exactly as sent, so that
// they reach the downstream unchanged. It checks what the hop offers:
// SIZE, BODY (7BIT, 8BITMIME), SMTPUTF8 and AUTH on MAIL, DSN's RET,
// ENVID, NOTIFY and ORCPT.
func parsePathArgs(args, prefix string) (pathArgs, error) {
	pa := pathArgs{Size: -1}
	if len(args) < len(prefix) || !strings.EqualFold(args[:len(prefix)], prefix) {
		return pa, syntaxErr(501, "5.5.2", "Syntax: %s<address>", prefix)
	}
	path, params := commandParams(args, prefix)
	if path == "" {
		return pa, syntaxErr(501, "5.5.2", "Syntax: %s<address>", prefix)
	}
	pa.Path, pa.Params = path, params
	addr := path[1 : len(path)-1]
	if strings.HasPrefix(addr, "@") {
		// A source route (RFC 5321 section 4.1.2): ignored, as allowed.
		if _, rest, ok := strings.Cut(addr, ":"); ok {
			addr = rest
		}
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] < ' ' || addr[i] == 0x7f {
			return pa, syntaxErr(501, "5.1.7", "Bad address syntax")
		}
	}
	if !utf8.ValidString(addr) {
		return pa, syntaxErr(501, "5.1.7", "Bad address syntax")
	}
	if len(addr) > 320 {
		return pa, syntaxErr(501, "5.1.7", "Address too long")
	}
	pa.Addr = addr
	seen := map[string]bool{}
	for _, p := range params {
		k, v, hasV := strings.Cut(p, "=")
		k = strings.ToUpper(k)
		if seen[k] {
			return pa, syntaxErr(501, "5.5.4", "Duplicate parameter %s", sanitizeEcho(k))
		}
		seen[k] = true
		ok := true
		switch {
		case prefix == "FROM:" && k == "SIZE":
			n, err := strconv.ParseInt(v, 10, 64)
			ok = err == nil && n >= 0
			pa.Size = n
		case prefix == "FROM:" && k == "BODY":
			v = strings.ToUpper(v)
			ok = v == "7BIT" || v == "8BITMIME"
		case prefix == "FROM:" && k == "SMTPUTF8":
			ok = !hasV
			pa.UTF8 = true
		case prefix == "FROM:" && k == "RET":
			v = strings.ToUpper(v)
			ok = v == "FULL" || v == "HDRS"
		case prefix == "FROM:" && (k == "ENVID" || k == "AUTH"):
			ok = hasV && v != ""
		case prefix == "TO:" && k == "NOTIFY":
			ok = validNotify(v)
		case prefix == "TO:" && k == "ORCPT":
			ok = strings.Contains(v, ";")
		default:
			return pa, syntaxErr(555, "5.5.4", "Unsupported parameter %s", sanitizeEcho(k))
		}
		if !ok {
			return pa, syntaxErr(501, "5.5.4", "Bad value for parameter %s", k)
		}
	}
	if !pa.UTF8 {
		for i := 0; i < len(addr); i++ {
			if addr[i] >= utf8.RuneSelf {
				return pa, syntaxErr(553, "5.6.7", "Non-ASCII address needs SMTPUTF8")
			}
		}
	}
	return pa, nil
}

// validNotify checks NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY
// (RFC 3461 section 4.1).
func validNotify(v string) bool {
	v = strings.ToUpper(v)
	if v == "NEVER" {
		return true
	}
	if v == "" {
		return false
	}
	for _, f := range strings.Split(v, ",") {
		if f != "SUCCESS" && f != "FAILURE" && f != "DELAY" {
			return false
		}
	}
	return true
}

// commandParams splits a MAIL FROM: or RCPT TO: argument (or the whole
// command line, with the verb in prefix) into its path, brackets
// included, and its ESMTP parameters, both as sent. The path ends at the
// first '>' outside a quoted string; "" means no path.
func commandParams(line, prefix string) (path string, params []string) {
	if len(line) < len(prefix) || !strings.EqualFold(line[:len(prefix)], prefix) {
		return "", nil
	}
	rest := strings.TrimLeft(line[len(prefix):], " ")
	if strings.HasPrefix(rest, "<") {
		quoted, esc := false, false
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				quoted = !quoted
			case c == '>' && !quoted:
				after := rest[i+1:]
				if after != "" && after[0] != ' ' {
					return "", nil // "<a@b>x": no space before the parameters
				}
				return rest[:i+1], strings.Fields(after)
			}
		}
		return "", nil
	}
	p, after, _ := strings.Cut(rest, " ")
	if p == "" || strings.ContainsAny(p, "<>\"\\") {
		return "", nil
	}
	return "<" + p + ">", strings.Fields(after)
}

func joinParams(p []string) string {
	if len(p) == 0 {
		return ""
	}
	return " " + strings.Join(p, " ")
}

func paramKey(p string) string {
	k, _, _ := strings.Cut(p, "=")
	return strings.ToUpper(k)
}

// xattr is one XFORWARD attribute: Raw is the xtext value as received,
// Value the decoded one.
type xattr struct {
	Name, Raw, Value string
}

var xforwardNames = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"}

// parseXForward parses the attributes of one XFORWARD command (Postfix
// XFORWARD_README): NAME=value pairs, values in xtext of at most 255
// bytes decoded.
func parseXForward(args string) ([]xattr, error) {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		return nil, syntaxErr(501, "5.5.4", "Syntax: XFORWARD attribute=value...")
	}
	var got []xattr
	for _, f := range fields {
		name, raw, ok := strings.Cut(f, "=")
		name = strings.ToUpper(name)
		if !ok || !knownXForward(name) {
			return nil, syntaxErr(501, "5.5.4", "Bad XFORWARD attribute name: %s", sanitizeEcho(name))
		}
		val, err := decodeXtext(raw)
		if err != nil || len(val) > 255 {
			return nil, syntaxErr(501, "5.5.4", "Bad XFORWARD attribute value for %s", name)
		}
		got = append(got, xattr{Name: name, Raw: raw, Value: val})
	}
	return got, nil
}

func knownXForward(name string) bool {
	for _, n := range xforwardNames {
		if n == name {
			return true
		}
	}
	return false
}

// setXForward sets a, replacing an earlier value of the same attribute.
func setXForward(list []xattr, a xattr) []xattr {
	for i := range list {
		if list[i].Name == a.Name {
			list[i] = a
			return list
		}
	}
	return append(list, a)
}

// sanitizeEcho keeps an echoed token short and printable.
func sanitizeEcho(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if r > ' ' && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var errXtext = errors.New("reinject: bad xtext")

// decodeXtext decodes RFC 3461 xtext ("+" followed by two upper-case hex
// digits encodes one byte).
func decodeXtext(s string) (string, error) {
	if !strings.Contains(s, "+") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("xtext %q: incomplete hexchar: %w", s, errXtext)
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("xtext %q: bad hexchar: %w", s, errXtext)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
