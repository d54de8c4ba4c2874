package config

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of the operational sections ([incidents], [notify]).
const (
	DefaultIncidentSync         = "interval"
	DefaultIncidentSyncInterval = time.Second
	DefaultNotifyRetryMin       = 30 * time.Second
	DefaultNotifyRetryMax       = 30 * time.Minute
	DefaultNotifyMaxAge         = 5 * 24 * time.Hour
	DefaultNotifyConcurrency    = 4
	DefaultNotifyTimeout        = 2 * time.Minute
	DefaultNotifyMaxQueued      = 100000
	DefaultNotifySender         = "authenticated_or_internal"
)

// DefaultTrustedNetworks are the clients whose internal senders notices
// believe by default (see [Notify]).
var DefaultTrustedNetworks = []string{"127.0.0.0/8", "::1/128"}

var notifySenderModes = []string{"authenticated_or_internal", "always", "never"}

var incidentSyncModes = []string{"always", "interval", "never"}

// WithDefaults fills the unset fields of [incidents].
func (i Incidents) WithDefaults() Incidents {
	setDefault(&i.Sync, DefaultIncidentSync)
	setDefault(&i.SyncInterval, Duration(DefaultIncidentSyncInterval))
	return i
}

// Check validates [incidents].
func (i Incidents) Check() []error {
	var errs []error
	if !contains(incidentSyncModes, i.Sync) {
		errs = append(errs, fmt.Errorf("incidents.sync unknown sync mode %q (want %s)", i.Sync, quoteList(incidentSyncModes)))
	}
	return errs
}

// WithDefaults fills the unset fields of [notify].
func (n Notify) WithDefaults() Notify {
	setDefault(&n.RetryMin, Duration(DefaultNotifyRetryMin))
	setDefault(&n.RetryMax, Duration(DefaultNotifyRetryMax))
	setDefault(&n.MaxAge, Duration(DefaultNotifyMaxAge))
	setDefault(&n.Concurrency, DefaultNotifyConcurrency)
	setDefault(&n.Timeout, Duration(DefaultNotifyTimeout))
	setDefault(&n.MaxQueued, DefaultNotifyMaxQueued)
	setDefault(&n.NotifySender, DefaultNotifySender)
	if n.TrustedNetworks == nil {
		n.TrustedNetworks = append([]string(nil), DefaultTrustedNetworks...)
	}
	return n
}

// Check validates [notify]: a relay needs an outbox directory and a sender.
func (n Notify) Check() []error {
	var errs []error
	if n.Relay != "" && n.OutboxDir == "" {
		errs = append(errs, errors.New("notify.outbox_dir must be set when notify.relay is (notices are queued there first)"))
	}
	if n.Relay != "" && n.From == "" {
		errs = append(errs, errors.New("notify.from must be set when notify.relay is"))
	}
	if n.RetryMax < n.RetryMin {
		errs = append(errs, fmt.Errorf("notify.retry_max %s is shorter than retry_min %s", n.RetryMax.D(), n.RetryMin.D()))
	}
	if n.MaxQueued < 1 {
		errs = append(errs, fmt.Errorf("notify.max_queued %d must be at least 1", n.MaxQueued))
	}
	if n.Concurrency < 1 || n.Concurrency > 100 {
		errs = append(errs, fmt.Errorf("notify.concurrency %d out of range (want 1 to 100)", n.Concurrency))
	}
	if !contains(notifySenderModes, n.NotifySender) {
		errs = append(errs, fmt.Errorf("notify.notify_sender unknown mode %q (want %s)", n.NotifySender, quoteList(notifySenderModes)))
	}
	for _, a := range n.TrustedNetworks {
		if _, err := ParseAllow(a); err != nil {
			errs = append(errs, fmt.Errorf("notify.trusted_networks: %v", err))
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
