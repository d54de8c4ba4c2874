package detect

import "strings"

// SlackWebhook finds Slack incoming-webhook URLs:
// hooks.slack.com/services/T…/B…/<24 characters>. Anyone holding the URL
// can post into the channel.
type SlackWebhook struct{ builtin }

func newSlackWebhook(o Options) Detector { return &SlackWebhook{newBuiltin(idSlackWebhook, o)} }

var slackWebhookInfo = Info{
	Name:        "slack_webhook",
	Description: "Slack incoming-webhook URLs",
	Validator:   "hooks.slack.com/services/ + T + 8-12 upper-case letters/digits + / + B + 8-12 upper-case letters/digits + / + 24 letters/digits",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"slack", "webhook", "incoming webhook", "SLACK_WEBHOOK_URL", "channel",
	},
	Evidence:   "hooks.slack.com/services/**** (type prefix only)",
	Separators: "none",
}

const slackHookPrefix = "hooks.slack.com/services/"

// slackWebhook checks the URL that starts with the word "hooks" at i.
func (sc *scanner) slackWebhook(i int) int {
	t := sc.text
	if !strings.HasPrefix(t[i:], slackHookPrefix) {
		return -1
	}
	p := i + len(slackHookPrefix)
	for _, lead := range [...]byte{'T', 'B'} {
		if p >= len(t) || t[p] != lead {
			return -1
		}
		e := p + 1
		for e < len(t) && (isUpper(t[e]) || isDigit(t[e])) {
			e++
		}
		if n := e - p - 1; n < 8 || n > 12 || e >= len(t) || t[e] != '/' {
			return -1
		}
		p = e + 1
	}
	e := p
	for e < len(t) && isAlnum(t[e]) {
		e++
	}
	if e-p != 24 || !boundedAfter(t, e) {
		return -1
	}
	sc.emit(idSlackWebhook, i, e, Medium, false, MaskPrefix(slackHookPrefix), keyOfString(idSlackWebhook, t[i:e]))
	return e
}

var _ Detector = (*SlackWebhook)(nil)
