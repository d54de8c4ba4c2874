package detect

// SlackToken finds Slack API tokens: xoxb- (bot), xoxp- (user), xoxa-
// (app), xoxr- (refresh) and xoxs- (session/legacy workspace) followed by
// dash-separated segments of letters and digits.
type SlackToken struct{ builtin }

func newSlackToken(o Options) Detector { return &SlackToken{newBuiltin(idSlackToken, o)} }

var slackTokenInfo = Info{
	Name:        "slack_token",
	Description: "Slack API tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-)",
	Validator:   "xox[bpars]- then at least two more dash-separated segments of letters and digits, the last at least 6 long, 20-255 characters in all, containing digits",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"slack", "token", "bot token", "SLACK_TOKEN", "SLACK_BOT_TOKEN", "xoxb", "oauth", "bearer", "authorization",
	},
	Evidence:   "xoxb-**** (type prefix only)",
	Separators: "none",
}

// slackToken checks the token that starts with the word "xox?" at i.
func (sc *scanner) slackToken(i int) int {
	t := sc.text
	if i+5 > len(t) || t[i:i+3] != "xox" || t[i+4] != '-' {
		return -1
	}
	switch t[i+3] {
	case 'b', 'p', 'a', 'r', 's':
	default:
		return -1
	}
	e := i + 5
	segs, seg, digits := 1, 0, false
	for e < len(t) && e-i <= 255 && (isAlnum(t[e]) || t[e] == '-') {
		if t[e] == '-' {
			if seg == 0 {
				return -1
			}
			segs++
			seg = 0
		} else {
			seg++
			digits = digits || isDigit(t[e])
		}
		e++
	}
	if e-i < 20 || e-i > 255 || segs < 2 || seg < 6 || !digits || (e < len(t) && wordClass[t[e]] != 0) {
		return -1
	}
	sc.emit(idSlackToken, i, e, Medium, false, MaskPrefix(t[i:i+5]), keyOfString(idSlackToken, t[i:e]))
	return e
}

var _ Detector = (*SlackToken)(nil)
