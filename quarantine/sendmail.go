package quarantine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Sendmail is the quarantine queue of Sendmail 8.13 and later. A message
// quarantined by a milter (smfi_quarantine) keeps its data file (df) and
// gets a control file named hf instead of qf; queue runs skip it.
//
//   - list:    sendmail -bp -qQ (mailq -qQ)
//   - release: sendmail -qQ -qI<id> -Q   (an empty -Q removes the
//     quarantine), then sendmail -qI<id> to deliver it now
//   - delete:  remove hf<id> and df<id> from the queue directory, under
//     the lock Sendmail itself takes on the control file
//
// -qI matches a substring of the queue id, so Release and Delete refuse an
// id that is part of another held message's id.
type Sendmail struct {
	// Path is the sendmail program; default /usr/sbin/sendmail.
	Path string
	// QueueDir is the queue directory (QueueDirectory), default
	// /var/spool/mqueue. With separate qf/ and df/ subdirectories (or
	// queue groups' subdirectories) the files are looked for in each.
	QueueDir string
	// MaxListing bounds the output of mailq -qQ in bytes.
	MaxListing int64
	// Run runs the programs; nil is ExecRunner(MaxListing).
	Run Runner
	// Now is the clock used to give mailq's dates (which have no year)
	// their year; nil is time.Now.
	Now func() time.Time
}

// Kind returns "sendmail".
func (s *Sendmail) Kind() string { return "sendmail" }

func (s *Sendmail) run(ctx context.Context, args ...string) ([]byte, error) {
	run := s.Run
	if run == nil {
		run = ExecRunner(s.maxListing())
	}
	path := s.Path
	if path == "" {
		path = "/usr/sbin/sendmail"
	}
	return run(ctx, path, args...)
}

func (s *Sendmail) maxListing() int64 {
	if s.MaxListing > 0 {
		return s.MaxListing
	}
	return 64 << 20
}

// Held lists the quarantine queue.
func (s *Sendmail) Held(ctx context.Context) ([]Message, error) {
	out, err := s.run(ctx, "-bp", "-qQ")
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return ParseMailq(bytes.NewReader(out), s.maxListing(), now())
}

func (s *Sendmail) mustHold(ctx context.Context, queueID string) error {
	if !ValidQueueID(queueID) {
		return fmt.Errorf("%w %q", ErrQueueID, queueID)
	}
	held, err := s.Held(ctx)
	if err != nil {
		return err
	}
	if _, ok := find(held, queueID); !ok {
		return fmt.Errorf("%s: %w", queueID, ErrNotHeld)
	}
	for _, m := range held {
		if m.QueueID != queueID && strings.Contains(m.QueueID, queueID) {
			return fmt.Errorf("quarantine: queue id %s is part of %s: sendmail -qI would select both", queueID, m.QueueID)
		}
	}
	return nil
}

// Release removes the quarantine and runs the message now.
func (s *Sendmail) Release(ctx context.Context, queueID string) error {
	if err := s.mustHold(ctx, queueID); err != nil {
		return err
	}
	if _, err := s.run(ctx, "-qQ", "-qI"+queueID, "-Q"); err != nil {
		return err
	}
	held, err := s.Held(ctx)
	if err != nil {
		return err
	}
	if _, ok := find(held, queueID); ok {
		return fmt.Errorf("sendmail -Q %s: the message is still quarantined", queueID)
	}
	if _, err := s.run(ctx, "-qI"+queueID); err != nil {
		return fmt.Errorf("released, delivery at the next queue run: %w", errScheduled{err})
	}
	return nil
}

// Delete removes the quarantined message's control and data files.
func (s *Sendmail) Delete(ctx context.Context, queueID string) error {
	if err := s.mustHold(ctx, queueID); err != nil {
		return err
	}
	dir := s.QueueDir
	if dir == "" {
		dir = "/var/spool/mqueue"
	}
	hf := findFile(dir, "hf"+queueID)
	if hf == "" {
		return fmt.Errorf("%s: hf%s not found under %s: %w", queueID, queueID, dir, ErrNotHeld)
	}
	f, err := os.OpenFile(hf, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("delete %s: %w", queueID, err)
	}
	defer f.Close()
	// Sendmail locks a control file while it works on it; a message being
	// processed is left alone.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("delete %s: control file locked by sendmail, try again: %w", queueID, err)
	}
	// The control file goes first: a data file without one is cleaned up
	// by sendmail, a control file without data would be a broken job.
	if err := os.Remove(hf); err != nil {
		return fmt.Errorf("delete %s: %w", queueID, err)
	}
	if df := findFile(dir, "df"+queueID); df != "" {
		if err := os.Remove(df); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete %s: data file: %w", queueID, err)
		}
	}
	return nil
}

// findFile looks for name in dir and in its qf/ and df/ subdirectories
// (and one level of queue group directories with those).
func findFile(dir, name string) string {
	cands := []string{filepath.Join(dir, name), filepath.Join(dir, "qf", name), filepath.Join(dir, "df", name)}
	if subs, err := filepath.Glob(filepath.Join(dir, "*", "qf", name)); err == nil {
		cands = append(cands, subs...)
	}
	if subs, err := filepath.Glob(filepath.Join(dir, "*", "df", name)); err == nil {
		cands = append(cands, subs...)
	}
	for _, c := range cands {
		if fi, err := os.Lstat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

// ParseMailq reads the listing of mailq -qQ (sendmail -bp -qQ):
//
//	                /var/spool/mqueue (1 request)
//	-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
//	5B3Lr1Ab012345     1234 Fri Mar 20 15:46 <alice@example.com>
//	     QUARANTINE: held by data protection policy PCI
//	                                         <bob@example.net>
//	                Total requests: 1
//
// A job line starts in the first column with a queue id (and perhaps a
// status character); indented lines that follow give the quarantine
// reason, a delivery error in parentheses, or a recipient. now gives the
// dates, which have no year, their year. A job line that does not parse
// fails the listing.
func ParseMailq(r io.Reader, maxLine int64, now time.Time) ([]Message, error) {
	if maxLine <= 0 || maxLine > 1<<30 {
		maxLine = 64 << 20
	}
	var out []Message
	var cur *Message
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), int(maxLine))
	line := 0
	for sc.Scan() {
		line++
		raw := strings.TrimRight(sc.Text(), " \t\r")
		text := strings.TrimSpace(raw)
		switch {
		case text == "":
		case mailqJobLine(raw):
			// Before the headings: mailq cuts the sender to its column,
			// so the sender chooses how a job line ends ("... is empty").
			m, err := parseMailqJob(text, now)
			if err != nil {
				return nil, fmt.Errorf("mailq -qQ line %d: %w", line, err)
			}
			out = append(out, m)
			cur = &out[len(out)-1]
		case strings.HasPrefix(text, "-----Q-ID"), strings.HasPrefix(text, "Total requests:"),
			strings.HasSuffix(text, " is empty"), strings.HasSuffix(text, "requests)"), strings.HasSuffix(text, "request)"):
			// Headings and counts.
		case raw[0] != ' ' && raw[0] != '\t':
			m, err := parseMailqJob(text, now)
			if err != nil {
				return nil, fmt.Errorf("mailq -qQ line %d: %w", line, err)
			}
			out = append(out, m)
			cur = &out[len(out)-1]
		case cur == nil:
			return nil, fmt.Errorf("mailq -qQ line %d: indented line before any job", line)
		case strings.HasPrefix(text, "QUARANTINE:"):
			cur.Reason = strings.TrimSpace(strings.TrimPrefix(text, "QUARANTINE:"))
		case strings.HasPrefix(text, "("):
			// The last delivery error; not needed to release.
		default:
			cur.Recipients = append(cur.Recipients, strings.Trim(text, "<>"))
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("mailq -qQ line %d: %w (a line over %d bytes)", line+1, ErrListingTooLarge, maxLine)
		}
		return nil, fmt.Errorf("mailq -qQ: %w", err)
	}
	return out, nil
}

// mailqJobLine reports whether a listing line is a job line: in the
// first column, a queue id (perhaps with a status character).
func mailqJobLine(raw string) bool {
	if raw == "" || raw[0] == ' ' || raw[0] == '\t' {
		return false
	}
	id := raw
	if k := strings.IndexAny(raw, " \t"); k >= 0 {
		id = raw[:k]
	}
	return ValidQueueID(strings.TrimRight(id, "*X-"))
}

// parseMailqJob parses "ID[status] SIZE Www Mmm DD HH:MM <sender>".
func parseMailqJob(text string, now time.Time) (Message, error) {
	f := strings.Fields(text)
	if len(f) < 6 {
		return Message{}, fmt.Errorf("job line %q: want id, size, date and sender", text)
	}
	id := strings.TrimRight(f[0], "*X-")
	if !ValidQueueID(id) {
		return Message{}, fmt.Errorf("%w %q", ErrQueueID, f[0])
	}
	m := Message{QueueID: id, Recipients: []string{}}
	var size int64
	for _, c := range f[1] {
		if c < '0' || c > '9' || size > 1<<50 {
			return Message{}, fmt.Errorf("job %s: size %q is not a number", id, f[1])
		}
		size = size*10 + int64(c-'0')
	}
	m.Size = size
	if t, err := time.Parse("Jan 2 15:04 2006", strings.Join(f[3:6], " ")+" "+fmt.Sprint(now.Year())); err == nil {
		if t.After(now.Add(24 * time.Hour)) { // December's mail listed in January
			t = t.AddDate(-1, 0, 0)
		}
		m.Arrival = t
	}
	if len(f) > 6 {
		m.Sender = strings.Trim(strings.Join(f[6:], " "), "<>")
	}
	return m, nil
}

var _ MTA = (*Sendmail)(nil)
