package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/maildlp/maildlp/app"
	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/console"
	"github.com/maildlp/maildlp/policy/detect"
)

const consoleUsage = `usage: maildlp console [--config FILE] [--listen ADDR] [--db FILE | --dsn DSN]

console serves the review console alone: the web pages where analysts
triage incidents and release held mail. It uses the [store] and
[console] sections of the config; 'maildlp serve' runs the same console
beside the front ends when [console] listen is set. Create the first
user with 'maildlp user add NAME'.

Flags:
`

func runConsole(args []string) int { return consoleMain(args, os.Stderr) }

func consoleMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, consoleUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", "", "`address` to listen on (default [console] listen, else "+config.DefaultConsoleListen+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "maildlp console: %v\n", err)
		return 1
	}
	cfg, err := sf.mainConfig()
	if err != nil {
		return fail(err)
	}
	cc := cfg.Console
	if *listen != "" {
		cc.Listen = *listen
	}
	if cc.Listen == "" {
		cc.Listen = config.DefaultConsoleListen
	}
	log := app.NewLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, _, err := sf.open(ctx)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	srv, err := console.New(console.Options{Store: st, Config: cc, Log: log})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", cc.Listen)
	if err != nil {
		return fail(err)
	}
	scheme := "http"
	if cc.TLS() {
		scheme = "https"
	}
	log.Info("console listening", "url", scheme+"://"+ln.Addr().String()+"/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if err != nil {
			return fail(err)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	log.Info("console stopped")
	return 0
}

// mainConfig loads the main config the flags name, as storeConfig does
// ([console] and [log] are read from it whatever --db or --dsn say).
func (f *storeFlags) mainConfig() (*config.Config, error) {
	path := f.config
	if path == defaultConfigPath {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			path = ""
		}
	}
	if path == "" {
		return config.Default(detect.IsBuiltin)
	}
	return config.Load(path, detect.IsBuiltin)
}
