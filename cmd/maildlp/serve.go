package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/maildlp/maildlp/app"
)

// defaultConfigPath is where the service looks for its main config.
const defaultConfigPath = "/etc/maildlp/maildlp.toml"

func runServe(args []string) int {
	return serviceMain("serve", app.Enabled, args, os.Stderr)
}

// serviceMain parses the flags of serve, milter and reinject and runs the
// service until SIGTERM or SIGINT; SIGHUP reloads config and policies.
func serviceMain(name string, fe app.Frontends, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	what := map[string]string{
		"serve":    "every front end enabled in the config (milter, reinjection hop)",
		"milter":   "the milter alone",
		"reinject": "the SMTP reinjection hop alone",
	}[name]
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: maildlp %s [--config FILE]\n\nRuns %s\nuntil SIGTERM or SIGINT, draining sessions for up to shutdown_timeout.\nSIGHUP reloads the config and the policies; a bad policy is reported and\nthe running one kept.\n\nFlags:\n", name, what)
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", defaultConfigPath, "main config file (without it, and when "+defaultConfigPath+" does not exist, the embedded default)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "maildlp %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	path := *cfgPath
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	missing := ""
	if !explicit {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			path, missing = "", path
		}
	}

	if err := startPprof(stderr); err != nil {
		fmt.Fprintf(stderr, "maildlp %s: %v\n", name, err)
		return 2
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()

	a, err := app.New(app.Options{ConfigPath: path, Frontends: fe, LogOutput: stderr, Reload: reload, MissingConfig: missing})
	if err != nil {
		fmt.Fprintf(stderr, "maildlp %s: %v\n", name, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := a.Run(ctx); err != nil {
		a.Logger().Error("maildlp stopped on error", slog.String("error", err.Error()))
		return 1
	}
	return 0
}
