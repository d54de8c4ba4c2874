package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/store"
)

// storeFlags are the flags of commands that open the incident store: the
// main config names it ([store]); --db and --dsn name one directly.
type storeFlags struct {
	config, db, dsn string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", defaultConfigPath, "main config `file` naming the store ([store]); without it, and when "+defaultConfigPath+" does not exist, the embedded default (./run/maildlp.db)")
	fs.StringVar(&f.db, "db", "", "SQLite database `file` to use instead of the config's")
	fs.StringVar(&f.dsn, "dsn", "", "PostgreSQL connection `string` to use instead of the config's")
}

// storeConfig is the [store] section the flags name.
func (f *storeFlags) storeConfig() (config.Store, error) {
	var sc config.Store
	switch {
	case f.dsn != "":
		sc = config.Store{Driver: store.Postgres, DSN: f.dsn}
	case f.db != "":
		sc = config.Store{Driver: store.SQLite, Path: f.db}
	default:
		path := f.config
		if path == defaultConfigPath {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				path = ""
			}
		}
		var cfg *config.Config
		var err error
		if path == "" {
			cfg, err = config.Default()
		} else {
			cfg, err = config.Load(path)
		}
		if err != nil {
			return sc, err
		}
		sc = cfg.Store
	}
	sc = sc.WithDefaults()
	if !sc.Enabled() {
		return sc, errors.New(`the config has no incident store ([store] driver = "none")`)
	}
	return sc, nil
}

// open opens the store the flags name and applies pending migrations
// (the service does the same on start).
func (f *storeFlags) open(ctx context.Context) (*store.Store, config.Store, error) {
	sc, err := f.storeConfig()
	if err != nil {
		return nil, sc, err
	}
	st, err := ingest.OpenStore(ctx, sc)
	return st, sc, err
}

const dbUsage = `usage: maildlp db migrate [--config FILE | --db FILE | --dsn DSN]

migrate applies the schema migrations embedded in this binary to the
incident store and prints the schema version. The service applies them
on start too; run it by hand before starting a new version on several
nodes, or to create an empty store.

Flags:
`

func runDB(args []string) int { return dbMain(args, os.Stdout, os.Stderr) }

func dbMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "migrate" {
		fmt.Fprint(stderr, dbUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("db migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dbUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	sc, err := sf.storeConfig()
	if err != nil {
		fmt.Fprintf(stderr, "maildlp db migrate: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Options{Driver: sc.Driver, Path: sc.Path, DSN: sc.DSN})
	if err != nil {
		fmt.Fprintf(stderr, "maildlp db migrate: %v\n", err)
		return 1
	}
	defer st.Close()
	v, err := st.Migrate(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp db migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s store at schema version %d\n", st.Driver(), v)
	return 0
}
