package config

import "time"

// Defaults of the main config, documented in docs/config.md.
const (
	DefaultUnscannable     = "quarantine"
	DefaultPassHeaderName  = "X-Filter-Loop"
	DefaultPassHeaderValue = "Reflected"
	// DefaultPassHeaderMaxIncoming and DefaultPassHeaderOnTooMany: see
	// [PassHeader].
	DefaultPassHeaderMaxIncoming = 8
	DefaultPassHeaderOnTooMany   = "reject"
	DefaultLogFormat             = "json"
	DefaultLogLevel              = "info"
	DefaultKeywordWindow         = 300
	DefaultMaxAddedHeaders       = 10
	DefaultShutdownTimeout       = 30 * time.Second

	DefaultSeverity      = "medium"
	DefaultMode          = "prevent"
	DefaultMinConfidence = "medium"
	DefaultWithin        = 300
	DefaultBlockCode     = 550
	DefaultBlockEnhanced = "5.7.1"
	DefaultBlockText     = "message refused by data protection policy {policy} (incident {incident_id})"
	DefaultTempCode      = 451
	DefaultTempEnhanced  = "4.7.1"
	DefaultTempText      = "message deferred by data protection policy {policy} (incident {incident_id})"
	DefaultQuarantine    = "held by data protection policy {policy} (incident {incident_id})"
	DefaultNoticeSubject = "[maildlp] {action}: {subject}"
	DefaultNoticeBody    = `A message was handled by a data protection policy.

Policy:      {policy} ({severity})
Action:      {action}
Incident:    {incident_id}
From:        {sender}
To:          {recipients}
Subject:     {subject}

What was found (masked):
{evidence}

Quote the incident id when you contact the help desk.
`
)

// Limit defaults, the same as policy/extract.DefaultLimits.
const (
	DefaultMaxMessageBytes      = 50 << 20
	DefaultMaxParts             = 1000
	DefaultMaxDepth             = 10
	DefaultMaxArchiveMembers    = 1000
	DefaultMaxDecompressedBytes = 200 << 20
	DefaultMaxExpansionRatio    = 100
	DefaultMaxTextBytes         = 20 << 20
	DefaultMaxScanMemory        = 128 << 20
	DefaultScanTimeout          = 20 * time.Second
)

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// applyDefaults fills every unset field.
func (c *Config) applyDefaults() {
	setDefault(&c.Unscannable, DefaultUnscannable)
	if c.UnscannableExemptTypes == nil {
		c.UnscannableExemptTypes = []string{"image/*", "audio/*", "video/*", "font/*"}
	}
	setDefault(&c.Detection.KeywordWindow, DefaultKeywordWindow)
	setDefault(&c.ShutdownTimeout, Duration(DefaultShutdownTimeout))

	l := &c.Limits
	setDefault(&l.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&l.MaxParts, DefaultMaxParts)
	setDefault(&l.MaxDepth, DefaultMaxDepth)
	setDefault(&l.MaxArchiveMembers, DefaultMaxArchiveMembers)
	setDefault(&l.MaxDecompressedBytes, DefaultMaxDecompressedBytes)
	setDefault(&l.MaxExpansionRatio, DefaultMaxExpansionRatio)
	setDefault(&l.MaxTextBytes, DefaultMaxTextBytes)
	setDefault(&l.MaxScanMemory, DefaultMaxScanMemory)
	setDefault(&l.ScanTimeout, Duration(DefaultScanTimeout))
	setDefault(&l.MaxAddedHeaders, DefaultMaxAddedHeaders)

	if c.PassHeader.Enabled == nil {
		t := true
		c.PassHeader.Enabled = &t
	}
	setDefault(&c.PassHeader.Name, DefaultPassHeaderName)
	setDefault(&c.PassHeader.Value, DefaultPassHeaderValue)
	setDefault(&c.PassHeader.MaxIncoming, DefaultPassHeaderMaxIncoming)
	setDefault(&c.PassHeader.OnTooMany, DefaultPassHeaderOnTooMany)

	setDefault(&c.Log.Format, DefaultLogFormat)
	setDefault(&c.Log.Level, DefaultLogLevel)

	c.Incidents = c.Incidents.WithDefaults()
	c.Store = c.Store.WithDefaults()
	c.Notify = c.Notify.WithDefaults()
	c.Quarantine = c.Quarantine.WithDefaults()

	// The front-end sections fill their own defaults.
	if d, ok := any(c.Milter).(interface{ WithDefaults() Milter }); ok {
		c.Milter = d.WithDefaults()
	}
	if d, ok := any(c.Reinject).(interface{ WithDefaults() Reinject }); ok {
		c.Reinject = d.WithDefaults()
	}

	for i := range c.Policies {
		c.Policies[i].applyDefaults()
	}
	for i := range c.Detectors {
		setDefault(&c.Detectors[i].Confidence, DefaultMinConfidence)
	}
}

func (p *Policy) applyDefaults() {
	setDefault(&p.Severity, DefaultSeverity)
	setDefault(&p.Mode, DefaultMode)
	p.Rule.applyDefaults()
	if r := p.Block; r != nil {
		setDefault(&r.Code, DefaultBlockCode)
		setDefault(&r.Enhanced, DefaultBlockEnhanced)
		setDefault(&r.Text, DefaultBlockText)
	}
	if r := p.TempFail; r != nil {
		setDefault(&r.Code, DefaultTempCode)
		setDefault(&r.Enhanced, DefaultTempEnhanced)
		setDefault(&r.Text, DefaultTempText)
	}
	if q := p.Quarantine; q != nil {
		setDefault(&q.Reason, DefaultQuarantine)
	}
	if n := p.Notify; n != nil {
		setDefault(&n.Subject, DefaultNoticeSubject)
		setDefault(&n.Body, DefaultNoticeBody)
	}
}

func (c *Condition) applyDefaults() {
	switch c.Kind() {
	case KindDetector, KindProximity:
		setDefault(&c.MinConfidence, DefaultMinConfidence)
		setDefault(&c.MinCount, 1)
		if c.Kind() == KindProximity {
			setDefault(&c.Within, DefaultWithin)
		}
	}
	for _, l := range [][]Condition{c.All, c.Any, c.None} {
		for i := range l {
			l[i].applyDefaults()
		}
	}
}
