package integration

import (
	"strings"
	"testing"
	"time"
)

// TestHarnessPostfixToSink proves the harness itself: a throwaway Postfix
// relays a message to the sink exactly once, and the queue commands work.
func TestHarnessPostfixToSink(t *testing.T) {
	needEnv(t)
	sink := NewSink(t)
	pf := NewPostfix(t, PostfixConfig{Relay: sink.Addr()})

	id := newID("harness")
	msg := Msg{ID: id, From: "alice@test.example", To: []string{"bob@ext.example"}, Subject: "harness", Body: "hello\n.leading dot\n"}
	res := SendMail(pf.Addr(), "alice@test.example", []string{"bob@ext.example"}, msg.Bytes())
	if res.Stage != "dot" || res.Final.Code != 250 {
		t.Fatalf("SendMail = %v, want 250 at end of data", res)
	}
	got := sink.Wait(1, 20*time.Second, withID(id))
	if n := len(sink.Quiet(2*time.Second, withID(id))); n != 1 {
		t.Fatalf("delivered %d times, want 1", n)
	}
	d := got[0]
	if d.From != "alice@test.example" || len(d.To) != 1 || d.To[0] != "bob@ext.example" {
		t.Errorf("envelope = %s -> %v, want alice@test.example -> [bob@ext.example]", d.From, d.To)
	}
	if !strings.Contains(string(d.Body()), "\r\n.leading dot\r\n") {
		t.Errorf("body = %q, want the dot line unstuffed", d.Body())
	}

	// Relay down: the message stays in the deferred queue, then arrives once.
	sink.Stop()
	id2 := newID("harness-deferred")
	msg2 := Msg{ID: id2, From: "alice@test.example", To: []string{"carol@ext.example"}, Subject: "deferred", Body: "later\n"}
	if res := SendMail(pf.Addr(), "alice@test.example", []string{"carol@ext.example"}, msg2.Bytes()); res.Final.Code != 250 {
		t.Fatalf("SendMail = %v, want 250", res)
	}
	pf.WaitQueue(20*time.Second, "one deferred message", func(q []QueueEntry) bool {
		return len(q) == 1 && q[0].QueueName == "deferred"
	})
	sink.Start()
	pf.Flush()
	sink.Wait(1, 30*time.Second, withID(id2))
	pf.WaitQueue(10*time.Second, "empty queue", func(q []QueueEntry) bool { return len(q) == 0 })
	if n := len(sink.Quiet(2*time.Second, withID(id2))); n != 1 {
		t.Fatalf("deferred message delivered %d times, want 1", n)
	}
}
