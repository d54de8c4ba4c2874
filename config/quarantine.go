package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// QuarantineQueue configures the quarantine workflow next to this node's MTA
// ([quarantine] section): which MTA holds the messages, how to reach its
// tools, how often requests are looked for, and the key of the hop's hold
// mark. The names of this node and its MTA in the store are store.node
// and store.mta_host. Every field has a default, applied by [QuarantineQueue.WithDefaults];
// docs/quarantine.md describes the workflow.
type QuarantineQueue struct {
	// Worker runs the node's quarantine worker in `maildlp serve` when the
	// store is enabled and serve runs as root: it executes the release
	// and delete requests for this node's MTA and reconciles the store
	// with its hold queue. Default true; turn it off on a node with no MTA
	// next to it. `maildlp quarantine work` runs it alone.
	Worker *bool `toml:"worker"`
	// MTA is "postfix" (default) or "sendmail".
	MTA string `toml:"mta"`
	// PostfixConfigDir is the Postfix instance's configuration directory
	// (postqueue/postsuper -c). Default "": the default instance.
	PostfixConfigDir string `toml:"postfix_config_dir"`
	// PostfixBinDir holds postqueue and postsuper. Default "": PATH, then
	// /usr/sbin.
	PostfixBinDir string `toml:"postfix_bin_dir"`
	// SendmailPath is the sendmail program. Default /usr/sbin/sendmail.
	SendmailPath string `toml:"sendmail_path"`
	// SendmailQueueDir is Sendmail's QueueDirectory. Default /var/spool/mqueue.
	SendmailQueueDir string `toml:"sendmail_queue_dir"`
	// CommandTimeout bounds each MTA command. Default 30s.
	CommandTimeout Duration `toml:"command_timeout"`
	// MaxListingBytes bounds the hold queue listing read from the MTA; a
	// larger listing fails (nothing is done on a partial one). Default 64MiB.
	MaxListingBytes ByteSize `toml:"max_listing_bytes"`
	// PollInterval is how often the node looks for release and delete
	// requests addressed to it. Default 1s.
	PollInterval Duration `toml:"poll_interval"`
	// SyncInterval is how often the node reconciles the store with the
	// hold queue (one postqueue -j); 0 disables (then only `maildlp
	// quarantine sync`). A held message can be released from another
	// node once a sync has recorded it. Default 30s.
	SyncInterval *Duration `toml:"sync_interval"`
	// HoldKeyFile holds the secret (at least 16 bytes) of the hop's hold
	// mark; required when reinject.quarantine_action is "hold".
	HoldKeyFile string `toml:"hold_key_file"`
}

// Defaults of [quarantine].
const (
	DefaultQuarantineMTA             = "postfix"
	DefaultQuarantineCommandTimeout  = 30 * time.Second
	DefaultQuarantineMaxListingBytes = 64 << 20
	DefaultQuarantinePollInterval    = time.Second
	DefaultQuarantineSyncInterval    = 30 * time.Second
	DefaultSendmailPath              = "/usr/sbin/sendmail"
	DefaultSendmailQueueDir          = "/var/spool/mqueue"
)

// WithDefaults returns q with every unset field given its default.
func (q QuarantineQueue) WithDefaults() QuarantineQueue {
	if q.Worker == nil {
		t := true
		q.Worker = &t
	}
	setDefault(&q.MTA, DefaultQuarantineMTA)
	setDefault(&q.SendmailPath, DefaultSendmailPath)
	setDefault(&q.SendmailQueueDir, DefaultSendmailQueueDir)
	setDefault(&q.CommandTimeout, Duration(DefaultQuarantineCommandTimeout))
	setDefault(&q.MaxListingBytes, ByteSize(DefaultQuarantineMaxListingBytes))
	setDefault(&q.PollInterval, Duration(DefaultQuarantinePollInterval))
	if q.SyncInterval == nil {
		d := Duration(DefaultQuarantineSyncInterval)
		q.SyncInterval = &d
	}
	return q
}

// Check reports every invalid value of q (after defaults).
func (q QuarantineQueue) Check() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("quarantine.%s %s", key, fmt.Sprintf(format, args...)))
	}
	if q.MTA != "postfix" && q.MTA != "sendmail" {
		bad("mta", "%q is not one of postfix, sendmail", q.MTA)
	}
	for key, v := range map[string]string{"postfix_config_dir": q.PostfixConfigDir, "postfix_bin_dir": q.PostfixBinDir,
		"sendmail_path": q.SendmailPath, "sendmail_queue_dir": q.SendmailQueueDir} {
		if v != "" && !filepath.IsAbs(v) {
			bad(key, "%q is not an absolute path", v)
		}
	}
	if q.CommandTimeout <= 0 {
		bad("command_timeout", "must be positive")
	}
	if q.MaxListingBytes < 1<<10 {
		bad("max_listing_bytes", "must be at least 1KiB")
	}
	if q.PollInterval < Duration(10*time.Millisecond) {
		bad("poll_interval", "must be at least 10ms")
	}
	if q.SyncInterval != nil && *q.SyncInterval < 0 {
		bad("sync_interval", "must not be negative")
	}
	return errors.Join(errs...)
}

// HoldKey reads the hold mark key of HoldKeyFile (surrounding white space
// removed).
func (q QuarantineQueue) HoldKey() ([]byte, error) {
	if q.HoldKeyFile == "" {
		return nil, errors.New("quarantine.hold_key_file is not set")
	}
	b, err := os.ReadFile(q.HoldKeyFile)
	if err != nil {
		return nil, fmt.Errorf("quarantine.hold_key_file: %w", err)
	}
	key := []byte(strings.TrimSpace(string(b)))
	if len(key) < 16 {
		return nil, fmt.Errorf("quarantine.hold_key_file %s: key shorter than 16 bytes", q.HoldKeyFile)
	}
	return key, nil
}

// checkHoldKey reports a hop that holds quarantined mail without a usable
// hold mark key.
func (c *Config) checkHoldKey() error {
	if !c.Reinject.Enabled || c.Reinject.QuarantineAction != "hold" {
		return nil
	}
	if _, err := c.Quarantine.HoldKey(); err != nil {
		return fmt.Errorf("reinject.quarantine_action \"hold\" needs a hold mark key: %w", err)
	}
	return nil
}
