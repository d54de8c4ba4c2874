package config

import (
	"fmt"
	"log/slog"
)

// The string-valued settings of the config are enumerations: named types
// whose values are listed once, here. Each decodes through
// encoding.TextUnmarshaler, so an unknown value is an error naming its
// file and line at load, and code that uses one compares typed constants,
// never strings.

// parseEnum stores b in *dst and reports whether it is one of values. An
// unknown value is stored too, so that validation still sees the key as
// set (a direction condition stays a direction condition) while Load
// fails with the error.
func parseEnum[T ~string](dst *T, b []byte, what string, values ...T) error {
	*dst = T(b)
	for _, v := range values {
		if string(v) == string(b) {
			return nil
		}
	}
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return fmt.Errorf("unknown %s %q (want %s)", what, b, quoteList(names))
}

// UnscannableOutcome is the main config's unscannable setting.
type UnscannableOutcome string

const (
	UnscannablePass       UnscannableOutcome = "pass"
	UnscannableQuarantine UnscannableOutcome = "quarantine"
	UnscannableTempFail   UnscannableOutcome = "tempfail"
	UnscannableBlock      UnscannableOutcome = "block"
)

func (o *UnscannableOutcome) UnmarshalText(b []byte) error {
	return parseEnum(o, b, "outcome", UnscannablePass, UnscannableQuarantine, UnscannableTempFail, UnscannableBlock)
}

// TooManyOutcome is pass_header.on_too_many.
type TooManyOutcome string

const (
	TooManyReject   TooManyOutcome = "reject"
	TooManyTempFail TooManyOutcome = "tempfail"
)

func (o *TooManyOutcome) UnmarshalText(b []byte) error {
	return parseEnum(o, b, "outcome", TooManyReject, TooManyTempFail)
}

// LogFormat is log.format.
type LogFormat string

const (
	LogJSON LogFormat = "json"
	LogText LogFormat = "text"
)

func (f *LogFormat) UnmarshalText(b []byte) error {
	return parseEnum(f, b, "log format", LogJSON, LogText)
}

// LogLevel is log.level.
type LogLevel string

const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

func (l *LogLevel) UnmarshalText(b []byte) error {
	return parseEnum(l, b, "log level", LogDebug, LogInfo, LogWarn, LogError)
}

// Slog is the level as log/slog numbers it (info for the zero value).
func (l LogLevel) Slog() slog.Level {
	switch l {
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// SyncMode is incidents.sync.
type SyncMode string

const (
	SyncAlways   SyncMode = "always"
	SyncInterval SyncMode = "interval"
	SyncNever    SyncMode = "never"
)

func (m *SyncMode) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "sync mode", SyncAlways, SyncInterval, SyncNever)
}

// NotifySenderMode is notify.notify_sender.
type NotifySenderMode string

const (
	NotifyAuthenticatedOrInternal NotifySenderMode = "authenticated_or_internal"
	NotifyAlways                  NotifySenderMode = "always"
	NotifyNever                   NotifySenderMode = "never"
)

func (m *NotifySenderMode) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "mode", NotifyAuthenticatedOrInternal, NotifyAlways, NotifyNever)
}

// HopMode is reinject.mode.
type HopMode string

const (
	HopReflect HopMode = "reflect"
	HopForward HopMode = "forward"
)

func (m *HopMode) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "mode", HopReflect, HopForward)
}

// BareNewline is reinject.bare_newline.
type BareNewline string

const (
	BareNewlineReject    BareNewline = "reject"
	BareNewlineNormalise BareNewline = "normalise"
)

func (m *BareNewline) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "bare newline handling", BareNewlineReject, BareNewlineNormalise)
}

// IncomingPass is reinject.incoming_pass_header.
type IncomingPass string

const (
	IncomingPassStrip  IncomingPass = "strip"
	IncomingPassRefuse IncomingPass = "refuse"
	IncomingPassKeep   IncomingPass = "keep"
)

func (m *IncomingPass) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "handling", IncomingPassStrip, IncomingPassRefuse, IncomingPassKeep)
}

// HopQuarantine is reinject.quarantine_action.
type HopQuarantine string

const (
	HopQuarantineTempFail HopQuarantine = "tempfail"
	HopQuarantineBlock    HopQuarantine = "block"
	// HopQuarantineHold sends the message on with a hold mark the
	// downstream Postfix maps to HOLD (needs quarantine.hold_key_file).
	HopQuarantineHold HopQuarantine = "hold"
)

func (m *HopQuarantine) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "quarantine action", HopQuarantineTempFail, HopQuarantineBlock, HopQuarantineHold)
}

// TLSOutbound is reinject.tls.outbound.
type TLSOutbound string

const (
	TLSOpportunistic TLSOutbound = "opportunistic"
	TLSRequired      TLSOutbound = "required"
	TLSNone          TLSOutbound = "none"
)

func (m *TLSOutbound) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "TLS mode", TLSOpportunistic, TLSRequired, TLSNone)
}

// Severity is a policy's severity.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

func (s *Severity) UnmarshalText(b []byte) error {
	return parseEnum(s, b, "severity", SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical)
}

// PolicyMode is a policy's mode.
type PolicyMode string

const (
	ModePrevent PolicyMode = "prevent"
	ModeMonitor PolicyMode = "monitor"
)

func (m *PolicyMode) UnmarshalText(b []byte) error {
	return parseEnum(m, b, "mode", ModePrevent, ModeMonitor)
}

// Confidence is a detector's confidence or a condition's min_confidence.
type Confidence string

const (
	ConfidenceLow    Confidence = "low"
	ConfidenceMedium Confidence = "medium"
	ConfidenceHigh   Confidence = "high"
)

func (c *Confidence) UnmarshalText(b []byte) error {
	return parseEnum(c, b, "confidence", ConfidenceLow, ConfidenceMedium, ConfidenceHigh)
}

// Direction is a direction condition's value.
type Direction string

const (
	DirectionOutbound Direction = "outbound"
	DirectionInternal Direction = "internal"
)

func (d *Direction) UnmarshalText(b []byte) error {
	return parseEnum(d, b, "direction", DirectionOutbound, DirectionInternal)
}

// DetectorType is a [[detector]]'s type.
type DetectorType string

const (
	DetectorKeywords   DetectorType = "keywords"
	DetectorRegex      DetectorType = "regex"
	DetectorDictionary DetectorType = "dictionary"
	// DetectorEDM matches rows of an indexed table (exact data matching,
	// docs/edm.md); DetectorIDM matches indexed documents.
	DetectorEDM DetectorType = "edm"
	DetectorIDM DetectorType = "idm"
)

func (t *DetectorType) UnmarshalText(b []byte) error {
	return parseEnum(t, b, "detector type", DetectorKeywords, DetectorRegex, DetectorDictionary, DetectorEDM, DetectorIDM)
}
