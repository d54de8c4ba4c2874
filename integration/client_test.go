package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Reply is one SMTP reply as the client saw it, all lines kept.
type Reply struct {
	Code  int
	Lines []string // text after "NNN-" / "NNN "
	Err   error    // I/O error instead of a reply
}

// Text joins the reply lines with a space.
func (r Reply) Text() string { return strings.Join(r.Lines, " ") }

func (r Reply) String() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Code, strings.Join(r.Lines, " | "))
}

// Class is the first digit of the code (2, 3, 4, 5), 0 on I/O error.
func (r Reply) Class() int { return r.Code / 100 }

// Client is a minimal SMTP client that keeps every reply verbatim, so tests
// see exactly what a real client would.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	Ext  map[string]string // EHLO keywords
}

// Dial connects to addr and reads the greeting.
func Dial(addr string) (*Client, Reply) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, Reply{Err: err}
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	return c, c.read()
}

func (c *Client) read() Reply { return c.readWithin(120 * time.Second) }

// readWithin reads one reply, waiting at most d.
func (c *Client) readWithin(d time.Duration) Reply {
	c.conn.SetReadDeadline(time.Now().Add(d))
	var rep Reply
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return Reply{Err: err}
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 {
			return Reply{Err: fmt.Errorf("short reply line %q", line)}
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return Reply{Err: fmt.Errorf("bad reply line %q", line)}
		}
		rep.Code = code
		more := len(line) > 3 && line[3] == '-'
		if len(line) > 4 {
			rep.Lines = append(rep.Lines, line[4:])
		} else {
			rep.Lines = append(rep.Lines, "")
		}
		if !more {
			return rep
		}
	}
}

// Raw writes s as is and returns the next reply.
func (c *Client) Raw(s string) Reply {
	c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write([]byte(s)); err != nil {
		return Reply{Err: err}
	}
	return c.read()
}

// Write writes s without reading a reply.
func (c *Client) Write(s string) error {
	c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.conn.Write([]byte(s))
	return err
}

// Read reads one reply.
func (c *Client) Read() Reply { return c.read() }

// Cmd sends one command line and reads the reply.
func (c *Client) Cmd(format string, args ...any) Reply {
	return c.Raw(fmt.Sprintf(format, args...) + "\r\n")
}

// Ehlo sends EHLO and records the extensions.
func (c *Client) Ehlo(name string) Reply {
	r := c.Cmd("EHLO %s", name)
	c.Ext = map[string]string{}
	if r.Code == 250 {
		for _, l := range r.Lines[1:] {
			k, v, _ := strings.Cut(l, " ")
			c.Ext[strings.ToUpper(k)] = v
		}
	}
	return r
}

// StartTLS upgrades the connection.
func (c *Client) StartTLS(cfg *tls.Config) Reply {
	r := c.Cmd("STARTTLS")
	if r.Code != 220 {
		return r
	}
	tc := tls.Client(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return Reply{Err: err}
	}
	tc.SetDeadline(time.Time{})
	c.conn = tc
	c.r = bufio.NewReader(tc)
	return r
}

// Close sends QUIT (best effort) and closes the connection.
func (c *Client) Close() {
	if c == nil {
		return
	}
	c.conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c.conn, "QUIT\r\n")
	c.read()
	c.conn.Close()
}

// Result is the outcome of one SendMail transaction.
type Result struct {
	Stage string // the stage whose reply ended the transaction: connect, ehlo, mail, rcpt, data, dot
	Rcpt  []Reply
	Final Reply // the reply that ended it (the end-of-data reply on success)
}

func (r Result) String() string { return r.Stage + ": " + r.Final.String() }

// SendMail runs one transaction on a new connection. msg has CRLF line
// ends; dot-stuffing is applied here.
func SendMail(addr, from string, to []string, msg []byte) Result {
	c, greet := Dial(addr)
	if c == nil || greet.Code != 220 {
		if c != nil {
			c.Close()
		}
		return Result{Stage: "connect", Final: greet}
	}
	defer c.Close()
	return c.Send(from, to, msg)
}

// Send runs one transaction on an open, greeted connection.
func (c *Client) Send(from string, to []string, msg []byte) Result {
	if c.Ext == nil {
		if r := c.Ehlo("client.test.example"); r.Code != 250 {
			return Result{Stage: "ehlo", Final: r}
		}
	}
	if r := c.Cmd("MAIL FROM:<%s>", from); r.Code != 250 {
		return Result{Stage: "mail", Final: r}
	}
	res := Result{}
	ok := 0
	for _, rcpt := range to {
		r := c.Cmd("RCPT TO:<%s>", rcpt)
		res.Rcpt = append(res.Rcpt, r)
		if r.Class() == 2 {
			ok++
		}
	}
	if ok == 0 {
		c.Cmd("RSET")
		res.Stage = "rcpt"
		res.Final = res.Rcpt[len(res.Rcpt)-1]
		return res
	}
	if r := c.Cmd("DATA"); r.Code != 354 {
		res.Stage, res.Final = "data", r
		return res
	}
	res.Stage, res.Final = "dot", c.Raw(dotStuff(msg)+".\r\n")
	return res
}

func dotStuff(msg []byte) string {
	s := string(msg)
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	lines := strings.SplitAfter(s, "\r\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(l)
	}
	return b.String()
}

// Msg builds a test message with CRLF line ends and a unique Message-ID.
type Msg struct {
	ID      string // Message-ID without brackets; generated when empty
	From    string
	To      []string
	Subject string
	Body    string
	Headers []string // extra "Name: value" lines
}

var msgSeq atomic.Int64

// Bytes renders the message.
func (m Msg) Bytes() []byte {
	if m.ID == "" {
		m.ID = fmt.Sprintf("%d.%d@client.test.example", time.Now().UnixNano(), msgSeq.Add(1))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: <%s>\r\n", m.From)
	fmt.Fprintf(&b, "To: %s\r\n", "<"+strings.Join(m.To, ">, <")+">")
	fmt.Fprintf(&b, "Subject: %s\r\n", m.Subject)
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.ID)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
	for _, h := range m.Headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	if !strings.HasSuffix(m.Body, "\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// newID returns a fresh Message-ID (without brackets).
func newID(tag string) string {
	return fmt.Sprintf("%s.%d.%d@client.test.example", tag, time.Now().UnixNano(), msgSeq.Add(1))
}

// withID matches a delivered message by Message-ID.
func withID(id string) func(Delivered) bool {
	return func(d Delivered) bool { return d.Header("Message-Id") == "<"+id+">" }
}
