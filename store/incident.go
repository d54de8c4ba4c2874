package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where an incident is in review.
type Status string

// Statuses. Confirmed, FalsePositive and AcceptedRisk resolve an incident.
const (
	StatusNew           Status = "new"
	StatusInReview      Status = "in_review"
	StatusConfirmed     Status = "confirmed"
	StatusFalsePositive Status = "false_positive"
	StatusAcceptedRisk  Status = "accepted_risk"
)

// Statuses lists every status, in review order.
var Statuses = []Status{StatusNew, StatusInReview, StatusConfirmed, StatusFalsePositive, StatusAcceptedRisk}

// ParseStatus parses a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("store: unknown status %q (want new, in_review, confirmed, false_positive or accepted_risk)", s)
}

// Incident is one recorded decision: who sent what to whom, which
// policies matched and what was done, with masked evidence only.
type Incident struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Node       string    `json:"node,omitempty"`     // the maildlp node that decided
	MTAHost    string    `json:"mta_host,omitempty"` // the MTA whose queue id this is
	Frontend   string    `json:"frontend,omitempty"` // milter, reinject
	SessionID  string    `json:"session_id,omitempty"`
	QueueID    string    `json:"queue_id,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	Direction  string    `json:"direction,omitempty"` // internal, outbound, inbound
	Sender     string    `json:"sender"`
	AuthUser   string    `json:"auth_user,omitempty"`
	ClientAddr string    `json:"client_addr,omitempty"`
	ClientName string    `json:"client_name,omitempty"`
	HELO       string    `json:"helo,omitempty"`
	// Subject is the subject as the incident log records it (masked).
	Subject    string      `json:"subject,omitempty"`
	Size       int64       `json:"size,omitempty"`
	Recipients []Recipient `json:"recipients"`

	Action        string   `json:"action"`                 // what the front end did
	VerdictAction string   `json:"verdict_action"`         // what the engine decided
	WouldAction   string   `json:"would_action,omitempty"` // monitor / trial mode
	Severity      string   `json:"severity,omitempty"`     // highest of the policies
	Policies      []Policy `json:"policies"`

	Detections  []Detection   `json:"detections,omitempty"`
	Unscannable []Unscannable `json:"unscannable,omitempty"`
	// Extra holds the rest of the decision (reply, quarantine reason,
	// notices ...) as JSON, shown by detail views and exports.
	Extra    json.RawMessage `json:"extra,omitempty"`
	Duration time.Duration   `json:"duration_us,omitempty"`
	Error    string          `json:"error,omitempty"`

	Status   Status    `json:"status"`
	Assignee string    `json:"assignee,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Recipient is one envelope recipient and what was done for it.
type Recipient struct {
	Address string `json:"address"`
	Action  string `json:"action,omitempty"`
}

// Policy is one matched policy.
type Policy struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Mode     string `json:"mode"`   // prevent or monitor
	Action   string `json:"action"` // asked for (or would have, in monitor mode)
	Enforced bool   `json:"enforced"`
}

// Detection is what one detector found: counts, masked evidence and
// locations, never a value.
type Detection struct {
	Type       string   `json:"type"`
	Count      int      `json:"count"`
	Confidence string   `json:"confidence,omitempty"`
	TestValue  bool     `json:"test_value,omitempty"`
	Evidence   []string `json:"evidence,omitempty"` // masked
	Locations  []string `json:"locations,omitempty"`
}

// Unscannable is content that could not be read, where and why.
type Unscannable struct {
	Location string `json:"location"`
	Reason   string `json:"reason"`
}

// detail is the JSON column: the parts of an incident no filter uses.
type detail struct {
	Detections  []Detection     `json:"detections,omitempty"`
	Unscannable []Unscannable   `json:"unscannable,omitempty"`
	Extra       json.RawMessage `json:"extra,omitempty"`
}

var severityRank = map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}

// MaxSeverity is the highest severity of ps ("" when none).
func MaxSeverity(ps []Policy) string {
	best := ""
	for _, p := range ps {
		if severityRank[p.Severity] > severityRank[best] {
			best = p.Severity
		}
	}
	return best
}

// Domain is the lowercased domain of an address ("" without one).
func Domain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[i+1:], ">"))
}

// Insert stores incidents in one transaction. An incident whose id is
// already stored is skipped, so replaying a queue is harmless. It returns
// how many were new.
func (s *Store) Insert(ctx context.Context, ins []Incident) (int, error) {
	if len(ins) == 0 {
		return 0, nil
	}
	n := 0
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		qInc := s.q(`INSERT INTO incidents (id, time_us, node, mta_host, frontend, session_id, queue_id,
			message_id, direction, sender, auth_user, client_addr, client_name, helo, subject, size,
			action, verdict_action, would_action, severity, status, assignee, updated_us, duration_us,
			error, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (id) DO NOTHING`)
		qRcpt := s.q(`INSERT INTO incident_recipients (incident_id, pos, address, action) VALUES (?,?,?,?)`)
		qDom := s.q(`INSERT INTO incident_domains (domain, time_us, incident_id) VALUES (?,?,?) ON CONFLICT DO NOTHING`)
		qPol := s.q(`INSERT INTO incident_policies (incident_id, name, time_us, severity, mode, action, enforced)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`)
		// Prepared once per batch: compiling each statement per row
		// costs more than running it.
		var stmts [4]*sql.Stmt
		for i, q := range []string{qInc, qRcpt, qDom, qPol} {
			st, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("store: prepare insert: %w", err)
			}
			defer st.Close()
			stmts[i] = st
		}
		sInc, sRcpt, sDom, sPol := stmts[0], stmts[1], stmts[2], stmts[3]
		for i := range ins {
			in := &ins[i]
			if in.ID == "" {
				return errors.New("store: incident without id")
			}
			if in.Severity == "" {
				in.Severity = MaxSeverity(in.Policies)
			}
			if in.Status == "" {
				in.Status = StatusNew
			}
			if in.Updated.IsZero() {
				in.Updated = in.Time
			}
			det, err := json.Marshal(detail{Detections: in.Detections, Unscannable: in.Unscannable, Extra: in.Extra})
			if err != nil {
				return fmt.Errorf("store: encode incident %s: %w", in.ID, err)
			}
			t := micros(in.Time)
			res, err := sInc.ExecContext(ctx, texts(in.ID, t, in.Node, in.MTAHost, in.Frontend, in.SessionID,
				in.QueueID, in.MessageID, in.Direction, in.Sender, in.AuthUser, in.ClientAddr, in.ClientName,
				in.HELO, in.Subject, in.Size, in.Action, in.VerdictAction, in.WouldAction, in.Severity,
				string(in.Status), in.Assignee, micros(in.Updated), in.Duration.Microseconds(), in.Error, string(det))...)
			if err != nil {
				return fmt.Errorf("store: insert incident %s: %w", in.ID, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue // already stored
			}
			n++
			for j, r := range in.Recipients {
				if _, err := sRcpt.ExecContext(ctx, texts(in.ID, j, r.Address, r.Action)...); err != nil {
					return fmt.Errorf("store: insert recipient of %s: %w", in.ID, err)
				}
				if d := Domain(r.Address); d != "" {
					if _, err := sDom.ExecContext(ctx, texts(d, t, in.ID)...); err != nil {
						return fmt.Errorf("store: insert recipient domain of %s: %w", in.ID, err)
					}
				}
			}
			for _, p := range in.Policies {
				if _, err := sPol.ExecContext(ctx, texts(in.ID, p.Name, t, p.Severity, p.Mode, p.Action, boolInt(p.Enforced))...); err != nil {
					return fmt.Errorf("store: insert policy of %s: %w", in.ID, err)
				}
			}
		}
		return nil
	})
	return n, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const incidentColumns = `i.id, i.time_us, i.node, i.mta_host, i.frontend, i.session_id, i.queue_id, i.message_id,
	i.direction, i.sender, i.auth_user, i.client_addr, i.client_name, i.helo, i.subject, i.size, i.action,
	i.verdict_action, i.would_action, i.severity, i.status, i.assignee, i.updated_us, i.duration_us, i.error`

type scanner interface{ Scan(...any) error }

func scanIncident(r scanner, in *Incident, extra ...any) error {
	var t, upd, dur int64
	var st string
	dst := []any{&in.ID, &t, &in.Node, &in.MTAHost, &in.Frontend, &in.SessionID, &in.QueueID, &in.MessageID,
		&in.Direction, &in.Sender, &in.AuthUser, &in.ClientAddr, &in.ClientName, &in.HELO, &in.Subject, &in.Size,
		&in.Action, &in.VerdictAction, &in.WouldAction, &in.Severity, &st, &in.Assignee, &upd, &dur, &in.Error}
	if err := r.Scan(append(dst, extra...)...); err != nil {
		return err
	}
	in.Time, in.Updated, in.Duration, in.Status = fromMicros(t), fromMicros(upd), time.Duration(dur)*time.Microsecond, Status(st)
	return nil
}

// Get returns the incident with its recipients, policies, evidence and
// unscannable findings.
func (s *Store) Get(ctx context.Context, id string) (Incident, error) {
	var in Incident
	var det string
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+incidentColumns+`, i.detail FROM incidents i WHERE i.id = ?`), id)
	if err := scanIncident(row, &in, &det); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return in, fmt.Errorf("incident %s: %w", id, ErrNotFound)
		}
		return in, fmt.Errorf("store: get incident %s: %w", id, err)
	}
	var d detail
	if err := json.Unmarshal([]byte(det), &d); err != nil {
		return in, fmt.Errorf("store: decode incident %s: %w", id, err)
	}
	in.Detections, in.Unscannable, in.Extra = d.Detections, d.Unscannable, d.Extra
	if err := s.fill(ctx, []*Incident{&in}); err != nil {
		return in, err
	}
	return in, nil
}

// fill loads the recipients and policies of ins.
func (s *Store) fill(ctx context.Context, ins []*Incident) error {
	if len(ins) == 0 {
		return nil
	}
	byID := make(map[string]*Incident, len(ins))
	args := make([]any, 0, len(ins))
	for _, in := range ins {
		byID[in.ID] = in
		in.Recipients, in.Policies = []Recipient{}, []Policy{}
		args = append(args, in.ID)
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(ins)), ",")
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT incident_id, address, action FROM incident_recipients
		WHERE incident_id IN (`+ph+`) ORDER BY incident_id, pos`), args...)
	if err != nil {
		return fmt.Errorf("store: recipients: %w", err)
	}
	for rows.Next() {
		var id string
		var r Recipient
		if err := rows.Scan(&id, &r.Address, &r.Action); err != nil {
			rows.Close()
			return fmt.Errorf("store: recipients: %w", err)
		}
		byID[id].Recipients = append(byID[id].Recipients, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: recipients: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT incident_id, name, severity, mode, action, enforced
		FROM incident_policies WHERE incident_id IN (`+ph+`) ORDER BY incident_id, name`), args...)
	if err != nil {
		return fmt.Errorf("store: policies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var p Policy
		var enf int
		if err := rows.Scan(&id, &p.Name, &p.Severity, &p.Mode, &p.Action, &enf); err != nil {
			return fmt.Errorf("store: policies: %w", err)
		}
		p.Enforced = enf != 0
		byID[id].Policies = append(byID[id].Policies, p)
	}
	return rows.Err()
}
