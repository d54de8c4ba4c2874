package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// Hostile inputs for the MIME walk, the header split and decoding, the
// transfer decodings, uuencode and Normalize; TestCostLinear checks each
// at n and 8n.
func init() {
	top := func(hdr, body string) []byte { return []byte("Subject: x\r\n" + hdr + "\r\n" + body) }
	multi := func(boundary string, body []byte) []byte {
		return append([]byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=\""+boundary+"\"\r\n\r\n"), body...)
	}
	addCostCase("many boundaries", 2000, func(n int) []byte {
		return multi("b", bytes.Repeat([]byte("--b\r\n\r\nx\r\n"), n))
	})
	addCostCase("boundary inside lines", 20000, func(n int) []byte {
		return multi("bbbbbbbb", bytes.Repeat([]byte("x--bbbbbbbb"), n))
	})
	addCostCase("boundary prefix lines", 20000, func(n int) []byte {
		return multi("bbbbbbbb", bytes.Repeat([]byte("--bbbbbbbbX\n"), n))
	})
	addCostCase("guessed boundary candidates", 20000, func(n int) []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, "--cand%d\n", i)
		}
		return multi("nope", b.Bytes())
	})
	addCostCase("many short lines", 100000, func(n int) []byte {
		return top("", strings.Repeat("\n", n))
	})
	addCostCase("many short header lines", 50000, func(n int) []byte {
		return []byte(strings.Repeat("X:\n", n) + "\nbody")
	})
	addCostCase("header folded many times", 50000, func(n int) []byte {
		return top("X-Folded: a"+strings.Repeat("\r\n b", n)+"\r\n", "body")
	})
	addCostCase("junk header lines", 50000, func(n int) []byte {
		return []byte("Subject: x\r\n" + strings.Repeat("junk line\r\n \r\n", n) + "\r\nbody")
	})
	addCostCase("obsolete header syntax", 50000, func(n int) []byte {
		return []byte(strings.Repeat("X-A  : b\r\n", n) + "\r\nbody")
	})
	addCostCase("encoded words", 20000, func(n int) []byte {
		return top("Subject: "+strings.Repeat("=?utf-8?B?NDEx?= ", n)+"\r\n", "x")
	})
	addCostCase("unclosed encoded words", 20000, func(n int) []byte {
		return top("Subject: "+strings.Repeat("=?utf-8?Q?x", n)+" ?=\r\n", "x")
	})
	addCostCase("address list", 20000, func(n int) []byte {
		return top("To: "+strings.Repeat("\"a (b)\" <a@example.com> (c), ", n)+"\r\n", "x")
	})
	addCostCase("RFC 2231 continuations", 5000, func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, ";\r\n filename*%d*=%%41", i)
		}
		return top("Content-Type: application/octet-stream\r\nContent-Disposition: attachment"+b.String()+"\r\n", "x")
	})
	addCostCase("quoted-printable equals", 200000, func(n int) []byte {
		return top("Content-Transfer-Encoding: quoted-printable\r\n", strings.Repeat("=", n))
	})
	addCostCase("quoted-printable padding", 20000, func(n int) []byte {
		return top("Content-Transfer-Encoding: quoted-printable\r\n", strings.Repeat("=       x", n))
	})
	addCostCase("base64 junk", 200000, func(n int) []byte {
		return top("Content-Transfer-Encoding: base64\r\n", strings.Repeat("Q!=", n))
	})
	addCostCase("uuencode begin lines without end", 20000, func(n int) []byte {
		return top("", strings.Repeat("begin 644 a\n", n)+"\nendx\n")
	})
	addCostCase("uuencode bad begin lines", 20000, func(n int) []byte {
		return top("", strings.Repeat("begin x\n", n)+"\nend\n")
	})
	addCostCase("uuencode many blocks", 2000, func(n int) []byte {
		return top("", strings.Repeat("begin 644 a\nM86)C\n`\nend\n", n))
	})
	addCostCase("normalize", 50000, func(n int) []byte {
		return top("Content-Type: text/plain; charset=utf-8\r\n", strings.Repeat("４\u200b１\u00a0e\u0301ﬁ", n))
	})
	addCostCase("utf-7 body", 50000, func(n int) []byte {
		return top("Content-Type: text/plain; charset=utf-7\r\n", strings.Repeat("+ADQAMQAx-1 +2D3eAA +", n))
	})
	addCostCase("NUL body", 100000, func(n int) []byte {
		return top("", strings.Repeat("4\x00", n))
	})
	addCostCase("part headers", 900, func(n int) []byte {
		return multi("b", bytes.Repeat([]byte("--b\r\nContent-Description: d\r\nX-A: =?utf-8?Q?x?=\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?YQ?=\"\r\n\r\nx\r\n"), n/8+1))
	})
	addCostCase("nested multiparts", 20000, func(n int) []byte {
		inner := strings.Repeat("x", n)
		for i := range 9 {
			b := fmt.Sprintf("b%d", i)
			inner = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + inner + "\r\n--" + b + "--\r\n"
		}
		return []byte("Subject: x\r\n" + inner)
	})
}

// TestIssue7WalkCostCases runs this file's cases by name, so that
// `go test -run Issue7` shows them next to the other issue 7 tests.
func TestIssue7WalkCostCases(t *testing.T) {
	for _, c := range costCases {
		if strings.Contains(c.name, "plain body") {
			continue
		}
		t.Run(c.name, func(t *testing.T) { checkLinear(t, c) })
	}
}
