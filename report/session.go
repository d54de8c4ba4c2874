package report

// SessionCounter is implemented by Recorders that count open MTA sessions
// (the service's [Journal]). Front ends use [StartSession] rather than
// this interface directly.
type SessionCounter interface {
	SessionStarted(frontend string)
	SessionEnded(frontend string)
}

// StartSession counts an MTA session of frontend ("milter", "reinject") as
// open, if rec counts sessions, and returns the function to call exactly
// once when the session closes:
//
//	defer report.StartSession(rec, "milter")()
func StartSession(rec Recorder, frontend string) (end func()) {
	sc, ok := rec.(SessionCounter)
	if !ok {
		return func() {}
	}
	sc.SessionStarted(frontend)
	done := false
	return func() {
		if !done {
			done = true
			sc.SessionEnded(frontend)
		}
	}
}

// SessionStarted counts an open session of frontend.
func (j *Journal) SessionStarted(frontend string) { j.metrics.SessionStarted(frontend) }

// SessionEnded counts a closed session of frontend.
func (j *Journal) SessionEnded(frontend string) { j.metrics.SessionEnded(frontend) }
