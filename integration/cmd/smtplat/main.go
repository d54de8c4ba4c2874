// Command smtplat measures per-message SMTP latency: it sends -n messages
// of the file -msg one after another over one connection and reports the
// time from the end of DATA (the final dot) to the server's reply, which
// is where a milter or content proxy spends its time, as p50/p90/p99.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:25", "SMTP server host:port")
	n := flag.Int("n", 200, "messages to send")
	msgFile := flag.String("msg", "", "message file (header and body)")
	from := flag.String("from", "bench@test.example", "envelope sender")
	to := flag.String("to", "sink@ext.example", "envelope recipient")
	label := flag.String("label", "", "label printed with the result")
	flag.Parse()
	if err := run(*addr, *n, *msgFile, *from, *to, *label); err != nil {
		fmt.Fprintln(os.Stderr, "smtplat:", err)
		os.Exit(1)
	}
}

type conn struct {
	c net.Conn
	r *bufio.Reader
}

func (c *conn) reply() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var last string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		last = line
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(last, "\r\n"), nil
		}
	}
}

func (c *conn) cmd(s string, want byte) error {
	c.c.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.c.Write([]byte(s)); err != nil {
		return err
	}
	r, err := c.reply()
	if err != nil {
		return err
	}
	if r[0] != want {
		return fmt.Errorf("%q: %s", strings.TrimSpace(s), r)
	}
	return nil
}

func run(addr string, n int, msgFile, from, to, label string) error {
	raw, err := os.ReadFile(msgFile)
	if err != nil {
		return err
	}
	body := strings.ReplaceAll(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n", "\r\n")
	var stuffed strings.Builder
	for _, l := range strings.SplitAfter(body, "\r\n") {
		if strings.HasPrefix(l, ".") {
			stuffed.WriteByte('.')
		}
		stuffed.WriteString(l)
	}
	if !strings.HasSuffix(body, "\r\n") {
		stuffed.WriteString("\r\n")
	}
	data := stuffed.String()

	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	c := &conn{c: nc, r: bufio.NewReader(nc)}
	if _, err := c.reply(); err != nil {
		return err
	}
	if err := c.cmd("EHLO bench.test.example\r\n", '2'); err != nil {
		return err
	}
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if err := c.cmd("MAIL FROM:<"+from+">\r\n", '2'); err != nil {
			return err
		}
		if err := c.cmd("RCPT TO:<"+to+">\r\n", '2'); err != nil {
			return err
		}
		if err := c.cmd("DATA\r\n", '3'); err != nil {
			return err
		}
		c.c.SetWriteDeadline(time.Now().Add(60 * time.Second))
		if _, err := c.c.Write([]byte(data)); err != nil {
			return err
		}
		start := time.Now()
		if err := c.cmd(".\r\n", '2'); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	c.cmd("QUIT\r\n", '2')
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	fmt.Printf("%s n=%d p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n", label, n, q(0.50), q(0.90), q(0.99), q(1))
	return nil
}
