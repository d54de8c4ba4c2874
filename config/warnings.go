package config

// Warnings lists settings that are valid but let a sender get content past
// the scan, or make maildlp mail a sender's text to forged addresses.
// check-config prints them; they never stop a config from loading.
func (c *Config) Warnings() []string {
	var w []string
	timeoutAdvice := "any sender can switch scanning off for a message by attaching content that takes longer than limits.scan_timeout to read"
	if c.Failure.OnTimeout == OutcomeAccept {
		w = append(w, "failure.on_timeout = \"accept\": "+timeoutAdvice)
	}
	if c.Failure.OnError == OutcomeAccept {
		w = append(w, "failure.on_error = \"accept\": a message that makes the engine fail is delivered unscanned")
	}
	if c.Failure.OnOverload == OutcomeAccept {
		w = append(w, "failure.on_overload = \"accept\": a sender who opens enough sessions gets the next messages through unscanned")
	}
	if c.Unscannable == UnscannablePass {
		w = append(w, "unscannable = \"pass\": content that cannot be read (encrypted, over a limit, past the scan deadline) is delivered unread; "+timeoutAdvice)
	}
	if c.Notify.NotifySender == NotifyAlways {
		w = append(w, "notify.notify_sender = \"always\": notices go to forged senders too (backscatter through your relay)")
	}
	return w
}
