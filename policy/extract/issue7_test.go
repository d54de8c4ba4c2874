package extract

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"mime"

	"github.com/emersion/go-message"
	"github.com/maildlp/maildlp/internal/testutil"
)

// luhnCard completes a 15-digit prefix to a Luhn-valid 16-digit number.
func luhnCard(prefix string) string {
	sum := 0
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if (len(prefix)-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + string(rune('0'+(10-sum%10)%10))
}

// grouped writes a card number in groups of four.
func grouped(c string) string { return c[0:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:16] }

func TestIssue7EveryHeaderScanned(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	msg := "From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n" +
		"X-Spam-Report: * 0.1 RULE " + c + "\r\n" +
		"X-Spam-Status: No, score=" + c + "\r\n" +
		"List-Unsubscribe: <mailto:u@example.com?subject=" + c + ">\r\n" +
		"List-Id: " + c + " <list.example.com>\r\n" +
		"References: <a1@example.com> card " + c + "\r\n\t<a2@example.com>\r\n" +
		"In-Reply-To: <x@example.com> (" + c + ")\r\n" +
		"Message-ID: <m@example.com> " + c + "\r\n" +
		"X-Whatever: " + c + "\r\n" +
		"X-Folded: first\r\n  " + c[:9] + "\r\n  " + c[10:] + "\r\n" +
		"X-Obsolete : " + c + "\r\n" +
		"X-Tab\t: " + c + "\r\n" +
		"X-MS-Exchange-Organization-Note: " + c + "\r\n" +
		"X-Google-Note: " + c + "\r\n" +
		"Thread-Index: " + c + "\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; bh=" + c + "; b=" + c + "\r\n" +
		"ARC-Seal: i=1; a=rsa-sha256; b=" + c + "\r\n" +
		"Received: from mx (mx [192.0.2.1]) (note " + c + ") by mx2 with ESMTP id 4Y4Mn52Jq1; Sun, 6 Dec 2026 05:56:29 +0000\r\n" +
		"Authentication-Results: mx; dkim=pass header.b=" + c + "\r\n" +
		"Date: " + c + "\r\n" +
		"MIME-Version: 1.0 (" + c + ")\r\n" +
		"Content-Transfer-Encoding: 7bit (" + c + ")\r\n" +
		"\r\nbody\r\n"
	res := run(t, []byte(msg), Limits{})
	for _, name := range []string{"X-Spam-Report", "X-Spam-Status", "List-Unsubscribe", "List-Id", "References",
		"In-Reply-To", "Message-Id", "X-Whatever", "X-Obsolete", "X-Tab", "X-Ms-Exchange-Organization-Note",
		"X-Google-Note", "Thread-Index", "Dkim-Signature", "Arc-Seal", "Received", "Authentication-Results",
		"Date", "Mime-Version", "Content-Transfer-Encoding"} {
		checkParts(t, res, []want{{"header:" + name, c}})
	}
	checkParts(t, res, []want{{"header:X-Folded", "first " + c[:9] + " " + c[10:]}})
	// A card in a field name is found, and not repeated in the location.
	res = run(t, []byte("Subject: x\r\nX-"+strings.ReplaceAll(c, " ", "-")+": hi\r\nX-2024: y\r\n\r\nbody"), Limits{})
	checkParts(t, res, []want{{"header:X-####-####-####-####", "X-" + strings.ReplaceAll(c, " ", "-") + ": hi"}, {"header:X-2024", "y"}})
	for _, p := range res.Parts {
		if strings.Contains(p.Location, "malformed") {
			t.Errorf("obsolete syntax read as junk: %s", p.Location)
		}
	}
}

// TestIssue7MachineTokensSkipped: the identifiers machines write (msg-ids,
// trace ids, boundaries) are left out, the rest of their fields is not.
func TestIssue7MachineTokensSkipped(t *testing.T) {
	id := luhnCard("453201511283036")
	msg := "From: a@example.com\r\nSubject: hi\r\n" +
		"Message-ID: <" + id + "@mail.example.com>\r\n" +
		"References: <" + id + ".1@example.com> <CAF" + id + "@mail.example.com> kept-ref\r\n" +
		"Content-ID: <part" + id + "@example.com>\r\n" +
		"Received: by 2002:a05:6402:1 with SMTP id " + id + "-" + id + ";\r\n Sun, 6 Dec 2026 05:56:29 -0800 (PST) kept-rcvd\r\n" +
		"X-Received: by 10.0.0.1 with SMTP id " + id + "; kept-xr\r\n" +
		"Content-Type: multipart/mixed; boundary=\"----=_Part_" + id + "\"\r\n" +
		"\r\n------=_Part_" + id + "\r\nContent-Type: text/plain\r\n\r\nbody\r\n------=_Part_" + id + "--\r\n"
	res := run(t, []byte(msg), Limits{})
	for _, p := range res.Parts {
		if strings.Contains(p.Text, id) {
			t.Errorf("machine identifier scanned at %s: %q", p.Location, p.Text)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"by mx with ESMTPS id 4Y4M; Sun", "by mx with ESMTPS id ; Sun"},
		{"ID\t1234(x)", "ID\t(x)"},
		{"from a (comment id 4532 0151) id 99", "from a (comment id 4532 0151) id "},
		{"from a (\\) id 1) id 2", "from a (\\) id 1) id "},
		{"paid 123 grid 4", "paid 123 grid 4"},
		{"id", "id"},
	} {
		if got := withoutTraceID(tc.in); got != tc.want {
			t.Errorf("withoutTraceID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	checkParts(t, res, []want{{"header:References", "kept-ref"}, {"header:Received", "kept-rcvd"}, {"header:X-Received", "kept-xr"},
		{"header:Content-Type", "multipart/mixed"}, {"part 1 (text/plain)", "body"}})
}

func TestIssue7PartHeadersAndFileNames(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	unpadded := strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("n"+c+".txt")), "=")
	msg := testutil.NewMessage().Text("x").
		Part(part("application/octet-stream", "base64", testutil.Base64([]byte("data"), 76),
			[2]string{"Content-Description", "card " + c},
			[2]string{"X-Part-Note", c},
			[2]string{"Content-Disposition", "attachment; filename=\"=?utf-8?B?" + unpadded + "?=\""})).
		Part(part("application/octet-stream", "base64", testutil.Base64([]byte("data"), 76),
			[2]string{"Content-Disposition", "attachment; filename*=iso-8859-1''r%E9sum%E9%20" + strings.ReplaceAll(c, " ", "%20")})).
		Part(part("text/plain; name=\"=? =?utf-8?Q?"+strings.ReplaceAll(c, " ", "_")+"?=\"", "", []byte("x"))).
		Attach("a.zip", "application/zip", testutil.Zip(testutil.File{Name: "dir/" + c + ".txt", Data: []byte("x")})).
		Attach("a.tar", "application/x-tar", testutil.Tar(testutil.File{Name: c + ".csv", Data: []byte("x")})).
		Bytes()
	res := run(t, msg, Limits{})
	checkParts(t, res, []want{
		{"part 2 header:Content-Description", "card " + c},
		{"part 2 header:X-Part-Note", c},
		{"part 2 file name", "n" + c + ".txt"},
		{"part 3 file name", "résumé " + c},
		{"part 4 file name", c},
		{`attachment "a.zip" member names`, "dir/" + c + ".txt"},
		{`attachment "a.tar" member names`, c + ".csv"},
	})
}

// TestIssue7EncodedWords: RFC 2047 words are decoded as leniently as
// readers do, so that a malformed word cannot keep the rest from the scan.
func TestIssue7EncodedWords(t *testing.T) {
	c := luhnCard("453201511283036")
	b64 := base64.StdEncoding.EncodeToString([]byte(c))
	tests := []struct{ name, subject, want string }{
		{"unpadded base64", "=?utf-8?B?" + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("x"+c)), "=") + "?=", "x" + c},
		{"bogus word first", "=?x =?utf-8?B?" + b64 + "?=", c},
		{"lone =? first", "=? =?utf-8?Q?" + c + "?=", c},
		{"split across words", "=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte(c[:7])) + "?= =?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte(c[7:])) + "?=", c},
		{"utf-8 character split across words", "=?utf-8?Q?=EF=BC?= =?utf-8?Q?=94" + c[1:] + "?=", c},
		{"q escapes", "=?iso-8859-1?q?=34=35=33=32_" + c[4:] + "?=", "4532 " + c[4:]},
		{"bad q escape kept", "=?utf-8?Q?=ZZ" + c + "?=", "=ZZ" + c},
		{"utf-7 word", "=?utf-7?Q?" + utf7Encode("card "+c+" ü", true) + "?=", "card " + c + " ü"},
		{"language suffix", "=?utf-8*en?Q?" + c + "?=", c},
		{"white space inside a word", "=?utf-8?Q?" + c[:8] + " " + c[8:] + "?=", c[:8] + " " + c[8:]},
		{"text between words kept", "=?utf-8?Q?a?= " + c + " =?utf-8?Q?b?=", "a " + c + " b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Header("Subject", tc.subject).Text("x").Bytes(), Limits{})
			checkParts(t, res, []want{{"header:Subject", tc.want}})
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

func TestIssue7UnknownCharset(t *testing.T) {
	c := luhnCard("453201511283036")
	tests := []struct {
		name string
		msg  []byte
		loc  string
	}{
		{"body", testutil.NewMessage().Part(part("text/plain; charset=x-bogus", "8bit", []byte("café "+c))).Bytes(), "body"},
		{"html body", testutil.NewMessage().Part(part("text/html; charset=x-mac-klingon", "", []byte("<p>"+c+"</p>"))).Bytes(), "body"},
		{"encoded word", testutil.NewMessage().Header("Subject", "=?x-bogus?Q?=34=35=33=32"+c[4:]+"?=").Text("x").Bytes(), "header:Subject"},
		{"encoded word base64", testutil.NewMessage().Header("X-Note", "=?x-bogus?B?"+base64.StdEncoding.EncodeToString([]byte(c))+"?=").Text("x").Bytes(), "header:X-Note"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.msg, Limits{})
			checkParts(t, res, []want{{tc.loc, c}})
			if !hasUnscannable(res, tc.loc, UnknownCharset) {
				t.Errorf("want unknown_charset at %s; got:\n%s", tc.loc, dump(res))
			}
		})
	}
	// Labels that mean "unknown" are read as bytes, as a reader would.
	res := run(t, testutil.NewMessage().Part(part("text/plain; charset=unknown-8bit", "8bit", []byte("x "+c))).Bytes(), Limits{})
	if checkParts(t, res, []want{{"body", c}}); len(res.Unscannable) > 0 {
		t.Errorf("unknown-8bit: unexpected unscannable:\n%s", dump(res))
	}
	// A charset label is sender text: it does not reach the detail.
	res = run(t, testutil.NewMessage().Part(part("text/plain; charset="+c, "8bit", []byte("x"))).Bytes(), Limits{})
	for _, u := range res.Unscannable {
		if strings.Contains(u.Detail, c) {
			t.Errorf("detail %q holds the charset label", u.Detail)
		}
	}
}

func TestIssue7UTF7Body(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	for _, cs := range []string{"utf-7", "UTF-7", "unicode-1-1-utf-7", `"utf-7"`} {
		t.Run(cs, func(t *testing.T) {
			// Every character shifted: the scan must see the digits.
			body := utf7Encode("Kartennummer für Müller: "+c, true)
			res := run(t, testutil.NewMessage().Part(part("text/plain; charset="+cs, "7bit", []byte(body))).Bytes(), Limits{})
			checkParts(t, res, []want{{"body", "für Müller: " + c}})
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

// TestIssue7ObsoleteHeaderSyntax: white space before the colon (RFC 5322
// section 4.5.3) at every level. go-message, as a mail client, reads the
// structure; the engine must read the same leaves.
func TestIssue7ObsoleteHeaderSyntax(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	b64 := string(testutil.Base64([]byte("top "+c), 76))
	inner := "Subject : inner\r\nContent-Type  : multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Transfer-Encoding\t: base64\r\n\r\n" +
		string(testutil.Base64([]byte("forwarded "+c), 76)) + "\r\n--in--\r\n"
	qp := string(testutil.QP([]byte("quoted " + c)))
	msg := "From: a@example.com\r\nSubject: x\r\nMIME-Version : 1.0\r\nContent-Type : multipart/mixed; boundary=out\r\n\r\n" +
		"--out\r\nContent-Type : text/plain; charset=utf-8\r\nContent-Transfer-Encoding : base64\r\n\r\n" + b64 + "\r\n" +
		"--out\r\nContent-Type : multipart/alternative;\r\n boundary=alt\r\n\r\n--alt\r\nContent-Transfer-Encoding : quoted-printable\r\n\r\n" + qp + "\r\n--alt--\r\n" +
		"--out\r\nContent-Type : message/rfc822\r\n\r\n" + inner +
		"--out--\r\n"
	res := run(t, []byte(msg), Limits{})
	var all []string
	for _, p := range res.Parts {
		all = append(all, p.Text)
	}
	got := strings.Join(all, "\n")
	leaves := goMessageLeaves(t, []byte(msg))
	if len(leaves) != 3 {
		t.Fatalf("go-message read %d leaves, want 3: %q", len(leaves), leaves)
	}
	for _, l := range leaves {
		if !strings.Contains(got, strings.TrimSpace(l)) {
			t.Errorf("go-message reads leaf %q; the engine does not:\n%s", l, dump(res))
		}
	}
	checkParts(t, res, []want{{"part 1 (text/plain)", "top " + c}, {"part 2.1 (text/plain)", "quoted " + c},
		{"part 3 (message/rfc822) > part 1 (text/plain)", "forwarded " + c}})
}

// goMessageLeaves reads msg with go-message, as a client built on it
// would, and returns the decoded text of each leaf.
func goMessageLeaves(t *testing.T, msg []byte) []string {
	t.Helper()
	var leaves []string
	var walk func(e *message.Entity, depth int)
	walk = func(e *message.Entity, depth int) {
		if depth > 5 {
			return
		}
		mt, _, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				walk(p, depth+1)
			}
		}
		b, _ := io.ReadAll(e.Body)
		if mt == "message/rfc822" {
			in, err := message.Read(bytes.NewReader(b))
			if err == nil || message.IsUnknownCharset(err) {
				walk(in, depth+1)
			}
			return
		}
		leaves = append(leaves, string(b))
	}
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("go-message: %v", err)
	}
	walk(e, 0)
	return leaves
}

func TestIssue7IsFieldLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"Subject: x", true},
		{"Subject : x", true},
		{"Subject \t : x", true},
		{"Subject:", true},
		{": x", false},
		{" Subject: x", false},
		{"Sub ject: x", false},
		{"Subj\xe9ct: x", false},
		{"no colon", false},
		{"Subject ", false},
	} {
		if got := isFieldLine([]byte(tc.line)); got != tc.want {
			t.Errorf("isFieldLine(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestIssue7DuplicateParameterStillMultipart(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	msg := "Subject: x\r\nContent-Type: multipart/mixed; boundary=b; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(testutil.Base64([]byte("dup "+c), 76)) + "\r\n--b--\r\n"
	checkParts(t, run(t, []byte(msg), Limits{}), []want{{"part 1 (text/plain)", "dup " + c}})
}

// TestIssue7NULInBody: a NUL neither makes a text body unread nor splits
// a value around it.
func TestIssue7NULInBody(t *testing.T) {
	c := luhnCard("453201511283036")
	withNUL := "before\x00 card " + c[:8] + "\x00" + c[8:] + " after\x00"
	tests := []struct {
		name string
		msg  []byte
		loc  string
	}{
		{"plain body", testutil.Message(withNUL), "body"},
		{"no content type", []byte("Subject: x\r\n\r\n" + withNUL), "body"},
		{"base64 text part", testutil.NewMessage().Part(part("text/plain; charset=utf-8", "base64", testutil.Base64([]byte(withNUL), 76))).Bytes(), "body"},
		{"html body", testutil.NewMessage().HTML("<p>" + withNUL + "</p>").Bytes(), "body"},
		{"text attachment", testutil.NewMessage().Text("x").Attach("notes.txt", "text/plain", []byte(strings.Repeat("line of text\n", 20)+withNUL)).Bytes(), `attachment "notes.txt"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.msg, Limits{})
			checkParts(t, res, []want{{tc.loc, "card " + c + " after"}, {tc.loc, "before"}})
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

// TestIssue7HeaderDecodingLinear checks the RFC 2047 decoder on its own,
// at n and 8n, by the work it reports.
func TestIssue7HeaderDecodingLinear(t *testing.T) {
	for _, unit := range []string{"=?", "=?utf-8?Q?", "=?utf-8?B?NDEx?= ", "=?a?b?", "?=", "=?utf-8?Q?x?=x"} {
		work := func(n int) int64 {
			e := &extractor{res: &Result{}, m: newMeter(nil, time.Time{})}
			e.decodeWords(strings.Repeat(unit, n)+"?=", "header:X")
			return e.m.total()
		}
		small, big := work(10000), work(80000)
		if ratio := float64(big) / float64(small); ratio > maxCostGrowth {
			t.Errorf("decodeWords(%q x n): work x%.1f from n to 8n", unit, ratio)
		}
	}
}

// TestIssue7ManyHeaderFields: past maxFieldsParsed fields, the rest of a
// header is still scanned, and the structure fields are still read.
func TestIssue7ManyHeaderFields(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	var b strings.Builder
	for i := range 3 * maxFieldsParsed {
		if i == 2*maxFieldsParsed {
			b.WriteString("X-Late: " + c + "\r\n")
		}
		b.WriteString("X:a\r\n")
	}
	for _, m := range []struct{ name, msg, loc string }{
		{"top", "Subject: x\r\n" + b.String() + "Content-Type : multipart/mixed; boundary=b\r\nContent-Type: text/plain\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			string(testutil.Base64([]byte("late "+c), 76)) + "\r\n--b--\r\n", "header (more fields)"},
		{"part", "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + b.String() + "Content-Transfer-Encoding: base64\r\n\r\n" +
			string(testutil.Base64([]byte("late "+c), 76)) + "\r\n--b--\r\n", "part 1 header (more fields)"},
	} {
		t.Run(m.name, func(t *testing.T) {
			res := run(t, []byte(m.msg), Limits{})
			checkParts(t, res, []want{{m.loc, "X-Late: " + c}, {"part 1 (text/plain)", "late " + c}})
			if n := len(res.Parts); n > maxFieldsParsed+10 {
				t.Errorf("%d parts, want at most %d", n, maxFieldsParsed+10)
			}
		})
	}
}

func FuzzDecodeWords(f *testing.F) {
	f.Add("=?utf-8?B?NDExMQ?= =?utf-8?Q?_1111?=", "4111 1111")
	f.Add("=? =?x?q?=34?= =?utf-7?Q?+ADQ-?= =?a?b?", "Grüße 日本")
	f.Add("=?utf-8*en?Q?a b?= x =?iso-8859-1?q?=E9?=", "")
	f.Fuzz(func(t *testing.T, s, text string) {
		e := &extractor{res: &Result{}, m: newMeter(nil, time.Time{})}
		out := e.decodeWords(s, "header:X")
		if !strings.Contains(s, "=?") && out != s {
			t.Fatalf("decodeWords(%q) = %q, want it unchanged", s, out)
		}
		// Linear: a bounded number of looks at each byte.
		if w := e.m.total(); w > 8*int64(len(s))+64 {
			t.Fatalf("decodeWords(%q): work %d for %d bytes", s, w, len(s))
		}
		// Oracle: what the standard library encodes reads back.
		// Without NULs: UTF-8 with NULs in a UTF-16 pattern is read as
		// UTF-16 (sniffText), by design.
		text = strings.ReplaceAll(strings.ToValidUTF8(text, ""), "\x00", "")
		for _, enc := range []mime.WordEncoder{mime.BEncoding, mime.QEncoding} {
			w := enc.Encode("utf-8", text)
			if w == text && strings.Contains(text, "=?") {
				continue // not encoded, and looks like a word itself
			}
			if got := e.decodeWords(w, "header:X"); Normalize(got) != Normalize(text) {
				t.Fatalf("decodeWords(%q) = %q, want %q", w, got, text)
			}
		}
		for _, u := range e.res.Unscannable {
			if u.Reason != UnknownCharset || u.Location != "header:X" {
				t.Fatalf("unexpected unscannable %+v", u)
			}
		}
	})
}

// FuzzHeaderAgreement: for every header block go-message reads without
// error, the engine reads the same fields (names and values, in order),
// so that it sees the structure a client built on go-message sees.
func FuzzHeaderAgreement(f *testing.F) {
	f.Add([]byte("Content-Type : multipart/mixed;\r\n boundary=b\r\nContent-Transfer-Encoding\t: base64\r\n\r\nbody"))
	f.Add([]byte("Subject: a\nX-A :b\n\tc\nFrom:x\r\n\r\n"))
	f.Add([]byte(":x\r\nA: b\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		gm, err := textprotoRead(raw)
		if err != nil {
			return
		}
		hdr, _, junk := splitHeader(raw)
		h := parseHeader(hdr, &junk)
		var ours [][2]string
		fields := h.Fields()
		for fields.Next() {
			ours = append(ours, [2]string{fields.Key(), fields.Value()})
		}
		// Junk is allowed: go-message drops fields with an empty name
		// (":x"), the engine scans them as text.
		if len(ours) != len(gm) {
			t.Fatalf("header %q: engine read %q (junk %q), go-message %q", raw, ours, junk, gm)
		}
		for i := range gm {
			if ours[i] != gm[i] {
				t.Fatalf("header %q: field %d is %q, go-message reads %q", raw, i, ours[i], gm[i])
			}
		}
	})
}

// textprotoRead reads the header of raw as go-message does for a message.
func textprotoRead(raw []byte) ([][2]string, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, err
	}
	var out [][2]string
	fields := e.Header.Fields()
	for fields.Next() {
		out = append(out, [2]string{fields.Key(), fields.Value()})
	}
	return out, nil
}

// TestIssue7DuplicateTransferEncoding: with two Content-Transfer-Encoding
// fields the body is read both ways, whichever a reader takes.
func TestIssue7DuplicateTransferEncoding(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	b64 := string(testutil.Base64([]byte("hidden "+c), 76))
	for _, order := range [][2]string{{"7bit", "base64"}, {"base64", "7bit"}, {"base64 (comment)", "quoted-printable"}} {
		msg := "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: " + order[0] +
			"\r\nContent-Transfer-Encoding: " + order[1] + "\r\n\r\n" + b64 + "\r\n--b--\r\n"
		res := run(t, []byte(msg), Limits{})
		var all []string
		for _, p := range res.Parts {
			all = append(all, p.Text)
		}
		if !strings.Contains(strings.Join(all, "\n"), "hidden "+c) {
			t.Errorf("%q: decoded text not scanned:\n%s", order, dump(res))
		}
	}
}

// TestIssue7CharsetAliases: labels in use in mail that the tables lack
// are decoded, not reported as unknown.
func TestIssue7CharsetAliases(t *testing.T) {
	c := luhnCard("453201511283036")
	u32 := []byte{}
	for _, r := range "card " + c {
		u32 = append(u32, byte(r), 0, 0, 0)
	}
	for _, tc := range []struct {
		cs   string
		data []byte
	}{
		{"utf8mb4", []byte("card " + c)}, {"cp932", []byte("card " + c)}, {"cp949", []byte("card " + c)},
		{"latin-1", []byte("card " + c + " f\xfcr")}, {"utf-32le", u32}, {"utf-32", append([]byte{0xFF, 0xFE, 0, 0}, u32...)},
	} {
		res := run(t, testutil.NewMessage().Part(part("text/plain; charset="+tc.cs, "base64", testutil.Base64(tc.data, 76))).Bytes(), Limits{})
		if got, _ := textAt(res, "body"); !strings.Contains(got, "card "+c) || len(res.Unscannable) > 0 {
			t.Errorf("charset %s: body %q, unscannable:\n%s", tc.cs, got, dump(res))
		}
	}
}
