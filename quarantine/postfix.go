package quarantine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Postfix is the hold queue of one Postfix instance. Messages held by the
// milter's SMFIR_QUARANTINE (or a HOLD action of header_checks) wait there
// until released.
type Postfix struct {
	// ConfigDir is the instance's configuration directory (postqueue and
	// postsuper -c); "" is the default instance.
	ConfigDir string
	// BinDir holds postqueue and postsuper; "" looks on PATH, then in
	// /usr/sbin.
	BinDir string
	// MaxListing bounds the output of postqueue -j in bytes.
	MaxListing int64
	// Run runs the programs; nil is ExecRunner(MaxListing).
	Run Runner
}

// Kind returns "postfix".
func (p *Postfix) Kind() string { return "postfix" }

func (p *Postfix) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	if p.ConfigDir != "" {
		args = append([]string{"-c", p.ConfigDir}, args...)
	}
	run := p.Run
	if run == nil {
		run = ExecRunner(p.maxListing())
	}
	return run(ctx, p.path(prog), args...)
}

func (p *Postfix) maxListing() int64 {
	if p.MaxListing > 0 {
		return p.MaxListing
	}
	return 64 << 20
}

func (p *Postfix) path(prog string) string {
	if p.BinDir != "" {
		return filepath.Join(p.BinDir, prog)
	}
	if _, err := exec.LookPath(prog); err != nil {
		if _, err := os.Stat("/usr/sbin/" + prog); err == nil {
			return "/usr/sbin/" + prog
		}
	}
	return prog
}

// Held lists the hold queue (postqueue -j, keeping queue_name "hold").
func (p *Postfix) Held(ctx context.Context) ([]Message, error) {
	all, err := p.queue(ctx)
	if err != nil {
		return nil, err
	}
	var held []Message
	for _, e := range all {
		if e.queue == "hold" {
			held = append(held, e.Message)
		}
	}
	return held, nil
}

func (p *Postfix) queue(ctx context.Context) ([]queued, error) {
	out, err := p.run(ctx, "postqueue", "-j")
	if err != nil {
		return nil, err
	}
	return parsePostqueue(bytes.NewReader(out), p.maxListing())
}

// Release moves the message from the hold queue to the deferred queue
// (postsuper -H) and asks for its delivery now (postqueue -i). The
// message is not scanned again: the milter runs when smtpd receives
// mail, and cleanup (with header_checks and non_smtpd_milters) is not
// run for a message that leaves the hold queue, so the verdict that held
// it cannot hold it again.
func (p *Postfix) Release(ctx context.Context, queueID string) error {
	if err := p.mustHold(ctx, queueID); err != nil {
		return err
	}
	if _, err := p.run(ctx, "postsuper", "-H", queueID); err != nil {
		return err
	}
	if err := p.gone(ctx, queueID); err != nil {
		return fmt.Errorf("postsuper -H %s: %w", queueID, err)
	}
	// Without this the deferred queue scan (queue_run_delay, 300s by
	// default) would deliver it; a failure here delays, never loses it.
	if _, err := p.run(ctx, "postqueue", "-i", queueID); err != nil {
		return fmt.Errorf("released, delivery at the next queue run: %w", errScheduled{err})
	}
	return nil
}

// errScheduled marks a release that worked but whose immediate delivery
// could not be asked for.
type errScheduled struct{ err error }

func (e errScheduled) Error() string { return e.err.Error() }

// Released reports whether err, returned by Release, still means the
// message left the hold queue.
func Released(err error) bool {
	var s errScheduled
	return err == nil || errors.As(err, &s)
}

// Delete removes the message from the hold queue (postsuper -d ID hold:
// restricted to the hold queue, so that a wrong id cannot remove mail
// waiting elsewhere).
func (p *Postfix) Delete(ctx context.Context, queueID string) error {
	if err := p.mustHold(ctx, queueID); err != nil {
		return err
	}
	if _, err := p.run(ctx, "postsuper", "-d", queueID, "hold"); err != nil {
		return err
	}
	if err := p.gone(ctx, queueID); err != nil {
		return fmt.Errorf("postsuper -d %s hold: %w", queueID, err)
	}
	return nil
}

func (p *Postfix) mustHold(ctx context.Context, queueID string) error {
	if !ValidQueueID(queueID) {
		return fmt.Errorf("%w %q", ErrQueueID, queueID)
	}
	held, err := p.Held(ctx)
	if err != nil {
		return err
	}
	if _, ok := find(held, queueID); !ok {
		return fmt.Errorf("%s: %w", queueID, ErrNotHeld)
	}
	return nil
}

// gone checks that postsuper did its work: postsuper reports ids it did
// not find only in its log, and exits 0.
func (p *Postfix) gone(ctx context.Context, queueID string) error {
	held, err := p.Held(ctx)
	if err != nil {
		return err
	}
	if _, ok := find(held, queueID); ok {
		return errors.New("the message is still in the hold queue")
	}
	return nil
}

// queued is one message of postqueue -j with its queue name.
type queued struct {
	Message
	queue string
}

// postqueueEntry is the JSON object of one line of postqueue -j
// (Postfix 3.1 and later). Unknown fields are ignored.
type postqueueEntry struct {
	QueueName   string `json:"queue_name"`
	QueueID     string `json:"queue_id"`
	ArrivalTime int64  `json:"arrival_time"`
	MessageSize int64  `json:"message_size"`
	Sender      string `json:"sender"`
	Recipients  []struct {
		Address string `json:"address"`
	} `json:"recipients"`
}

// queueNames are the queues showq reports.
var queueNames = map[string]bool{"maildrop": true, "incoming": true, "active": true, "deferred": true, "hold": true, "corrupt": true}

// ParsePostqueue reads the output of postqueue -j (one JSON object per
// line) and returns the messages of the hold queue. Every line must be
// one valid object with a known queue name and a valid queue id; a line
// longer than maxLine bytes, or anything else, fails the whole listing.
func ParsePostqueue(r io.Reader, maxLine int64) ([]Message, error) {
	all, err := parsePostqueue(r, maxLine)
	if err != nil {
		return nil, err
	}
	var held []Message
	for _, e := range all {
		if e.queue == "hold" {
			held = append(held, e.Message)
		}
	}
	return held, nil
}

func parsePostqueue(r io.Reader, maxLine int64) ([]queued, error) {
	if maxLine <= 0 || maxLine > 1<<30 {
		maxLine = 64 << 20
	}
	var out []queued
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), int(maxLine))
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e postqueueEntry
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("postqueue -j line %d: %v", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("postqueue -j line %d: more than one object", line)
		}
		if !queueNames[e.QueueName] {
			return nil, fmt.Errorf("postqueue -j line %d: unknown queue name %q", line, e.QueueName)
		}
		if !ValidQueueID(e.QueueID) {
			return nil, fmt.Errorf("postqueue -j line %d: %w %q", line, ErrQueueID, e.QueueID)
		}
		m := Message{QueueID: e.QueueID, Size: e.MessageSize, Sender: e.Sender, Recipients: []string{}}
		if e.ArrivalTime > 0 {
			m.Arrival = time.Unix(e.ArrivalTime, 0).UTC()
		}
		for _, rc := range e.Recipients {
			m.Recipients = append(m.Recipients, rc.Address)
		}
		out = append(out, queued{Message: m, queue: e.QueueName})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("postqueue -j line %d: %w (a line over %d bytes)", line+1, ErrListingTooLarge, maxLine)
		}
		return nil, fmt.Errorf("postqueue -j: %w", err)
	}
	return out, nil
}

var _ MTA = (*Postfix)(nil)
