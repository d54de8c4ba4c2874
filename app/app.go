package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/milter"
	"github.com/maildlp/maildlp/outbox"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/reinject"
	"github.com/maildlp/maildlp/report"
)

// Frontends selects the front ends to run.
type Frontends int

const (
	// Enabled runs every front end the config enables (maildlp serve).
	Enabled Frontends = iota
	// MilterOnly runs the milter whatever [milter] enabled says.
	MilterOnly
	// ReinjectOnly runs the reinjection hop whatever [reinject] enabled says.
	ReinjectOnly
)

// Options configure [New].
type Options struct {
	// ConfigPath is the main config file; "" uses the embedded default.
	ConfigPath string
	Frontends  Frontends
	// Log receives the process log; nil builds one from [log] on LogOutput.
	Log       *slog.Logger
	LogOutput io.Writer // default os.Stderr
	// NotifySocket overrides $NOTIFY_SOCKET (tests).
	NotifySocket string
	// Reload triggers [App.Reload] while Run runs (cmd wires SIGHUP to it).
	Reload <-chan struct{}
	// MissingConfig, when set, is the default config path that did not
	// exist, which is why ConfigPath is empty; it is logged first.
	MissingConfig string
}

// frontend is what app needs of the milter and the hop.
type frontend interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

type listener struct {
	name string // "milter" or "reinject"
	fe   frontend
	ln   net.Listener
}

// App is a running maildlp service.
type App struct {
	opts    Options
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config] // config of the current engine
	engine  atomic.Pointer[policy.Engine]
	boot    *config.Config // config the listeners were started with
	metrics *metrics.Metrics
	journal *report.Journal
	// recorder is what the front ends record with: the journal, then
	// the incident store's queue when [store] is enabled.
	recorder  report.Recorder
	incidents *ingest.Service
	outbox    *outbox.Outbox
	notify    notifier
	// slots bounds the scans running at once, across both front ends and
	// reloads ([limits] max_concurrent_scans, read at start).
	slots *policy.Slots

	reloadMu  sync.Mutex
	listeners []listener
	trackers  map[string]*connTracker
	msrv      *metrics.Server
}

// New loads the config, compiles the engine and prepares the recorder,
// outbox and metrics. Nothing listens until [App.Run].
func New(opts Options) (*App, error) {
	cfg, err := loadConfig(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	eng, err := policy.New(cfg)
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		w := opts.LogOutput
		if w == nil {
			w = os.Stderr
		}
		log = NewLogger(cfg.Log, w)
	}
	if opts.MissingConfig != "" {
		log.Info("no config file; using the embedded default config", "missing", opts.MissingConfig)
	}
	for _, w := range cfg.Warnings() {
		log.Warn("config: " + w)
	}
	a := &App{opts: opts, log: log, boot: cfg, metrics: metrics.New(), notify: newNotifier(opts.NotifySocket),
		slots: policy.NewSlots(cfg.Limits.ScanSlots())}
	a.cfg.Store(cfg)
	a.engine.Store(eng)

	if !cfg.Notify.Relay.IsZero() {
		ob, err := outbox.Open(outbox.Options{
			Dir:         cfg.Notify.OutboxDir,
			Relay:       cfg.Notify.Relay.String(),
			From:        cfg.Notify.From,
			HELOName:    cfg.Notify.HELOName,
			RetryMin:    cfg.Notify.RetryMin.D(),
			RetryMax:    cfg.Notify.RetryMax.D(),
			MaxAge:      cfg.Notify.MaxAge.D(),
			Concurrency: cfg.Notify.Concurrency,
			Timeout:     cfg.Notify.Timeout.D(),
			MaxQueued:   cfg.Notify.MaxQueued,
			Log:         log,
			Metrics:     a.metrics,
		})
		if err != nil {
			return nil, err
		}
		a.outbox = ob
	} else {
		log.Info("notify.relay is not set: notices are logged, not sent")
	}
	j, err := report.NewRecorder(cfg.Incidents, log.With("component", "report"), a.metrics, a.outbox)
	if err != nil {
		if a.outbox != nil {
			a.outbox.Close()
		}
		return nil, err
	}
	a.journal = j
	if err := a.startStore(); err != nil {
		a.closeState()
		return nil, err
	}
	return a, nil
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(detect.IsBuiltin)
	}
	return config.Load(path, detect.IsBuiltin)
}

// Engine returns the current engine. Front ends call it once per
// transaction.
func (a *App) Engine() *policy.Engine { return a.engine.Load() }

// Config returns the config of the current engine.
func (a *App) Config() *config.Config { return a.cfg.Load() }

// Metrics returns the metrics of the service.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Recorder returns the recorder given to the front ends.
func (a *App) Recorder() report.Recorder { return a.recorder }

// Logger returns the process logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Addrs returns the addresses the front ends and the metrics endpoint
// listen on, by name ("milter", "reinject", "metrics"). Valid after Run
// has reported ready.
func (a *App) Addrs() map[string][]net.Addr {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	out := map[string][]net.Addr{}
	for _, l := range a.listeners {
		out[l.name] = append(out[l.name], l.ln.Addr())
	}
	if a.msrv != nil {
		out["metrics"] = []net.Addr{a.msrv.Addr()}
	}
	return out
}

// start opens every listener. On error, what was opened is closed.
func (a *App) start() error {
	cfg := a.boot
	runMilter := a.opts.Frontends == MilterOnly || (a.opts.Frontends == Enabled && cfg.Milter.Enabled)
	runReinject := a.opts.Frontends == ReinjectOnly || (a.opts.Frontends == Enabled && cfg.Reinject.Enabled)
	if !runMilter && !runReinject {
		return errors.New("no front end enabled: set [milter] enabled = true or [reinject] enabled = true")
	}
	var ls []listener
	trackers := map[string]*connTracker{
		"milter":   newConnTracker("milter", a.metrics),
		"reinject": newConnTracker("reinject", a.metrics),
	}
	fail := func(err error) error {
		for _, l := range ls {
			l.ln.Close()
		}
		return err
	}
	if runMilter {
		mc := cfg.Milter
		// go-milter writes its warnings with the standard log package:
		// into the service's own (JSON) log instead.
		milter.LogLibraryWarnings(a.log)
		srv := milter.New(mc, a.Engine,
			milter.WithLogger(a.log),
			milter.WithMetrics(a.metrics),
			milter.WithRecorder(a.recorder),
			milter.WithPassHeader(cfg.PassHeader),
			milter.WithFailure(cfg.Failure),
			milter.WithScanSlots(a.slots),
		)
		for _, addr := range mc.Listen {
			ln, err := milter.ListenAddr(addr, os.FileMode(mc.SocketMode), mc.SocketOwner)
			if err != nil {
				return fail(err)
			}
			ls = append(ls, listener{"milter", srv, trackers["milter"].listen(ln)})
		}
	}
	if runReinject {
		hold, err := holdOption(cfg)
		if err != nil {
			return fail(err)
		}
		srv := reinject.New(cfg.Reinject, a.Engine,
			reinject.WithLogger(a.log),
			reinject.WithMetrics(a.metrics),
			reinject.WithRecorder(a.recorder),
			reinject.WithPassHeader(cfg.PassHeader),
			reinject.WithFailure(cfg.Failure),
			reinject.WithScanSlots(a.slots),
			hold,
		)
		addr := cfg.Reinject.Listen.String()
		ln, err := reinject.Listen(addr)
		if err != nil {
			return fail(fmt.Errorf("reinject: listen %s: %w", addr, err))
		}
		ls = append(ls, listener{"reinject", srv, trackers["reinject"].listen(ln)})
	}
	if !cfg.Metrics.Listen.IsZero() {
		ms, err := a.metrics.Listen(cfg.Metrics.Listen.String())
		if err != nil {
			return fail(err)
		}
		a.reloadMu.Lock()
		a.msrv = ms
		a.reloadMu.Unlock()
	}
	a.reloadMu.Lock()
	a.listeners = ls
	a.trackers = trackers
	a.reloadMu.Unlock()
	return nil
}

// Run starts the service and serves until ctx is cancelled, then drains
// in-flight sessions for up to shutdown_timeout and returns. A listener
// that fails stops the service with its error.
func (a *App) Run(ctx context.Context) error {
	defer a.closeState()
	applyMemoryLimit(a.boot.Limits, a.log)
	a.log.Info("scan slots", "max_concurrent_scans", a.slots.Cap())
	cons, err := a.listenConsole()
	if err != nil {
		return err
	}
	if err := a.start(); err != nil {
		cons.shutdown()
		return err
	}
	errc := make(chan error, len(a.listeners)+2)
	var served sync.WaitGroup
	for _, l := range a.listeners {
		a.log.Info("listening", "frontend", l.name, "addr", l.ln.Addr().String())
		served.Add(1)
		go func(l listener) {
			defer served.Done()
			if err := l.fe.Serve(l.ln); err != nil {
				errc <- fmt.Errorf("%s on %s: %w", l.name, l.ln.Addr(), err)
			}
		}(l)
	}
	if a.msrv != nil {
		a.log.Info("listening", "frontend", "metrics", "addr", a.msrv.Addr().String())
		go func() {
			if err := a.msrv.Serve(); err != nil {
				errc <- err
			}
		}()
	}
	if cons != nil {
		cons.run(errc)
	}
	obCtx, stopOutbox := context.WithCancel(context.Background())
	obDone := make(chan struct{})
	if a.outbox != nil {
		go func() {
			defer close(obDone)
			a.outbox.Run(obCtx)
		}()
	} else {
		close(obDone)
	}

	stopQuarantine := a.startQuarantine()
	defer stopQuarantine()

	a.metrics.SetReady(true)
	a.sdNotify("READY=1\nSTATUS=serving")
	a.log.Info("maildlp ready", "config", configName(a.boot))

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-a.opts.Reload:
			a.Reload()
		case err := <-errc:
			a.log.Error("listener failed; shutting down", "error", err)
			runErr = err
			break loop
		}
	}

	a.metrics.SetReady(false)
	a.sdNotify("STOPPING=1\nSTATUS=draining sessions")
	timeout := a.boot.ShutdownTimeout.D()
	if timeout <= 0 {
		timeout = config.DefaultShutdownTimeout
	}
	a.log.Info("shutting down: draining sessions", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cons.shutdown()
	err = a.shutdownFrontends(sctx)
	closed := 0
	for _, t := range a.trackers {
		closed += t.closeAll()
	}
	if err != nil || closed > 0 {
		a.log.Warn("sessions still open at shutdown_timeout were closed; the MTA retries their messages", "closed", closed, "error", err)
	}
	served.Wait()
	// Front ends are drained: no more notices arrive. Stop the sender;
	// queued notices stay on disk for the next start.
	stopOutbox()
	<-obDone
	if a.msrv != nil {
		mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.msrv.Shutdown(mctx)
		mcancel()
	}
	a.log.Info("maildlp stopped")
	return runErr
}

// shutdownFrontends shuts every front end down in parallel.
func (a *App) shutdownFrontends(ctx context.Context) error {
	seen := map[frontend]bool{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, l := range a.listeners {
		if seen[l.fe] {
			continue
		}
		seen[l.fe] = true
		wg.Add(1)
		go func(l listener) {
			defer wg.Done()
			if err := l.fe.Shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", l.name, err))
				mu.Unlock()
			}
		}(l)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// closeState closes the incident log and releases the outbox.
func (a *App) closeState() {
	a.closeStore()
	if err := a.journal.Close(); err != nil {
		a.log.Error("close incident log", "error", err)
	}
	if a.outbox != nil {
		a.outbox.Close()
	}
}

func (a *App) sdNotify(state string) {
	if err := a.notify.notify(state); err != nil {
		a.log.Warn("sd_notify", "state", state, "error", err)
	}
}

func configName(c *config.Config) string {
	if c.Path == "" {
		return "(embedded default)"
	}
	return c.Path
}
