package config

import (
	"os"
	"reflect"
	"strings"
	"time"
)

// Defaults of the main config, documented in docs/config.md.
const (
	DefaultPassHeaderName  = "X-Filter-Loop"
	DefaultPassHeaderValue = "Reflected"
	// DefaultPassHeaderMaxIncoming and DefaultPassHeaderOnTooMany: see
	// [PassHeader].
	DefaultPassHeaderMaxIncoming = 8
	DefaultPassHeaderOnTooMany   = TooManyReject
	DefaultLogFormat             = LogJSON
	DefaultLogLevel              = LogInfo
	DefaultKeywordWindow         = 300
	DefaultMaxAddedHeaders       = 10
	DefaultShutdownTimeout       = 30 * time.Second

	DefaultSeverity      = SeverityMedium
	DefaultMode          = ModePrevent
	DefaultMinConfidence = ConfidenceMedium
	DefaultWithin        = 300
	DefaultBlockCode     = 550
	DefaultBlockEnhanced = "5.7.1"
	DefaultBlockText     = "message refused by data protection policy {policy} (incident {incident_id})"
	DefaultTempCode      = 451
	DefaultTempEnhanced  = "4.7.1"
	DefaultTempText      = "message deferred by data protection policy {policy} (incident {incident_id})"
	DefaultQuarantine    = "held by data protection policy {policy} (incident {incident_id})"
	DefaultNoticeSubject = "[maildlp] {action}: {subject}"
	DefaultNoticeBody    = `A message was handled by a data protection policy.

Policy:      {policy} ({severity})
Action:      {action}
Incident:    {incident_id}
From:        {sender}
To:          {recipients}
Subject:     {subject}

What was found (masked):
{evidence}

Quote the incident id when you contact the help desk.
`
)

// Limit defaults. policy builds extract.Limits from the loaded values;
// extract.DefaultLimits is only for code that scans without a config.
const (
	DefaultMaxMessageBytes      = 50 << 20
	DefaultMaxParts             = 1000
	DefaultMaxDepth             = 10
	DefaultMaxArchiveMembers    = 1000
	DefaultMaxDecompressedBytes = 200 << 20
	DefaultMaxExpansionRatio    = 100
	DefaultMaxTextBytes         = 20 << 20
	DefaultMaxScanMemory        = 128 << 20
	DefaultSpillBytes           = 1 << 20
	DefaultScanTimeout          = 20 * time.Second
)

// Milter, hop and operational defaults, documented on their fields.
const (
	DefaultMilterListen      = "inet:10030@127.0.0.1"
	DefaultMilterSocketMode  = 0o660
	DefaultMilterMaxSessions = 500
	DefaultMilterWriteTO     = 10 * time.Second
	DefaultMilterProgress    = 2 * time.Second
	DefaultMilterIdle        = time.Hour
	DefaultMilterMaxPacket   = 1 << 20

	DefaultReinjectListen    = "127.0.0.1:10025"
	DefaultReinjectReflectTo = "127.0.0.1:10026"

	DefaultIncidentSync         = SyncInterval
	DefaultIncidentSyncInterval = time.Second
	DefaultNotifyRetryMin       = 30 * time.Second
	DefaultNotifyRetryMax       = 30 * time.Minute
	DefaultNotifyMaxAge         = 5 * 24 * time.Hour
	DefaultNotifyConcurrency    = 4
	DefaultNotifyTimeout        = 2 * time.Minute
	DefaultNotifyMaxQueued      = 100000
	DefaultNotifySender         = NotifyAuthenticatedOrInternal
)

// loopback is the default of every client allowlist: the local host, and
// the MTA itself.
var loopback = []string{"127.0.0.0/8", "::1/128"}

// DefaultTrustedNetworks are the clients whose internal senders notices
// believe by default (see [Notify]).
var DefaultTrustedNetworks = MustNetworks(loopback...)

// defaults is the one table of the main config's defaults: each key path
// of the main config with the value an unset key gets, of the field's
// type. applyDefaults applies it once at load, and config/docs_test.go
// checks docs/config.md, docs/milter.md and docs/reinject.md against it.
// A default that depends on the machine (helo_name: the host name;
// max_concurrent_scans, memory_limit: 0 means computed at start) is not
// in it.
var defaults = []struct {
	key   string
	value any
}{
	{"unscannable", UnscannableQuarantine},
	{"unscannable_exempt_types", []string{"image/*", "audio/*", "video/*", "font/*"}},
	{"shutdown_timeout", Duration(DefaultShutdownTimeout)},

	{"limits.max_message_bytes", ByteSize(DefaultMaxMessageBytes)},
	{"limits.max_parts", DefaultMaxParts},
	{"limits.max_depth", DefaultMaxDepth},
	{"limits.max_archive_members", DefaultMaxArchiveMembers},
	{"limits.max_decompressed_bytes", ByteSize(DefaultMaxDecompressedBytes)},
	{"limits.max_expansion_ratio", int64(DefaultMaxExpansionRatio)},
	{"limits.max_text_bytes", ByteSize(DefaultMaxTextBytes)},
	{"limits.max_scan_memory", ByteSize(DefaultMaxScanMemory)},
	{"limits.scan_timeout", Duration(DefaultScanTimeout)},
	{"limits.max_added_headers", DefaultMaxAddedHeaders},
	{"limits.spill_bytes", ByteSize(DefaultSpillBytes)},

	{"detection.keyword_window", DefaultKeywordWindow},

	{"pass_header.enabled", true},
	{"pass_header.name", DefaultPassHeaderName},
	{"pass_header.value", DefaultPassHeaderValue},
	{"pass_header.max_incoming", DefaultPassHeaderMaxIncoming},
	{"pass_header.on_too_many", DefaultPassHeaderOnTooMany},

	{"log.format", DefaultLogFormat},
	{"log.level", DefaultLogLevel},

	{"incidents.sync", DefaultIncidentSync},
	{"incidents.sync_interval", Duration(DefaultIncidentSyncInterval)},

	{"notify.retry_min", Duration(DefaultNotifyRetryMin)},
	{"notify.retry_max", Duration(DefaultNotifyRetryMax)},
	{"notify.max_age", Duration(DefaultNotifyMaxAge)},
	{"notify.concurrency", DefaultNotifyConcurrency},
	{"notify.timeout", Duration(DefaultNotifyTimeout)},
	{"notify.max_queued", DefaultNotifyMaxQueued},
	{"notify.notify_sender", DefaultNotifySender},
	{"notify.trusted_networks", DefaultTrustedNetworks},

	{"milter.listen", []MilterAddr{MustMilterAddr(DefaultMilterListen)}},
	{"milter.socket_mode", FileMode(DefaultMilterSocketMode)},
	{"milter.max_sessions", DefaultMilterMaxSessions},
	{"milter.write_timeout", Duration(DefaultMilterWriteTO)},
	{"milter.idle_timeout", Duration(DefaultMilterIdle)},
	{"milter.allow", MustNetworks(loopback...)},
	{"milter.progress_interval", Duration(DefaultMilterProgress)},
	{"milter.early_decision", true},
	{"milter.max_packet_bytes", ByteSize(DefaultMilterMaxPacket)},

	{"reinject.listen", MustHostPort(DefaultReinjectListen)},
	{"reinject.allow", MustNetworks(loopback...)},
	{"reinject.mode", HopReflect},
	{"reinject.reflect_to", MustHostPort(DefaultReinjectReflectTo)},
	{"reinject.resolver_timeout", Duration(5 * time.Second)},
	{"reinject.max_connections", 100},
	{"reinject.max_message_bytes", ByteSize(DefaultMaxMessageBytes)},
	{"reinject.max_recipients", 1000},
	{"reinject.max_errors", 20},
	{"reinject.max_line_length", ByteSize(64 << 10)},
	{"reinject.timeouts.command", Duration(5 * time.Minute)},
	{"reinject.timeouts.idle", Duration(time.Minute)},
	{"reinject.timeouts.data", Duration(10 * time.Minute)},
	{"reinject.timeouts.data_idle", Duration(3 * time.Minute)},
	{"reinject.timeouts.write", Duration(time.Minute)},
	{"reinject.timeouts.connect", Duration(30 * time.Second)},
	{"reinject.timeouts.downstream_command", Duration(5 * time.Minute)},
	{"reinject.timeouts.downstream_data", Duration(3 * time.Minute)},
	{"reinject.timeouts.downstream_final", Duration(10 * time.Minute)},
	{"reinject.tls.outbound", TLSOpportunistic},
	{"reinject.bare_newline", BareNewlineReject},
	{"reinject.incoming_pass_header", IncomingPassStrip},
	{"reinject.xforward", true},
	{"reinject.xforward_from", MustNetworks(loopback...)},
	{"reinject.quarantine_action", HopQuarantineTempFail},
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// applyDefaults fills every unset field: the main config from the table,
// then each policy and detector.
func (c *Config) applyDefaults() {
	root := reflect.ValueOf(c).Elem()
	for _, d := range defaults {
		f := fieldByKey(root, d.key)
		if !f.IsZero() {
			continue // set in the file; [] stays empty
		}
		v := reflect.ValueOf(d.value)
		switch {
		case f.Kind() == reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(v)
			f.Set(p)
		case v.Kind() == reflect.Slice:
			f.Set(reflect.AppendSlice(reflect.MakeSlice(v.Type(), 0, v.Len()), v)) // a copy
		default:
			f.Set(v)
		}
	}
	if c.Reinject.HELOName == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		c.Reinject.HELOName = h
	}
	// Sections with defaults of their own kind (paths from a state
	// directory, node names).
	c.Store = c.Store.WithDefaults()
	c.Quarantine = c.Quarantine.WithDefaults()
	for i := range c.Policies {
		c.Policies[i].applyDefaults()
	}
	for i := range c.Detectors {
		setDefault(&c.Detectors[i].Confidence, DefaultMinConfidence)
	}
}

// fieldByKey is the field of the main config at a dotted key path.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	for _, k := range strings.Split(key, ".") {
		i, ok := structFields(v.Type())[k]
		if !ok {
			panic("config: no key " + key)
		}
		v = v.Field(i)
	}
	return v
}

// WithDefaults returns l with every unset limit set to its default, as
// Load does (for a config built in code).
func (l Limits) WithDefaults() Limits {
	c := Config{Limits: l}
	c.applyDefaults()
	return c.Limits
}

// WithDefaults returns m with every unset field set to its default, as
// Load does (for sections built in code, e.g. in tests).
func (m Milter) WithDefaults() Milter {
	c := Config{Milter: m}
	c.applyDefaults()
	return c.Milter
}

// WithDefaults returns r with every unset field set to its default, as
// Load does (for sections built in code, e.g. in tests).
func (r Reinject) WithDefaults() Reinject {
	c := Config{Reinject: r}
	c.applyDefaults()
	return c.Reinject
}

func (p *Policy) applyDefaults() {
	setDefault(&p.Severity, DefaultSeverity)
	setDefault(&p.Mode, DefaultMode)
	p.Rule.applyDefaults()
	if r := p.Block; r != nil {
		setDefault(&r.Code, DefaultBlockCode)
		setDefault(&r.Enhanced, DefaultBlockEnhanced)
		setDefault(&r.Text, DefaultBlockText)
	}
	if r := p.TempFail; r != nil {
		setDefault(&r.Code, DefaultTempCode)
		setDefault(&r.Enhanced, DefaultTempEnhanced)
		setDefault(&r.Text, DefaultTempText)
	}
	if q := p.Quarantine; q != nil {
		setDefault(&q.Reason, DefaultQuarantine)
	}
	if n := p.Notify; n != nil {
		setDefault(&n.Subject, DefaultNoticeSubject)
		setDefault(&n.Body, DefaultNoticeBody)
	}
}

func (c *Condition) applyDefaults() {
	switch c.Kind() {
	case KindDetector, KindProximity:
		setDefault(&c.MinConfidence, DefaultMinConfidence)
		setDefault(&c.MinCount, 1)
		if c.Kind() == KindProximity {
			setDefault(&c.Within, DefaultWithin)
		}
	}
	for _, l := range [][]Condition{c.All, c.Any, c.None} {
		for i := range l {
			l[i].applyDefaults()
		}
	}
}
