package reinject

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/maildlp/maildlp/config"
)

func TestNewlineReader(t *testing.T) {
	tests := []struct {
		in         string
		normalised string
		clean      bool
	}{
		{"a\r\nb\r\n", "a\r\nb\r\n", true},
		{"a\nb\r\n", "a\r\nb\r\n", false},
		{"a\rb\r\n", "a\r\nb\r\n", false},
		{"a\r\r\nb", "a\r\n\r\nb", false},
		{"\n.\n", "\r\n.\r\n", false},
		{"\r.\r", "\r\n.\r\n", false},
		{"a\r", "a\r\n", false},
		{"", "", true},
	}
	for _, tt := range tests {
		for _, reject := range []bool{false, true} {
			// One byte at a time too: state must carry across reads.
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.in)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				got, err := io.ReadAll(newNewlineReader(r, reject))
				switch {
				case reject && tt.clean:
					if err != nil || string(got) != tt.in {
						t.Errorf("reject %q = %q, %v; want it unchanged", tt.in, got, err)
					}
				case reject:
					if err != errBareNewline {
						t.Errorf("reject %q: err = %v, want errBareNewline", tt.in, err)
					}
				default:
					if err != nil || string(got) != tt.normalised {
						t.Errorf("normalise %q = %q, %v; want %q", tt.in, got, err, tt.normalised)
					}
				}
			}
		}
	}
}

func TestDotWriter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\n", "a\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.b\r\n..\r\n", "a\r\n..b\r\n...\r\n.\r\n"},
		{"no end", "no end\r\n.\r\n"},
		{"", ".\r\n"},
	}
	for _, tt := range tests {
		for split := 0; split <= len(tt.in); split++ {
			var buf bytes.Buffer
			bw := bufio.NewWriter(&buf)
			d := &dotWriter{w: bw, bol: true}
			d.write([]byte(tt.in[:split]))
			d.write([]byte(tt.in[split:]))
			d.close()
			if buf.String() != tt.want {
				t.Errorf("dotWriter(%q split at %d) = %q, want %q", tt.in, split, buf.String(), tt.want)
			}
		}
	}
}

func TestSplitHeader(t *testing.T) {
	msg := "A: 1\r\nB: two\r\n\tfolded\r\nnot a field\r\nC:3\r\n\r\nbody\r\n\r\nmore\r\n"
	h := splitHeader([]byte(msg), "A", "B", "C")
	var names []string
	for _, f := range h.fields {
		names = append(names, f.name)
	}
	if want := []string{"A", "B", "", "C"}; !slices.Equal(names, want) {
		t.Errorf("field names = %q, want %q", names, want)
	}
	if got := string(bytes.Join(h.fields[1].segs, nil)); got != "B: two\r\n\tfolded\r\n" || len(h.fields[1].segs) != 1 {
		t.Errorf("folded field = %q in %d pieces", got, len(h.fields[1].segs))
	}
	if got := string(bytes.Join(h.body, nil)); got != "body\r\n\r\nmore\r\n" {
		t.Errorf("body = %q", got)
	}
	if got := joined(h, nil); got != msg {
		t.Errorf("round trip = %q, want %q", got, msg)
	}
	// The same message in chunks of every size splits the same way.
	for size := 1; size <= len(msg); size++ {
		var chunks [][]byte
		for b := []byte(msg); len(b) > 0; b = b[min(size, len(b)):] {
			chunks = append(chunks, b[:min(size, len(b))])
		}
		hc := splitChunks(chunks, "A", "B", "C")
		var cn []string
		for _, f := range hc.fields {
			cn = append(cn, f.name)
		}
		if !slices.Equal(cn, names) || joined(hc, nil) != msg || string(hc.sep) != "\r\n" {
			t.Fatalf("chunks of %d: names %q, round trip %q, sep %q", size, cn, joined(hc, nil), hc.sep)
		}
	}
	if n := h.remove("b"); n != 1 || h.has("B") {
		t.Errorf("remove B: n=%d has=%v", n, h.has("B"))
	}
	// No body, no end of line.
	h = splitHeader([]byte("Subject: x"), "Subject")
	if got := joined(h, [][]byte{fieldLine("X", "y")}); got != "X: y\r\nSubject: x\r\n" {
		t.Errorf("render = %q", got)
	}
	if fieldName([]byte("x-filter-loop  \t: x"), "X-Filter-Loop") != "X-Filter-Loop" {
		t.Errorf("white space before the colon is not part of the name")
	}
}

// joined is the message h sends on, in one piece.
func joined(h header, extra [][]byte) string { return string(bytes.Join(h.parts(extra), nil)) }

func TestCommandParams(t *testing.T) {
	tests := []struct {
		line, prefix, path string
		params             []string
	}{
		{"MAIL FROM:<a@b> SIZE=1 BODY=7BIT", "MAIL FROM:", "<a@b>", []string{"SIZE=1", "BODY=7BIT"}},
		{"mail from: <a@b>", "MAIL FROM:", "<a@b>", nil},
		{"MAIL FROM:<>", "MAIL FROM:", "<>", nil},
		{`RCPT TO:<"a> b"@c> NOTIFY=NEVER`, "RCPT TO:", `<"a> b"@c>`, []string{"NOTIFY=NEVER"}},
		{`RCPT TO:<"a\"> b"@c>`, "RCPT TO:", `<"a\"> b"@c>`, nil},
		{"RCPT TO:a@b ORCPT=rfc822;a@b", "RCPT TO:", "<a@b>", []string{"ORCPT=rfc822;a@b"}},
		{"RCPT TO:<unterminated", "RCPT TO:", "", nil},
		{"NOOP", "RCPT TO:", "", nil},
	}
	for _, tt := range tests {
		path, params := commandParams(tt.line, tt.prefix)
		if path != tt.path || !slices.Equal(params, tt.params) {
			t.Errorf("commandParams(%q) = %q %q, want %q %q", tt.line, path, params, tt.path, tt.params)
		}
	}
}

func TestDecodeXtext(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"a+2Bb", "a+b", true},
		{"+3D", "=", true},
		{"a+2b", "", false},
		{"a+2", "", false},
		{"+", "", false},
	}
	for _, tt := range tests {
		got, err := decodeXtext(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("decodeXtext(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzSplitHeader(f *testing.F) {
	f.Add([]byte("A: 1\r\nB: 2\r\n folded\r\n\r\nbody"), "[p] ", "")
	f.Add([]byte("Subject: x\n\nb"), "", "new")
	f.Add([]byte(" leading\r\n\r\n"), "\xff", "")
	f.Fuzz(func(t *testing.T, msg []byte, prefix, replace string) {
		h := splitHeader(msg, "X-Filter-Loop", "Subject")
		if got := joined(h, nil); got != string(msg) && (len(h.sep) > 0 || got != string(msg)+"\r\n") {
			t.Fatalf("round trip changed the message: %q -> %q", msg, got)
		}
		// Split in chunks (at a point chosen from the input), the same.
		cut := len(prefix) % (len(msg) + 1)
		hc := splitChunks([][]byte{msg[:cut], msg[cut:]}, "X-Filter-Loop", "Subject")
		if got, want := joined(hc, nil), joined(h, nil); got != want || len(hc.fields) != len(h.fields) {
			t.Fatalf("split at %d: %q, want %q", cut, got, want)
		}
		for i := range hc.fields {
			if hc.fields[i].name != h.fields[i].name {
				t.Fatalf("split at %d: field %d named %q, want %q", cut, i, hc.fields[i].name, h.fields[i].name)
			}
		}
		// The name of the first field, against a plain reference.
		first, _, _ := bytes.Cut(msg, []byte("\n"))
		want := ""
		if name, _, ok := bytes.Cut(first, []byte(":")); ok && len(first) > 0 && first[0] != ' ' && first[0] != '\t' &&
			strings.EqualFold(string(bytes.TrimRight(name, " \t")), "Subject") {
			want = "Subject"
		}
		if got := fieldName(first, "X-Filter-Loop", "Subject"); got != want && !(want == "" && strings.EqualFold(got, "X-Filter-Loop")) {
			t.Fatalf("fieldName(%q) = %q, want %q", first, got, want)
		}
		h.remove("X-Filter-Loop")
		if h.has("X-Filter-Loop") {
			t.Fatalf("pass header left after remove")
		}
		h.setSubject(prefix, replace)
		out := joined(h, [][]byte{fieldLine("X-Filter-Loop", "Reflected\r\nEvil: 1")})
		if !strings.HasPrefix(out, "X-Filter-Loop: ReflectedEvil: 1\r\n") {
			t.Fatalf("added field = %q", out)
		}
		if prefix != "" || replace != "" {
			if !h.has("Subject") {
				t.Fatalf("no Subject after setSubject")
			}
		}
	})
}

func FuzzNewlineReader(f *testing.F) {
	for _, s := range smuggling {
		f.Add([]byte("a" + s.seq + "b\r\n"))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := io.ReadAll(newNewlineReader(bytes.NewReader(in), false))
		if err != nil {
			t.Fatal(err)
		}
		cr := false
		if !cleanLineEnds(out, &cr) || cr {
			t.Fatalf("normalised %q to %q: bare CR/LF left", in, out)
		}
		_, err = io.ReadAll(newNewlineReader(bytes.NewReader(in), true))
		cr = false
		clean := cleanLineEnds(in, &cr) && !cr
		if clean != (err == nil) {
			t.Fatalf("reject(%q) err = %v, clean = %v", in, err, clean)
		}
	})
}

func FuzzCommandParams(f *testing.F) {
	f.Add("MAIL FROM:<a@b> SIZE=1", "MAIL FROM:")
	f.Add(`RCPT TO:<"x>"@y> NOTIFY=NEVER`, "RCPT TO:")
	f.Add("XFORWARD NAME=a+2Bb", "")
	f.Fuzz(func(t *testing.T, line, prefix string) {
		path, params := commandParams(line, prefix)
		if path != "" && (!strings.HasPrefix(path, "<") || !strings.HasSuffix(path, ">")) {
			t.Fatalf("path %q without brackets", path)
		}
		for _, p := range params {
			if strings.ContainsAny(p, " \t") {
				t.Fatalf("param %q with space", p)
			}
		}
		if v, err := decodeXtext(line); err == nil && !strings.Contains(line, "+") && v != line {
			t.Fatalf("decodeXtext changed %q", line)
		}
	})
}

// FuzzSession feeds arbitrary client bytes to a hop session over net.Pipe.
// Every reply line must be well formed and the session must end.
func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"))
	f.Add([]byte("EHLO x\r\nXFORWARD NAME=a ADDR=1.2.3.4\r\nMAIL FROM:<a@b> SIZE=10 RET=HDRS\r\nRCPT TO:<c@d> NOTIFY=NEVER\r\nDATA\r\nx\n.\nMAIL FROM:<e@f>\r\n"))
	f.Add([]byte("HELO x\r\nHELP\r\nVRFY a\r\nBDAT 5 LAST\r\nabcde"))
	f.Add([]byte("EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n"))
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n\r.\r\r\n.\r\n"))
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: a\x00b\r\n\r\nx\x00\r\n.\r\n"))
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nX-A: 1\r\nX-Filter-Loop  : x\r\n a\ra\ra\r\nSubject: s\r\n.\r\n"))

	mta := newFakeMTA(f, nil)
	cfg := reflectCfg(mta.addr()).WithDefaults()
	cfg.HELOName = "hop.test"
	cfg.Timeouts.Command = config.Duration(time.Second)
	cfg.Timeouts.DataIdle = config.Duration(time.Second)
	s := New(cfg, func() Evaluator { return blockEngine() })
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})

	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		defer client.Close()
		// A pipe has no address for xforward_from: XFORWARD is trusted, to
		// reach its parser.
		go s.serveConn(server, true)
		client.SetDeadline(time.Now().Add(5 * time.Second))
		out := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(client)
			out <- b
		}()
		client.Write(in)
		client.Write([]byte("\r\n.\r\nQUIT\r\n"))
		var got []byte
		select {
		case got = <-out:
		case <-time.After(6 * time.Second):
			t.Fatal("session did not end")
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n") {
			if l == "" && len(got) == 0 {
				continue
			}
			if len(l) < 4 || l[0] < '2' || l[0] > '5' || (l[3] != ' ' && l[3] != '-') {
				t.Fatalf("malformed reply line %q in %q", l, got)
			}
		}
	})
}

// TestBody reads DATA through the DATA reader in one piece and byte by
// byte: unstuffed content, the end line found, the commands after it left.
func TestBody(t *testing.T) {
	tests := []struct {
		name, in, want string
		bare           bool
	}{
		{"plain", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", false},
		{"empty", ".\r\n", "", false},
		{"stuffed", "a\r\n..b\r\n...\r\n.\r\n", "a\r\n.b\r\n..\r\n", false},
		{"unstuffed dot line", "a\r\n.b\r\n.\r\n", "a\r\nb\r\n", false},
		{"dot CR kept", "x\r\n.\rX\r\n.\r\n", "x\r\n\rX\r\n", true},
		{"LF.LF is text", "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", true},
		{"CR.CR is text", "a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", true},
		{"CRLF.LF", "a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", true},
	}
	cfg := config.Reinject{}.WithDefaults()
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/onebyte=%v", tt.name, oneByte), func(t *testing.T) {
				pr, pw := io.Pipe()
				defer pr.Close()
				go func() {
					in := []byte(tt.in + "NOOP\r\n")
					if !oneByte {
						pw.Write(in)
						return
					}
					for i := range in {
						pw.Write(in[i : i+1])
					}
				}()
				br := bufio.NewReader(pr)
				d := newDotReader(br, nil, int(cfg.MaxLineLength), int64(cfg.MaxMessageBytes), 0, 0)
				got, err := io.ReadAll(d)
				if err != nil || string(got) != tt.want {
					t.Fatalf("body = %q, %v; want %q", got, err, tt.want)
				}
				if d.bare != tt.bare {
					t.Errorf("bare newline = %v, want %v", d.bare, tt.bare)
				}
				line, err := br.ReadString('\n')
				if line != "NOOP\r\n" {
					t.Fatalf("next command = %q, %v", line, err)
				}
			})
		}
	}
}
