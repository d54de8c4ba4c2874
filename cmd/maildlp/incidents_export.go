package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/maildlp/maildlp/store"
)

// exportIncidents writes every incident of f, newest first, page by page.
func exportIncidents(ctx context.Context, st *store.Store, f store.Filter, format string, w io.Writer) error {
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	if format == "csv" {
		cw = csv.NewWriter(w)
		cw.Write(csvHeader)
	}
	cur := ""
	for {
		ins, next, err := st.List(ctx, f, store.Page{After: cur, Limit: 500})
		if err != nil {
			return err
		}
		for _, in := range ins {
			// The list carries no evidence: fetch each for the export.
			full, err := st.Get(ctx, in.ID)
			if err != nil {
				return err
			}
			switch format {
			case "jsonl":
				err = enc.Encode(full)
			case "csv":
				err = cw.Write(csvRow(full))
			case "cef":
				_, err = io.WriteString(w, cefLine(full)+"\n")
			}
			if err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

var csvHeader = []string{"id", "time", "node", "mta_host", "frontend", "queue_id", "session_id", "message_id", "direction",
	"sender", "auth_user", "client_addr", "recipients", "action", "verdict_action", "severity", "policies",
	"detections", "unscannable", "status", "assignee"}

func csvRow(in store.Incident) []string {
	var rcpts, pols, dets, uns []string
	for _, r := range in.Recipients {
		rcpts = append(rcpts, r.Address)
	}
	for _, p := range in.Policies {
		pols = append(pols, p.Name)
	}
	for _, d := range in.Detections {
		dets = append(dets, d.Type+":"+strconv.Itoa(d.Count))
	}
	for _, u := range in.Unscannable {
		uns = append(uns, u.Location+":"+u.Reason)
	}
	row := []string{in.ID, in.Time.Format("2006-01-02T15:04:05.000000Z07:00"), in.Node, in.MTAHost, in.Frontend, in.QueueID,
		in.SessionID, in.MessageID, in.Direction, in.Sender, in.AuthUser, in.ClientAddr, strings.Join(rcpts, ";"),
		in.Action, in.VerdictAction, in.Severity, strings.Join(pols, ";"), strings.Join(dets, ";"),
		strings.Join(uns, ";"), string(in.Status), in.Assignee}
	for i, v := range row {
		row[i] = csvSafe(v)
	}
	return row
}

// csvSafe keeps a spreadsheet from reading a field as a formula: the
// sender and recipients are chosen by whoever sent the mail.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cefSeverity maps a policy severity to CEF's 0-10.
var cefSeverity = map[string]int{"": 3, "low": 3, "medium": 5, "high": 8, "critical": 10}

// cefLine is one ArcSight Common Event Format line.
func cefLine(in store.Incident) string {
	name := "maildlp incident: " + in.Action
	if len(in.Policies) > 0 {
		name += " by " + policyNames(in.Policies)
	}
	var rcpts, pols, dets []string
	for _, r := range in.Recipients {
		rcpts = append(rcpts, r.Address)
	}
	for _, p := range in.Policies {
		pols = append(pols, p.Name)
	}
	for _, d := range in.Detections {
		dets = append(dets, d.Type+":"+strconv.Itoa(d.Count))
	}
	ext := []struct{ k, v string }{
		{"rt", strconv.FormatInt(in.Time.UnixMilli(), 10)},
		{"externalId", in.ID},
		{"act", in.Action},
		{"suser", in.Sender},
		{"duser", strings.Join(rcpts, ",")},
		{"src", in.ClientAddr},
		{"shost", in.ClientName},
		{"dvchost", in.Node},
		{"cs1Label", "policies"}, {"cs1", strings.Join(pols, ",")},
		{"cs2Label", "detections"}, {"cs2", strings.Join(dets, ",")},
		{"cs3Label", "status"}, {"cs3", string(in.Status)},
		{"cs4Label", "queueId"}, {"cs4", in.QueueID},
		{"cs5Label", "mtaHost"}, {"cs5", in.MTAHost},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CEF:0|maildlp|maildlp|%s|%s|%s|%d|", cefHeader(versionString()), cefHeader(in.Action),
		cefHeader(name), cefSeverity[in.Severity])
	first := true
	for _, e := range ext {
		if e.v == "" {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(e.k + "=" + cefValue(e.v))
	}
	return b.String()
}

// cefHeader escapes a CEF header field: backslash and pipe.
func cefHeader(s string) string {
	return strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r", " ", "\n", " ").Replace(s)
}

// cefValue escapes a CEF extension value: backslash, equals, newlines.
func cefValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r", `\r`, "\n", `\n`).Replace(s)
}
