package outbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// result is the outcome of one delivery attempt.
type result struct {
	err       error // nil: the relay answered 250 to the end of data
	permanent bool  // 5xx: retrying the same message will not help
	aborted   bool  // stopped by shutdown before the end of data was sent
	accepted  []string
	refused   []refusal
}

type refusal struct {
	rcpt string
	err  error
}

// send makes one SMTP delivery attempt of st to the relay. Shutdown (ctx)
// closes the connection only while the end of data has not been sent, so
// a cancelled attempt never leaves the relay holding a message we think
// is unsent.
func send(ctx context.Context, o Options, st stored) (res result) {
	if o.Relay == "" {
		return result{err: errors.New("no relay configured (notify.relay)")}
	}
	deadline := time.Now().Add(o.Timeout)
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", o.Relay)
	if err != nil {
		if ctx.Err() != nil {
			return result{aborted: true}
		}
		return result{err: fmt.Errorf("connect %s: %w", o.Relay, err)}
	}
	conn.SetDeadline(deadline)

	var mu sync.Mutex
	dotSent, cancelled := false, false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !dotSent {
			cancelled = true
			conn.Close()
		}
	})
	defer stop()
	defer func() {
		mu.Lock()
		if cancelled && res.err != nil {
			res = result{aborted: true}
		}
		mu.Unlock()
	}()

	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout = o.Timeout
	c.SubmissionTimeout = o.Timeout
	if err := c.Hello(o.HELOName); err != nil {
		return classify("EHLO", err)
	}
	if err := c.Mail(st.From, nil); err != nil {
		return classify("MAIL FROM", err)
	}
	for _, rcpt := range st.To {
		err := c.Rcpt(rcpt, nil)
		if err == nil {
			res.accepted = append(res.accepted, rcpt)
			continue
		}
		r := classify("RCPT TO:<"+rcpt+">", err)
		if !r.permanent {
			// One recipient deferred: deliver nothing now and retry the
			// whole notice, so that no recipient gets it twice.
			c.Reset()
			return r
		}
		res.refused = append(res.refused, refusal{rcpt, r.err})
	}
	if len(res.accepted) == 0 {
		return result{err: fmt.Errorf("relay refused every recipient: %v", res.refused[0].err), permanent: true, refused: res.refused}
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write([]byte(st.Message)); err != nil {
		return classify("DATA", err)
	}
	mu.Lock()
	if cancelled {
		mu.Unlock()
		return result{aborted: true}
	}
	dotSent = true
	mu.Unlock()
	if err := w.Close(); err != nil {
		r := classify("end of data", err)
		r.refused = res.refused
		return r
	}
	c.Quit()
	return res
}

// classify turns an SMTP client error into a result: 5xx is permanent,
// 4xx and network errors are temporary.
func classify(stage string, err error) result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return result{
			err:       fmt.Errorf("%s: %d %s", stage, se.Code, strings.TrimSpace(se.Message)),
			permanent: se.Code >= 500 && se.Code < 600,
		}
	}
	return result{err: fmt.Errorf("%s: %w", stage, err)}
}
