package app

import (
	"reflect"
	"strings"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
)

// Reload re-reads the config and the policy files and compiles a new
// engine. On success the new engine serves every transaction that starts
// from now on; transactions under way finish on the engine they started
// with. On any error (each reported with file:line) the old engine keeps
// running and the reload is counted as failed. Either way the incident
// log is reopened (for logrotate) and the outbox directory rescanned (for
// dead letters moved back).
//
// Listen addresses, front-end settings, [notify], [metrics], [log] and
// [incidents] path are read at start only: a reload that changes them
// logs which sections need a restart.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	a.sdNotify("RELOADING=1\nSTATUS=reloading")
	defer a.sdNotify("READY=1\nSTATUS=serving")
	if err := a.journal.Reopen(); err != nil {
		a.log.Error("reopen incident log", "error", err)
	}
	if a.outbox != nil {
		if _, err := a.outbox.Rescan(); err != nil {
			a.log.Error("rescan outbox", "error", err)
		}
	}
	cfg, err := loadConfig(a.opts.ConfigPath)
	if err == nil {
		eng, perr := policy.New(cfg)
		if perr == nil {
			a.cfg.Store(cfg)
			a.engine.Store(eng)
			a.metrics.Reload(true)
			a.log.Info("reloaded config and policies", "config", configName(cfg), "policies", len(cfg.Policies))
			if s := restartSections(a.boot, cfg); len(s) > 0 {
				a.log.Warn("changed settings take effect at the next restart", "sections", s)
			}
			return nil
		}
		err = perr
	}
	a.metrics.Reload(false)
	problems := splitErrors(err)
	for _, p := range problems {
		a.log.Error("reload failed; the previous config and policies stay in force", "problem", p)
	}
	return err
}

// splitErrors lists the problems of a joined error, one per line.
func splitErrors(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		for _, line := range strings.Split(e.Error(), "\n") {
			if line != "" {
				out = append(out, line)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// restartSections names the sections that differ between the config the
// service started with and a reloaded one but are read at start only.
func restartSections(boot, now *config.Config) []string {
	// The certificate and trust store read at load are compared as the
	// file names that name them (a pool holds functions, never equal).
	bc, nc := *boot, *now
	bc.Reinject.TLS.Certificate, bc.Reinject.TLS.Roots = nil, nil
	nc.Reinject.TLS.Certificate, nc.Reinject.TLS.Roots = nil, nil
	b := reflect.ValueOf(&bc).Elem()
	n := reflect.ValueOf(&nc).Elem()
	var out []string
	for _, f := range []struct{ field, name string }{
		{"Milter", "milter"}, {"Reinject", "reinject"}, {"Notify", "notify"},
		{"Metrics", "metrics"}, {"Log", "log"}, {"Incidents", "incidents"},
		{"PassHeader", "pass_header"}, {"Failure", "failure"}, {"ShutdownTimeout", "shutdown_timeout"},
	} {
		if !reflect.DeepEqual(b.FieldByName(f.field).Interface(), n.FieldByName(f.field).Interface()) {
			out = append(out, f.name)
		}
	}
	return out
}
