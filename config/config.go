package config

import "runtime"

// Config is the main configuration (/etc/maildlp/maildlp.toml). Policy
// files are listed in it and may also be written inline as [[policy]].
type Config struct {
	// PolicyFiles are TOML files with [[policy]] and [[detector]] tables,
	// relative to the config file's directory. A name with *, ? or [ is a
	// pattern ("policies/*.toml"): its matches load in name order, and no
	// match is an error.
	PolicyFiles []string `toml:"policy_files"`
	// TrialMode makes every policy behave as monitor: nothing is enforced,
	// every incident is logged with what would have happened.
	TrialMode bool `toml:"trial_mode"`
	// InternalDomains decide the direction of a message (internal/outbound).
	InternalDomains []string `toml:"internal_domains"`
	// Unscannable is the outcome applied when content cannot be scanned and
	// no policy has an unscannable condition that covers it: "pass",
	// "quarantine" (default), "tempfail" or "block".
	Unscannable UnscannableOutcome `toml:"unscannable"`
	// UnscannableExemptTypes are detected MIME types (globs) whose
	// "unsupported" content (no text to extract: pictures, sound, fonts)
	// does not trigger the Unscannable outcome. It is still listed in the
	// verdict and policies can still match it. Default image/*, audio/*,
	// video/*, font/*; [] makes every unsupported part count.
	UnscannableExemptTypes []string `toml:"unscannable_exempt_types"`

	Detection Detection `toml:"detection"`

	Limits     Limits     `toml:"limits"`
	PassHeader PassHeader `toml:"pass_header"`
	Failure    Failure    `toml:"failure"`
	Log        Log        `toml:"log"`
	Incidents  Incidents  `toml:"incidents"`
	Store      Store      `toml:"store"`
	Notify     Notify     `toml:"notify"`
	Metrics    Metrics    `toml:"metrics"`
	Milter     Milter     `toml:"milter"`
	Reinject   Reinject   `toml:"reinject"`
	Console    Console    `toml:"console"`

	// Quarantine is the quarantine workflow next to this node's MTA.
	Quarantine QuarantineQueue `toml:"quarantine"`

	// ShutdownTimeout bounds how long SIGTERM waits for in-flight sessions
	// to finish before closing them, default 30s.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`

	// Policies and Detectors hold the inline and loaded policy definitions.
	Policies  []Policy   `toml:"policy"`
	Detectors []Detector `toml:"detector"`

	// Path is the file this config was loaded from ("" for the embedded default).
	Path string `toml:"-"`
}

// Limits bound the work done on one message; see policy/extract.Limits.
type Limits struct {
	MaxMessageBytes      ByteSize `toml:"max_message_bytes"`      // default 50MiB
	MaxParts             int      `toml:"max_parts"`              // default 1000
	MaxDepth             int      `toml:"max_depth"`              // default 10 (MIME and archives)
	MaxArchiveMembers    int      `toml:"max_archive_members"`    // default 1000
	MaxDecompressedBytes ByteSize `toml:"max_decompressed_bytes"` // default 200MiB
	MaxExpansionRatio    int64    `toml:"max_expansion_ratio"`    // default 100
	MaxTextBytes         ByteSize `toml:"max_text_bytes"`         // default 20MiB
	MaxScanMemory        ByteSize `toml:"max_scan_memory"`        // default 128MiB: buffers one scan holds at once
	ScanTimeout          Duration `toml:"scan_timeout"`           // default 20s
	// MaxAddedHeaders bounds the headers one policy's modify response adds.
	MaxAddedHeaders int `toml:"max_added_headers"` // default 10

	// MaxConcurrentScans bounds the scans running at once in the process,
	// across both front ends. A message waits for a free slot within its
	// scan_timeout; a slot is given back only when its scan has returned,
	// not when a front end stopped waiting for it. 0: GOMAXPROCS, at least
	// 2 (see [Limits.ScanSlots]).
	MaxConcurrentScans int `toml:"max_concurrent_scans"`
	// MemoryLimit is the process's soft memory limit (the Go runtime's
	// GOMEMLIMIT): near it the garbage collector works harder instead of
	// letting the heap grow. 0: three quarters of the cgroup's memory.max
	// (systemd MemoryMax=) when there is one, else 1GiB. The GOMEMLIMIT
	// environment variable wins over it.
	MemoryLimit ByteSize `toml:"memory_limit"`
	// SpillBytes is how much of one message a front end holds in memory
	// while it arrives; the rest goes to an unlinked temporary file in
	// SpillDir ("": $TMPDIR, else /tmp) that the engine reads back.
	SpillBytes ByteSize `toml:"spill_bytes"` // default 1MiB
	SpillDir   string   `toml:"spill_dir"`
}

// DefaultMemoryLimit is the soft memory limit when neither memory_limit,
// GOMEMLIMIT nor a cgroup memory.max says otherwise.
const DefaultMemoryLimit = 1 << 30

// ScanSlots is max_concurrent_scans with its default applied: scans are
// CPU-bound, so by default as many as the Go runtime runs threads at once,
// and at least 2 so that one slow scan never holds up every message.
func (l Limits) ScanSlots() int {
	if l.MaxConcurrentScans > 0 {
		return l.MaxConcurrentScans
	}
	return max(2, runtime.GOMAXPROCS(0))
}

// Detection tunes the detectors.
type Detection struct {
	// KeywordWindow is how many characters around a match a supporting
	// keyword may be to raise its confidence to high. Default 300.
	KeywordWindow int `toml:"keyword_window"`
}

// PassHeader is added to every scanned message so that the MTA does not
// route it to inspection again.
type PassHeader struct {
	Enabled *bool  `toml:"enabled"` // default true
	Name    string `toml:"name"`    // default X-Filter-Loop
	Value   string `toml:"value"`   // default Reflected
	// MaxIncoming is the most pass header fields an incoming message may
	// carry (each was forged or left by another filter; the milter
	// removes each with one change-header request, and Postfix's cleanup
	// does work quadratic in their number). Default 8.
	MaxIncoming int `toml:"max_incoming"`
	// OnTooMany is the outcome past MaxIncoming: "reject" (550, default)
	// or "tempfail" (451).
	OnTooMany TooManyOutcome `toml:"on_too_many"`
}

// Failure holds the outcome of each failure class. Defaults are tempfail
// (the zero Outcome).
type Failure struct {
	OnTimeout  Outcome `toml:"on_timeout"`  // scan deadline exceeded
	OnOverload Outcome `toml:"on_overload"` // too many concurrent sessions
	OnError    Outcome `toml:"on_error"`    // engine error or recovered panic
}

// Log configures structured logging.
type Log struct {
	Format LogFormat `toml:"format"` // "json" (default) or "text"
	Level  LogLevel  `toml:"level"`  // debug, info (default), warn, error
}

// Incidents configures the incident log (JSON lines, masked evidence only).
type Incidents struct {
	Path string `toml:"path"` // "" disables; "-" is standard output
	// Sync is when incident lines are fsynced: "always" (before the
	// decision is recorded), "interval" (default: every SyncInterval) or
	// "never" (left to the kernel). Each line is written with one write(2),
	// so a crash of maildlp itself loses nothing in any mode.
	Sync         SyncMode `toml:"sync"`
	SyncInterval Duration `toml:"sync_interval"` // default 1s
}

// Notify configures notification delivery through a durable outbox.
type Notify struct {
	Relay     HostPort `toml:"relay"`      // host:port of the SMTP relay
	From      string   `toml:"from"`       // envelope and header sender of notices
	OutboxDir string   `toml:"outbox_dir"` // one fsynced file per notice
	RetryMin  Duration `toml:"retry_min"`  // first retry delay, default 30s
	RetryMax  Duration `toml:"retry_max"`  // backoff cap, default 30m
	MaxAge    Duration `toml:"max_age"`    // give up (and log) after, default 5 days
	// Concurrency is the number of notices delivered at the same time
	// (one SMTP connection each), default 4.
	Concurrency int `toml:"concurrency"`
	// Timeout bounds one delivery attempt (connect, dialogue, data), default 2m.
	Timeout Duration `toml:"timeout"`
	// HELOName is the name sent in EHLO, default the host name.
	HELOName string `toml:"helo_name"`
	// MaxQueued bounds the notices waiting in the outbox, default 100000.
	// Past it a new notice is refused, logged and counted, not queued.
	MaxQueued int `toml:"max_queued"`
	// NotifySender says when a policy's notify.sender reaches the envelope
	// sender, who may be forged (backscatter): "authenticated_or_internal"
	// (default: the client logged in with SMTP AUTH, or the sender's
	// domain is internal and the client is in TrustedNetworks), "always"
	// or "never".
	NotifySender NotifySenderMode `toml:"notify_sender"`
	// TrustedNetworks are the client addresses (IPs or CIDRs) whose
	// internal senders are believed. Default 127.0.0.0/8 and ::1 (the
	// local host, and the MTA itself when it reinjects).
	TrustedNetworks []Network `toml:"trusted_networks"`
}

// Metrics configures the Prometheus /metrics, /healthz and /readyz endpoint.
type Metrics struct {
	Listen HostPort `toml:"listen"` // e.g. "127.0.0.1:9030"; "" disables
}
