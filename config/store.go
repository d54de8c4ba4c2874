package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Store configures the incident store ([store] section): where incidents,
// their review and the quarantine workflow are kept, and the durable queue
// that carries incidents there without the mail path ever waiting on it.
// See docs/incidents.md.
type Store struct {
	// Driver is "sqlite" (default: one file on this node), "postgres"
	// (several nodes sharing one database) or "none" (no store; the
	// JSON-lines incident log only).
	Driver string `toml:"driver"`
	// Path is the SQLite database file. Default /var/lib/maildlp/maildlp.db.
	Path string `toml:"path"`
	// DSN is the PostgreSQL connection string (postgres://user@host/db or
	// "host=... dbname=..."), required with driver "postgres".
	DSN string `toml:"dsn"`
	// QueueDir holds the durable queue of incidents not yet in the store.
	// Default /var/lib/maildlp/incident-queue. One process per directory.
	QueueDir string `toml:"queue_dir"`
	// MaxQueueBytes bounds the queue on disk. Past it a new incident is
	// dropped from the store path (counted and logged; the JSON-lines
	// incident log still has it). Default 512MiB.
	MaxQueueBytes ByteSize `toml:"max_queue_bytes"`
	// BatchSize is the most incidents written in one transaction. Default 500.
	BatchSize int `toml:"batch_size"`
	// FlushInterval is how long the writer waits to fill a batch, and how
	// often the queue is fsynced. Default 200ms.
	FlushInterval Duration `toml:"flush_interval"`
	// Retention is the age after which incidents are purged (their audit
	// events and held-message rows stay). 0 (default) keeps them.
	Retention Duration `toml:"retention"`
	// PurgeBatch is how many incidents one purge transaction deletes.
	// Default 500.
	PurgeBatch int `toml:"purge_batch"`
	// Node names this maildlp instance in incidents and requests. Default
	// the host name.
	Node string `toml:"node"`
	// MTAHost names the MTA whose queue ids this node records (the key of
	// a held message with its queue id). Default the host name.
	MTAHost string `toml:"mta_host"`

	// WebhookURL, when set, receives every incident too: batches of JSON
	// lines POSTed from a durable queue of their own (queue_dir/webhook),
	// signed with HMAC-SHA256 and retried until accepted.
	WebhookURL string `toml:"webhook_url"`
	// WebhookSecretFile holds the HMAC key (its whole content, trailing
	// newline removed); required with WebhookURL.
	WebhookSecretFile string `toml:"webhook_secret_file"`
	// WebhookTimeout bounds one POST. Default 10s.
	WebhookTimeout Duration `toml:"webhook_timeout"`
}

// Defaults of [store].
const (
	DefaultStoreDriver        = "sqlite"
	DefaultStorePath          = "/var/lib/maildlp/maildlp.db"
	DefaultStoreQueueDir      = "/var/lib/maildlp/incident-queue"
	DefaultStoreMaxQueueBytes = 512 << 20
	DefaultStoreBatchSize     = 500
	DefaultStoreFlushInterval = 200 * time.Millisecond
	DefaultStorePurgeBatch    = 500
	DefaultWebhookTimeout     = 10 * time.Second
)

var storeDrivers = []string{"sqlite", "postgres", "none"}

// Enabled reports whether incidents go to a store.
func (s Store) Enabled() bool { return s.Driver != "none" }

// WithDefaults fills the unset fields of [store].
func (s Store) WithDefaults() Store {
	setDefault(&s.Driver, DefaultStoreDriver)
	if s.Driver == "sqlite" {
		setDefault(&s.Path, DefaultStorePath)
	}
	setDefault(&s.QueueDir, DefaultStoreQueueDir)
	setDefault(&s.MaxQueueBytes, DefaultStoreMaxQueueBytes)
	setDefault(&s.BatchSize, DefaultStoreBatchSize)
	setDefault(&s.FlushInterval, Duration(DefaultStoreFlushInterval))
	setDefault(&s.PurgeBatch, DefaultStorePurgeBatch)
	setDefault(&s.WebhookTimeout, Duration(DefaultWebhookTimeout))
	if s.Node == "" || s.MTAHost == "" {
		h, _ := os.Hostname()
		if h == "" {
			h = "localhost"
		}
		setDefault(&s.Node, h)
		setDefault(&s.MTAHost, h)
	}
	return s
}

// Check validates [store].
func (s Store) Check() []error {
	var errs []error
	if !contains(storeDrivers, s.Driver) {
		errs = append(errs, fmt.Errorf("store.driver unknown driver %q (want %s)", s.Driver, quoteList(storeDrivers)))
	}
	if s.Driver == "postgres" && s.DSN == "" {
		errs = append(errs, fmt.Errorf("store.dsn must be set when store.driver is \"postgres\""))
	}
	if s.Driver != "postgres" && s.DSN != "" && s.Driver != "none" {
		errs = append(errs, fmt.Errorf("store.dsn is set but store.driver is %q (set driver = \"postgres\")", s.Driver))
	}
	if s.BatchSize < 1 || s.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("store.batch_size %d out of range (want 1 to 10000)", s.BatchSize))
	}
	if s.PurgeBatch < 1 || s.PurgeBatch > 10000 {
		errs = append(errs, fmt.Errorf("store.purge_batch %d out of range (want 1 to 10000)", s.PurgeBatch))
	}
	if s.MaxQueueBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("store.max_queue_bytes %d too small (want at least 1MiB)", s.MaxQueueBytes))
	}
	if s.FlushInterval.D() < time.Millisecond || s.FlushInterval.D() > time.Minute {
		errs = append(errs, fmt.Errorf("store.flush_interval %s out of range (want 1ms to 1m)", s.FlushInterval.D()))
	}
	if s.Retention != 0 && s.Retention.D() < time.Hour {
		errs = append(errs, fmt.Errorf("store.retention %s too short (want 0 to keep, or at least 1h)", s.Retention.D()))
	}
	if u := s.WebhookURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			errs = append(errs, fmt.Errorf("store.webhook_url %q is not an http or https URL", u))
		}
		if s.WebhookSecretFile == "" {
			errs = append(errs, fmt.Errorf("store.webhook_secret_file must be set when store.webhook_url is (the HMAC key)"))
		}
	}
	for _, f := range []struct{ key, v string }{{"node", s.Node}, {"mta_host", s.MTAHost}} {
		if f.v == "" || len(f.v) > 255 || strings.ContainsFunc(f.v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			errs = append(errs, fmt.Errorf("store.%s %q must be a non-empty name without spaces or control characters", f.key, f.v))
		}
	}
	return errs
}
