package quality

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// defaultEngine is the engine maildlp scan builds when no --config is
// given: the embedded main config and default policy. Every message is
// outbound (no internal_domains).
func defaultEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	engineOnce.Do(func() {
		cfg, err := config.Default(detect.IsBuiltin)
		if err != nil {
			engineErr = err
			return
		}
		engine, engineErr = policy.New(cfg)
	})
	if engineErr != nil {
		tb.Fatalf("default engine: %v", engineErr)
	}
	return engine
}

var (
	engineOnce sync.Once
	engine     *policy.Engine
	engineErr  error
)

// evaluateAll runs the engine over n messages on every core and calls
// done with each verdict, in order of index.
func evaluateAll(tb testing.TB, n int, raw func(i int) []byte, done func(i int, v action.Verdict)) {
	e := defaultEngine(tb)
	out := make([]action.Verdict, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = e.Evaluate(context.Background(), policy.Message{Body: bytes.NewReader(raw(i))})
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, v := range out {
		if v.Err != nil {
			tb.Errorf("message %d: engine error: %v", i, v.Err)
		}
		done(i, v)
	}
}

// credentials are the identifiers that are secrets rather than numbers
// about people or accounts.
var credentials = map[string]bool{
	"aws_access_key": true, "aws_secret_key": true, "gcp_api_key": true, "github_token": true,
	"slack_token": true, "slack_webhook": true, "stripe_key": true, "jwt": true, "private_key": true,
}
