package quarantine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Message is one message in an MTA's hold queue.
type Message struct {
	QueueID    string    `json:"queue_id"`
	Arrival    time.Time `json:"arrival_time"`
	Size       int64     `json:"message_size"`
	Sender     string    `json:"sender"`
	Recipients []string  `json:"recipients"`
	// Reason is the hold reason when the MTA keeps one (Sendmail's
	// quarantine reason); Postfix does not show it.
	Reason string `json:"reason,omitempty"`
}

// MTA is the hold queue of one mail transfer agent.
type MTA interface {
	// Kind names the MTA: "postfix" or "sendmail".
	Kind() string
	// Held lists the held messages. A listing that cannot be read whole
	// is an error.
	Held(ctx context.Context) ([]Message, error)
	// Release puts a held message back on its way to its recipients, to
	// be delivered now, without scanning it again. ErrNotHeld when it is
	// not in the hold queue.
	Release(ctx context.Context, queueID string) error
	// Delete removes a held message. ErrNotHeld when it is not in the
	// hold queue.
	Delete(ctx context.Context, queueID string) error
}

var (
	// ErrNotHeld is returned for a queue id that is not in the hold queue.
	ErrNotHeld = errors.New("quarantine: message not in the hold queue")
	// ErrQueueID is returned for a string that is not one queue id.
	ErrQueueID = errors.New("quarantine: invalid queue id")
	// ErrListingTooLarge is returned when a hold queue listing exceeds
	// quarantine.max_listing_bytes.
	ErrListingTooLarge = errors.New("quarantine: hold queue listing too large")
)

// ValidQueueID reports whether id looks like one Postfix or Sendmail queue
// id: 6 to 32 ASCII letters and digits. It keeps "ALL", "-" and option-like
// words away from postsuper and sendmail.
func ValidQueueID(id string) bool {
	if len(id) < 6 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Runner runs one program and returns its standard output. Tests replace
// it with a fake MTA.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs programs with os/exec. Standard output beyond maxOutput
// bytes is an error wrapping ErrListingTooLarge; standard error goes into
// the error text (first 4KiB).
func ExecRunner(maxOutput int64) Runner {
	return func(ctx context.Context, name string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		out := &capped{max: maxOutput}
		errBuf := &capped{max: 4096}
		cmd.Stdout, cmd.Stderr = out, errBuf
		err := cmd.Run()
		if out.over {
			return nil, fmt.Errorf("%s %s: %w (more than %d bytes)", name, strings.Join(args, " "), ErrListingTooLarge, maxOutput)
		}
		if err != nil {
			return out.Bytes(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err,
				strings.TrimSpace(errBuf.String()))
		}
		return out.Bytes(), nil
	}
}

// capped keeps the first max bytes written and notes the excess. The
// buffer is a field, not embedded: an embedded bytes.Buffer would give
// capped a ReadFrom that io.Copy prefers to Write, bypassing the cap.
type capped struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - int64(c.buf.Len()); int64(len(p)) > room {
		c.over = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil // keep the child running to its end, not blocked
	}
	return c.buf.Write(p)
}

func (c *capped) Bytes() []byte  { return c.buf.Bytes() }
func (c *capped) String() string { return c.buf.String() }

// find returns the held message with queue id id.
func find(held []Message, id string) (Message, bool) {
	for _, m := range held {
		if m.QueueID == id {
			return m, true
		}
	}
	return Message{}, false
}
