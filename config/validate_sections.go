package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Validation of the front-end and operational sections, after defaults.
// Every problem goes through the same reporter as the rest of the file
// (source.errorf), so it names the line of the key it is about.

func (s *source) validateMilter(m *Milter) {
	p := keyPath{}.with("milter")
	if m.MaxSessions < 0 {
		s.errorf(p.with("max_sessions"), "%d: must not be negative", m.MaxSessions)
	}
	if o := m.SocketOwner; o != "" && (strings.Count(o, ":") > 1 || o == ":") {
		s.errorf(p.with("socket_owner"), "%q: want user, user:group or :group", o)
	}
}

func (l *loader) validateReinject(s *source, r *Reinject) {
	p := keyPath{}.with("reinject")
	if r.Mode == HopForward && len(r.NextHops) == 0 {
		s.errorf(p.with("next_hops"), "forward mode needs at least one next hop")
	}
	if strings.ContainsAny(r.HELOName, " \t\r\n") {
		s.errorf(p.with("helo_name"), "%q contains white space", r.HELOName)
	}
	if r.MaxConnections < 0 {
		s.errorf(p.with("max_connections"), "must not be negative")
	}
	if r.MaxRecipients < 0 {
		s.errorf(p.with("max_recipients"), "must not be negative")
	}
	if r.MaxErrors < 0 {
		s.errorf(p.with("max_errors"), "must not be negative")
	}
	if r.MaxMessageBytes < 0 || r.MaxMessageBytes > 1<<32-1 {
		s.errorf(p.with("max_message_bytes"), "must be between 1 and 4GiB-1")
	}
	if r.MaxLineLength < 1000 {
		s.errorf(p.with("max_line_length"), "must be at least 1000 (RFC 5321)")
	}
	if strings.ContainsAny(r.QuarantineTo, "<> \t\r\n") {
		s.errorf(p.with("quarantine_to"), "%q is not a bare address", r.QuarantineTo)
	}
	l.loadTLS(s, p.with("tls"), &r.TLS)
}

// loadTLS reads the hop's certificate and trust store, so that a missing
// or broken file is a config error at load (and at reload) rather than a
// start-up failure, and the hop never reads them itself.
func (l *loader) loadTLS(s *source, p keyPath, t *ReinjectTLS) {
	for _, e := range t.load(l.read) {
		s.errorf(p.with(e.key...), "%v", e.err)
	}
}

// Load reads CertFile, KeyFile and CAFile into Certificate and Roots, as
// Load does for a config file (for sections built in code, e.g. in tests).
func (t *ReinjectTLS) Load() error {
	var errs []error
	for _, e := range t.load(os.ReadFile) {
		errs = append(errs, fmt.Errorf("reinject.tls.%s: %w", strings.Join(e.key, "."), e.err))
	}
	return errors.Join(errs...)
}

// tlsProblem is an error of one TLS setting (key nil: the section).
type tlsProblem struct {
	key []string
	err error
}

// load reads the TLS files and returns every problem found.
func (t *ReinjectTLS) load(read func(string) ([]byte, error)) []tlsProblem {
	var out []tlsProblem
	bad := func(key string, format string, args ...any) {
		p := tlsProblem{err: fmt.Errorf(format, args...)}
		if key != "" {
			p.key = []string{key}
		}
		out = append(out, p)
	}
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		bad("", "cert_file and key_file go together")
	case t.CertFile != "":
		cert, cerr := read(t.CertFile)
		key, kerr := read(t.KeyFile)
		if cerr != nil {
			bad("cert_file", "read: %v", unwrapPath(cerr))
		}
		if kerr != nil {
			bad("key_file", "read: %v", unwrapPath(kerr))
		}
		if cerr != nil || kerr != nil {
			break
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			bad("cert_file", "load certificate and key: %v", err)
			break
		}
		t.Certificate = &pair
	}
	if t.CAFile != "" {
		b, err := read(t.CAFile)
		roots := x509.NewCertPool()
		switch {
		case err != nil:
			bad("ca_file", "read: %v", unwrapPath(err))
		case !roots.AppendCertsFromPEM(b):
			bad("ca_file", "%s: no PEM certificate", t.CAFile)
		default:
			t.Roots = roots
		}
	}
	return out
}

func (s *source) validateNotify(n *Notify) {
	p := keyPath{}.with("notify")
	if !n.Relay.IsZero() && n.OutboxDir == "" {
		s.errorf(p.with("outbox_dir"), "must be set when notify.relay is (notices are queued there first)")
	}
	if !n.Relay.IsZero() && n.From == "" {
		s.errorf(p.with("from"), "must be set when notify.relay is")
	}
	if a := n.From; a != "" {
		if err := checkAddress(a); err != nil {
			s.errorf(p.with("from"), "%v", err)
		}
	}
	if n.RetryMax < n.RetryMin {
		s.errorf(p.with("retry_max"), "%s is shorter than retry_min %s", n.RetryMax.D(), n.RetryMin.D())
	}
	if n.MaxQueued < 1 {
		s.errorf(p.with("max_queued"), "%d must be at least 1", n.MaxQueued)
	}
	if n.Concurrency < 1 || n.Concurrency > 100 {
		s.errorf(p.with("concurrency"), "%d out of range (want 1 to 100)", n.Concurrency)
	}
}
