package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/maildlp/maildlp/app"
	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/quarantine"
	"github.com/maildlp/maildlp/store"
)

// quarantineFlags are the flags of the store-backed quarantine commands.
type quarantineFlags struct {
	local   *bool
	reason  *string
	mtaHost *string
	state   *string
	node    *string
	wait    *time.Duration
}

// storeConfig returns the config at path when it enables the store, nil
// otherwise (no config file: the local mode).
func storeConfig(path string, stderr io.Writer) *config.Config {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	c, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp quarantine: %s: %v (acting on the local Postfix)\n", path, err)
		return nil
	}
	if !c.Store.Enabled() {
		return nil
	}
	return c
}

func quarantineStore(verb string, cfg *config.Config, queueID, pfConfig string, asJSON bool, sf quarantineFlags, stdout, stderr io.Writer) int {
	switch verb {
	case "list", "show", "release", "delete", "sync", "work":
	default:
		fmt.Fprintf(stderr, "maildlp quarantine: unknown action %q (want list, show, release, delete, sync or work)\n", verb)
		return 2
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "maildlp quarantine %s: %s\n", verb, fmt.Sprintf(format, args...))
		return code
	}
	if (verb == "release" || verb == "delete" || verb == "show") && queueID == "" {
		return fail(2, "--queue-id is required")
	}
	if (verb == "release" || verb == "delete") && strings.TrimSpace(*sf.reason) == "" {
		return fail(2, "--reason is required: every release and delete is recorded with why")
	}
	ctx := context.Background()
	st, err := ingest.OpenStore(ctx, cfg.Store)
	if err != nil {
		return fail(1, "open the incident store: %v", err)
	}
	defer st.Close()
	q := cfg.Quarantine.WithDefaults()
	if pfConfig != "" {
		q.PostfixConfigDir = pfConfig
	}
	w := &quarantine.Worker{Store: st, MTA: quarantine.FromConfig(q), Node: cfg.Store.Node,
		MTAHost: cfg.Store.MTAHost, Timeout: q.CommandTimeout.D()}
	if q.HoldKeyFile != "" {
		w.HoldKey, _ = q.HoldKey()
	}
	switch verb {
	case "work":
		return quarantineWork(cfg, w, q, stderr)
	case "sync":
		rep, err := w.Sync(ctx)
		if err != nil {
			return fail(1, "%v", err)
		}
		fmt.Fprintf(stdout, "%s: %d held, %d added, %d linked, %d unlinked, %d gone\n",
			w.MTAHost, rep.Held, rep.Added, rep.Linked, rep.Unlinked, rep.Gone)
		return 0
	case "list":
		return storeList(ctx, st, queueID, sf, asJSON, stdout, stderr)
	}
	h, err := findHeld(ctx, st, w, queueID, *sf.mtaHost)
	if err != nil {
		return fail(1, "%v", err)
	}
	if verb == "show" {
		return storeShow(ctx, st, h, asJSON, stdout, stderr)
	}
	if h.State != store.HeldHeld {
		return fail(1, "%s on %s is %s, not held", h.QueueID, h.MTAHost, h.State)
	}
	id, err := st.AddRequest(ctx, store.Request{Kind: verb, Node: h.Node, MTAHost: h.MTAHost, QueueID: h.QueueID,
		Reason: *sf.reason, Actor: loginName(), SourceAddr: "cli@" + cfg.Store.Node})
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stderr, "%s of %s on %s requested (request %d, executed by node %s)\n", verb, h.QueueID, h.MTAHost, id, h.Node)
	if *sf.wait <= 0 {
		return 0
	}
	r, err := waitRequest(ctx, st, id, *sf.wait)
	if err != nil {
		return fail(1, "request %d: %v", id, err)
	}
	if r.State != store.RequestDone {
		return fail(1, "request %d failed: %s", id, r.Result)
	}
	past := map[string]string{"release": "released", "delete": "deleted"}[verb]
	fmt.Fprintf(stdout, "%s %s (request %d: %s)\n", past, h.QueueID, id, r.Result)
	return 0
}

// findHeld finds the held message by queue id (and MTA host when given).
// A message this node's MTA holds but a sync has not yet recorded is
// recorded first, so a release on the node itself works at once.
func findHeld(ctx context.Context, st *store.Store, w *quarantine.Worker, queueID, mtaHost string) (store.Held, error) {
	if !quarantine.ValidQueueID(queueID) {
		return store.Held{}, fmt.Errorf("invalid queue id %q", queueID)
	}
	for attempt := 0; attempt < 2; attempt++ {
		var hs []store.Held
		if mtaHost != "" {
			h, err := st.GetHeld(ctx, mtaHost, queueID)
			if err == nil {
				hs = []store.Held{h}
			} else if !errors.Is(err, store.ErrNotFound) {
				return h, err
			}
		} else {
			var err error
			if hs, err = st.FindHeld(ctx, queueID); err != nil {
				return store.Held{}, err
			}
		}
		switch {
		case len(hs) == 1:
			return hs[0], nil
		case len(hs) > 1:
			var hosts []string
			for _, h := range hs {
				hosts = append(hosts, h.MTAHost)
			}
			return store.Held{}, fmt.Errorf("queue id %s is known on several MTA hosts (%s): give --mta-host", queueID, strings.Join(hosts, ", "))
		}
		if attempt == 0 && (mtaHost == "" || mtaHost == w.MTAHost) {
			if _, err := w.Sync(ctx); err != nil {
				return store.Held{}, fmt.Errorf("%s is not in the store, and the local hold queue could not be read: %w", queueID, err)
			}
		}
	}
	return store.Held{}, fmt.Errorf("%s is not a held message known to the store (run maildlp quarantine sync on the node of its MTA)", queueID)
}

// waitRequest polls the request until it is done or failed.
func waitRequest(ctx context.Context, st *store.Store, id int64, wait time.Duration) (store.Request, error) {
	deadline := time.Now().Add(wait)
	for {
		r, err := st.GetRequest(ctx, id)
		if err != nil {
			return r, err
		}
		if r.State == store.RequestDone || r.State == store.RequestFailed {
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("still %s after %s; node %s executes it when it runs (maildlp quarantine show --queue-id %s)", r.State, wait, r.Node, r.QueueID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func storeList(ctx context.Context, st *store.Store, queueID string, sf quarantineFlags, asJSON bool, stdout, stderr io.Writer) int {
	state := *sf.state
	switch state {
	case "all":
		state = ""
	case store.HeldHeld, store.HeldReleased, store.HeldDeleted, store.HeldGone:
	default:
		fmt.Fprintf(stderr, "maildlp quarantine list: unknown --state %q (want held, released, deleted, gone or all)\n", state)
		return 2
	}
	const limit = 1000
	var hs []store.Held
	var err error
	if queueID != "" {
		hs, err = st.FindHeld(ctx, queueID)
	} else {
		hs, err = st.ListHeld(ctx, store.HeldFilter{State: state, Node: *sf.node, MTAHost: *sf.mtaHost, Limit: limit})
	}
	if err != nil {
		fmt.Fprintf(stderr, "maildlp quarantine list: %v\n", err)
		return 1
	}
	kept := hs[:0]
	for _, h := range hs {
		if (state == "" || h.State == state) && (*sf.node == "" || h.Node == *sf.node) && (*sf.mtaHost == "" || h.MTAHost == *sf.mtaHost) {
			kept = append(kept, h)
		}
	}
	hs = kept
	if len(hs) == limit {
		fmt.Fprintf(stderr, "maildlp quarantine list: the oldest %d shown; narrow with --state, --node or --mta-host\n", limit)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, h := range hs {
			enc.Encode(h)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MTA HOST\tQUEUE ID\tSTATE\tHELD AT\tNODE\tINCIDENT")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clean(h.MTAHost), h.QueueID, h.State,
			h.HeldAt.Format(time.RFC3339), clean(h.Node), dash(clean(h.IncidentID)))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d message(s)\n", len(hs))
	return 0
}

// showView is quarantine show --json.
type showView struct {
	Held     store.Held      `json:"held"`
	Incident *store.Incident `json:"incident,omitempty"`
	Events   []store.Event   `json:"events"`
}

func storeShow(ctx context.Context, st *store.Store, h store.Held, asJSON bool, stdout, stderr io.Writer) int {
	v := showView{Held: h}
	if h.IncidentID != "" {
		if in, err := st.Get(ctx, h.IncidentID); err == nil {
			v.Incident = &in
		} else if !errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "maildlp quarantine show: incident %s: %v\n", h.IncidentID, err)
		}
	}
	ev, err := st.Events(ctx, store.EventFilter{MTAHost: h.MTAHost, QueueID: h.QueueID})
	if err != nil {
		fmt.Fprintf(stderr, "maildlp quarantine show: %v\n", err)
		return 1
	}
	v.Events = ev
	if asJSON {
		json.NewEncoder(stdout).Encode(v)
		return 0
	}
	fmt.Fprintf(stdout, "%s on %s: %s (node %s, held at %s)\n", h.QueueID, clean(h.MTAHost), h.State, clean(h.Node), h.HeldAt.Format(time.RFC3339))
	if in := v.Incident; in != nil {
		var pols []string
		for _, p := range in.Policies {
			pols = append(pols, p.Name+" ("+p.Severity+")")
		}
		var rcpts []string
		for _, r := range in.Recipients {
			rcpts = append(rcpts, r.Address)
		}
		fmt.Fprintf(stdout, "incident %s at %s: %s -> %s; policies %s; status %s\n", clean(in.ID), in.Time.Format(time.RFC3339),
			clean(dash(in.Sender)), clean(strings.Join(rcpts, ",")), clean(strings.Join(pols, ", ")), in.Status)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tACTOR\tSOURCE\tREQUEST\tREASON")
	for _, e := range ev {
		req := "-"
		if e.RequestID != 0 {
			req = fmt.Sprint(e.RequestID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339Nano), e.Kind, clean(e.Actor),
			dash(clean(e.SourceAddr)), req, dash(clean(e.Reason)))
	}
	tw.Flush()
	return 0
}

// quarantineWork runs the node's worker in the foreground until SIGTERM
// or SIGINT: for a node whose maildlp serve runs without root (the
// hardened systemd unit), this runs beside it as root, with no listener.
func quarantineWork(cfg *config.Config, w *quarantine.Worker, q config.QuarantineQueue, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	w.Log = app.NewLogger(cfg.Log, stderr).With("component", "quarantine")
	w.Log.Info("quarantine worker started", "node", w.Node, "mta_host", w.MTAHost, "mta", w.MTA.Kind())
	w.Run(ctx, q.PollInterval.D(), q.SyncInterval.D())
	w.Log.Info("quarantine worker stopped")
	return 0
}
