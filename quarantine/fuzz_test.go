package quarantine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParsePostqueue: whatever postqueue prints (senders write the
// addresses in it), the parser never panics, returns only valid queue
// ids, and what it returns survives a round trip through the format.
func FuzzParsePostqueue(f *testing.F) {
	f.Add(`{"queue_name":"hold","queue_id":"4XyZ1AbCdE","arrival_time":1764000000,"message_size":321,"sender":"a@b","recipients":[{"address":"c@d","delay_reason":"x"}]}`)
	f.Add(`{"queue_name":"deferred","queue_id":"ABCDEF1"}` + "\n" + `{"queue_name":"hold","queue_id":"ABCDEF2","sender":"\u0000\n"}`)
	f.Add(`{"queue_name":"hold","queue_id":"ALL"}`)
	f.Add("{}\n\n[]")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParsePostqueue(strings.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, m := range got {
			if !ValidQueueID(m.QueueID) {
				t.Fatalf("invalid queue id %q returned", m.QueueID)
			}
			e := postqueueEntry{QueueName: "hold", QueueID: m.QueueID, MessageSize: m.Size, Sender: m.Sender}
			if !m.Arrival.IsZero() {
				e.ArrivalTime = m.Arrival.Unix()
			}
			for _, r := range m.Recipients {
				e.Recipients = append(e.Recipients, struct {
					Address string `json:"address"`
				}{r})
			}
			j, _ := json.Marshal(e)
			b.Write(j)
			b.WriteByte('\n')
		}
		again, err := ParsePostqueue(strings.NewReader(b.String()), 1<<20)
		if err != nil {
			t.Fatalf("re-encoded listing does not parse: %v\n%s", err, b.String())
		}
		if len(got) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip: %+v != %+v", got, again)
		}
	})
}

// FuzzParseMailq: the mailq parser never panics and returns only valid
// queue ids, each once per job line.
func FuzzParseMailq(f *testing.F) {
	f.Add(mailqSample)
	f.Add("\t\t/var/spool/mqueue is empty\n")
	f.Add("x\n  QUARANTINE:\n")
	now := time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseMailq(strings.NewReader(in), 1<<16, now)
		if err != nil {
			return
		}
		jobs := 0
		for _, l := range strings.Split(in, "\n") {
			if l != "" && l[0] != ' ' && l[0] != '\t' {
				jobs++
			}
		}
		if len(got) > jobs {
			t.Fatalf("%d messages from %d unindented lines", len(got), jobs)
		}
		for _, m := range got {
			if !ValidQueueID(m.QueueID) {
				t.Fatalf("invalid queue id %q returned", m.QueueID)
			}
		}
	})
}
