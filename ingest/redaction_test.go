package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
	"github.com/maildlp/maildlp/store"
)

func luhnComplete(prefix string) string {
	sum := 0
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if (len(prefix)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + strconv.Itoa((10-sum%10)%10)
}

// TestIssue10StoreRedacted runs a message with card numbers through the
// real engine, the queue and the store, then reads every row of every
// table and the queue files: no card number, in any spelling, is there.
func TestIssue10StoreRedacted(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var cards []string
	for _, p := range []string{"453201511283036", "455673758689985", "491693571234567", "402400715487324", "448592356781234", "453978120654321"} {
		cards = append(cards, luhnComplete(p))
	}
	var body strings.Builder
	body.WriteString("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: card numbers\r\n\r\nPlease charge these credit cards:\r\n")
	for _, c := range cards {
		body.WriteString("card " + c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:] + "\r\n")
	}
	env := policy.Envelope{QueueID: "4XyZ1", ClientAddr: "192.0.2.1", AuthUser: "alice", MailFrom: "alice@example.com", Rcpts: []string{"bob@example.net"}}
	v := eng.Evaluate(context.Background(), policy.Message{Envelope: env, Body: strings.NewReader(body.String())})
	if v.Action == action.Pass || len(v.Detections) == 0 {
		t.Fatalf("verdict %v with %d detections; want a detection (default policy, bulk cards)", v.Action, len(v.Detections))
	}

	dir := t.TempDir()
	sc := storeConfig(dir)
	svc, err := Start(sc, testLog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.Recorder().Record(report.Decision{Frontend: "milter", Envelope: env, Verdict: v, Applied: v.Action})
	// The queue on disk, before the writer empties it.
	var queued strings.Builder
	segs, _ := filepath.Glob(filepath.Join(sc.QueueDir, "*.seg"))
	for _, s := range segs {
		b, _ := os.ReadFile(s)
		queued.Write(b)
	}
	st, err := OpenStore(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCount(t, st, 1, 10*time.Second)
	svc.Close(time.Second)
	if err := st.SetStatus(context.Background(), v.IncidentID, "confirmed", store.Actor{Name: "alice", Addr: "192.0.2.9"}, "real cards"); err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{"queue": queued.String()}
	for _, table := range []string{"incidents", "incident_recipients", "incident_domains", "incident_policies", "events", "quarantine", "requests"} {
		outputs["table "+table] = dumpTable(t, st.DB(), table)
	}
	if !strings.Contains(outputs["table incidents"], "****") {
		t.Errorf("stored incident carries no masked evidence:\n%s", outputs["table incidents"])
	}
	for name, out := range outputs {
		flat := strings.NewReplacer(" ", "", "-", "", "\\u0020", "").Replace(out)
		for _, c := range cards {
			if strings.Contains(out, c) || strings.Contains(flat, c) || strings.Contains(out, c[:4]+" "+c[4:8]+" "+c[8:12]) {
				t.Errorf("card number %s leaked into the %s:\n%s", c, name, out)
			}
		}
	}
}

// dumpTable renders every row of table as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		b.WriteString("\n")
	}
	return b.String()
}
