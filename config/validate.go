package config

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	detTypes     = []string{"keywords", "regex", "dictionary", "edm", "idm"}
	detectorName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	headerName   = regexp.MustCompile(`^[!-9;-~]+$`) // RFC 5322 ftext
	placeholder  = regexp.MustCompile(`\{[a-z_]*\}`)

	replyPlaceholders  = []string{"{policy}", "{incident_id}"}
	noticePlaceholders = []string{"{policy}", "{description}", "{severity}", "{action}", "{incident_id}", "{sender}", "{recipients}", "{subject}", "{evidence}"}
	subjectPlaceholder = []string{"{policy}", "{incident_id}", "{subject}"}
)

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func (l *loader) validate(c *Config, main *source) {
	if main == nil || main.idx == nil {
		return // syntax error: nothing more to say about this file
	}
	root := keyPath{}
	for i, g := range c.UnscannableExemptTypes {
		if _, err := path.Match(g, ""); err != nil || !strings.Contains(g, "/") {
			main.errorf(root.with("unscannable_exempt_types").index(i), "invalid MIME type pattern %q (want e.g. \"image/*\")", g)
		}
	}
	for i, d := range c.InternalDomains {
		if err := checkDomain(d); err != nil {
			main.errorf(root.with("internal_domains").index(i), "%v", err)
		}
	}
	lim := root.with("limits")
	for _, f := range []struct {
		key string
		v   int64
	}{
		{"max_message_bytes", int64(c.Limits.MaxMessageBytes)},
		{"max_parts", int64(c.Limits.MaxParts)},
		{"max_depth", int64(c.Limits.MaxDepth)},
		{"max_archive_members", int64(c.Limits.MaxArchiveMembers)},
		{"max_decompressed_bytes", int64(c.Limits.MaxDecompressedBytes)},
		{"max_expansion_ratio", c.Limits.MaxExpansionRatio},
		{"max_text_bytes", int64(c.Limits.MaxTextBytes)},
		{"max_scan_memory", int64(c.Limits.MaxScanMemory)},
		{"scan_timeout", int64(c.Limits.ScanTimeout)},
		{"max_added_headers", int64(c.Limits.MaxAddedHeaders)},
		{"max_concurrent_scans", int64(c.Limits.MaxConcurrentScans)},
		{"memory_limit", int64(c.Limits.MemoryLimit)},
		{"spill_bytes", int64(c.Limits.SpillBytes)},
	} {
		if f.v < 0 {
			main.errorf(lim.with(f.key), "must not be negative")
		}
	}
	if w := c.Detection.KeywordWindow; w < 1 || w > 10000 {
		main.errorf(root.with("detection", "keyword_window"), "%d out of range (want 1 to 10000 characters)", w)
	}
	if !headerName.MatchString(c.PassHeader.Name) {
		main.errorf(root.with("pass_header", "name"), "invalid header field name %q", c.PassHeader.Name)
	}
	if strings.ContainsAny(c.PassHeader.Value, "\r\n") {
		main.errorf(root.with("pass_header", "value"), "must be one line")
	}
	if c.PassHeader.MaxIncoming < 0 {
		main.errorf(root.with("pass_header", "max_incoming"), "must not be negative")
	}
	main.validateNotify(&c.Notify)
	main.validateMilter(&c.Milter)
	l.validateReinject(main, &c.Reinject)
	main.validateStore(&c.Store)
	main.validateQuarantine(c)
	main.validateConsole(&c.Console)

	// Detectors first: policies refer to them.
	names := map[string]string{} // custom detector name -> position
	for i := range c.Detectors {
		d := &c.Detectors[i]
		at := l.detectorSrc[i]
		l.validateDetector(d, at, names)
	}
	known := func(name string) bool {
		_, ok := names[name]
		return ok || l.builtin(name)
	}
	seen := map[string]string{}
	for i := range c.Policies {
		p := &c.Policies[i]
		at := l.policySrc[i]
		validatePolicy(p, at.src, at.path, known, c.Limits.MaxAddedHeaders)
		if p.Name != "" {
			if prev, dup := seen[p.Name]; dup {
				at.src.errorf(at.path.with("name"), "duplicate policy name %q (first defined at %s)", p.Name, prev)
			} else {
				seen[p.Name] = p.Pos
			}
		}
	}
}

func (l *loader) validateDetector(d *Detector, at located, names map[string]string) {
	s, p := at.src, at.path
	switch {
	case d.Name == "":
		s.errorf(p, "missing name")
	case !detectorName.MatchString(d.Name):
		s.errorf(p.with("name"), "invalid detector name %q (want lowercase letters, digits and _, starting with a letter)", d.Name)
	case l.builtin(d.Name):
		s.errorf(p.with("name"), "detector name %q is a built-in identifier", d.Name)
	default:
		if prev, dup := names[d.Name]; dup {
			s.errorf(p.with("name"), "duplicate detector name %q (first defined at %s)", d.Name, prev)
		} else {
			names[d.Name] = d.Pos
		}
	}
	if d.Kind != "" {
		if d.Type != "" && d.Type != d.Kind {
			s.errorf(p.with("kind"), "kind = %q and type = %q disagree (write one of them)", d.Kind, d.Type)
		}
		d.Type = d.Kind
	}
	only := func(key string, set bool, typ DetectorType) {
		if set && d.Type != typ {
			s.errorf(p.with(key), "only for type = %q", typ)
		}
	}
	l.validateDataset(d, at)
	only("pattern", d.Pattern != "", DetectorRegex)
	only("file", d.File != "", DetectorDictionary)
	only("words", d.Words != nil, DetectorKeywords)
	if d.CaseSensitive || d.WholeWord != nil {
		if d.Type == DetectorRegex {
			s.errorf(p.with("type"), "case_sensitive and whole_word are for keywords and dictionary detectors (use (?i) and \\b in the pattern)")
		}
	}
	switch d.Type {
	case "":
		s.errorf(p, "missing type (want %s)", quoteList(detTypes))
	case DetectorEDM, DetectorIDM:
		// validateDataset
	case DetectorKeywords:
		if len(d.Words) == 0 {
			s.errorf(p.with("words"), "want at least one word or phrase")
		}
		for i, w := range d.Words {
			if strings.TrimSpace(w) == "" {
				s.errorf(p.with("words").index(i), "empty word")
			}
		}
	case DetectorRegex:
		if d.Pattern == "" {
			s.errorf(p, "missing pattern")
			break
		}
		re, err := regexp.Compile(d.Pattern)
		if err != nil {
			s.errorf(p.with("pattern"), "bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else if re.MatchString("") {
			s.errorf(p.with("pattern"), "pattern matches the empty string")
		}
	case DetectorDictionary:
		if d.File == "" {
			s.errorf(p, "missing file")
			break
		}
		full := d.File
		if !l.isAbs(full) {
			full = l.join(s.dir, full)
		}
		data, err := l.read(full)
		if err != nil {
			s.errorf(p.with("file"), "read dictionary: %v", unwrapPath(err))
			break
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			d.Words = append(d.Words, line)
		}
		if len(d.Words) == 0 {
			s.errorf(p.with("file"), "dictionary %s has no entries", d.File)
		}
	}
}

func validatePolicy(pol *Policy, s *source, p keyPath, known func(string) bool, maxHeaders int) {
	if pol.Name == "" {
		s.errorf(p, "missing name")
	} else if strings.ContainsAny(pol.Name, "\r\n{}") || len(pol.Name) > 100 {
		s.errorf(p.with("name"), "policy name must be one line of at most 100 characters without { or }")
	}
	if pol.Rule.Kind() == "" {
		s.errorf(p, "missing rule (want a [policy.rule] table with all, any or none, or a single condition)")
	} else {
		validateCondition(&pol.Rule, s, p.with("rule"), known)
	}

	ex := p.with("except")
	checkPatterns(s, ex.with("senders"), pol.Except.Senders)
	checkPatterns(s, ex.with("recipients"), pol.Except.Recipients)
	checkDomains(s, ex.with("recipient_domains"), pol.Except.RecipientDomains)
	for i, d := range pol.Except.Detectors {
		if !known(d) {
			s.errorf(ex.with("detectors").index(i), "unknown detector %q", d)
		}
	}

	checkReply := func(key string, r *Reply, class int) {
		if r == nil {
			return
		}
		rp := p.with(key)
		if r.Code/100 != class || r.Code > 599 {
			s.errorf(rp.with("code"), "reply code %d (want %dxx)", r.Code, class)
		}
		if !checkEnhanced(r.Enhanced, class) {
			s.errorf(rp.with("enhanced"), "enhanced status code %q (want %d.x.y, e.g. \"%d.7.1\")", r.Enhanced, class, class)
		}
		checkTemplate(s, rp.with("text"), r.Text, replyPlaceholders)
		if strings.Contains(r.Text, "\r") || len(r.Text) > 900 {
			s.errorf(rp.with("text"), "reply text must have no CR and at most 900 characters")
		}
	}
	checkReply("block", pol.Block, 5)
	checkReply("tempfail", pol.TempFail, 4)
	if q := pol.Quarantine; q != nil {
		checkTemplate(s, p.with("quarantine", "reason"), q.Reason, replyPlaceholders)
		if strings.ContainsAny(q.Reason, "\r\n") {
			s.errorf(p.with("quarantine", "reason"), "must be one line")
		}
	}
	if r := pol.Redirect; r != nil {
		if len(r.To) == 0 {
			s.errorf(p.with("redirect"), "missing to (the review addresses)")
		}
		for i, a := range r.To {
			if err := checkAddress(a); err != nil {
				s.errorf(p.with("redirect", "to").index(i), "%v", err)
			}
		}
	}
	if m := pol.Modify; m != nil {
		mp := p.with("modify")
		if m.SubjectPrefix == "" && m.SubjectReplace == "" && len(m.Headers) == 0 {
			s.errorf(mp, "empty modify (want subject_prefix, subject or headers)")
		}
		if strings.ContainsAny(m.SubjectPrefix, "\r\n") {
			s.errorf(mp.with("subject_prefix"), "must be one line")
		}
		if strings.ContainsAny(m.SubjectReplace, "\r\n") {
			s.errorf(mp.with("subject"), "must be one line")
		}
		checkTemplate(s, mp.with("subject"), m.SubjectReplace, subjectPlaceholder)
		if len(m.Headers) > maxHeaders {
			s.errorf(mp.with("headers"), "%d headers, more than limits.max_added_headers = %d", len(m.Headers), maxHeaders)
		}
		for i, h := range m.Headers {
			hp := mp.with("headers").index(i)
			if !headerName.MatchString(h.Name) {
				s.errorf(hp.with("name"), "invalid header field name %q", h.Name)
			} else if strings.EqualFold(h.Name, "Subject") {
				s.errorf(hp.with("name"), "use subject_prefix or subject to change the subject")
			}
			if strings.ContainsAny(h.Value, "\r\n") {
				s.errorf(hp.with("value"), "must be one line")
			}
		}
	}
	if n := pol.Notify; n != nil {
		np := p.with("notify")
		if !n.Sender && len(n.To) == 0 {
			s.errorf(np, "nobody to notify (want sender = true and/or to = [...])")
		}
		for i, a := range n.To {
			if err := checkAddress(a); err != nil {
				s.errorf(np.with("to").index(i), "%v", err)
			}
		}
		checkTemplate(s, np.with("subject"), n.Subject, noticePlaceholders)
		checkTemplate(s, np.with("body"), n.Body, noticePlaceholders)
		if strings.ContainsAny(n.Subject, "\r\n") {
			s.errorf(np.with("subject"), "must be one line")
		}
	}
}

func checkEnhanced(e string, class int) bool {
	parts := strings.Split(e, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(class) {
		return false
	}
	for _, x := range parts[1:] {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 || n > 999 || len(x) > 3 {
			return false
		}
	}
	return true
}

func checkTemplate(s *source, p keyPath, t string, allowed []string) {
	for _, ph := range placeholder.FindAllString(t, -1) {
		if !slices.Contains(allowed, ph) {
			s.errorf(p, "unknown placeholder %s (want %s)", ph, quoteList(allowed))
		}
	}
}

// modifier keys of detector and proximity conditions
func validateCondition(c *Condition, s *source, p keyPath, known func(string) bool) {
	kinds := c.kinds()
	switch len(kinds) {
	case 0:
		s.errorf(p, "empty condition (want all, any, none, detector, proximity, file_type, filename, min_attachment_size, max_attachment_size, sender, recipients, recipient_domains, direction, header or unscannable)")
		return
	case 1:
	default:
		s.errorf(p, "one condition mixes %s: write them as separate conditions in an all/any group", strings.Join(kinds, " and "))
		return
	}
	kind := kinds[0]
	counted := kind == KindDetector || kind == KindProximity
	if !counted {
		for _, m := range []struct {
			key string
			set bool
		}{
			{"min_confidence", c.MinConfidence != ""},
			{"min_count", c.MinCount != 0},
			{"max_count", c.MaxCount != 0},
			{"include_test_values", c.IncludeTestValues},
		} {
			if m.set {
				s.errorf(p.with(m.key), "only for detector and proximity conditions")
			}
		}
	}
	if kind != KindProximity && c.Within != 0 {
		s.errorf(p.with("within"), "only for proximity conditions")
	}
	if kind != KindHeader && (c.Matches != "" || c.Contains != "") {
		s.errorf(p, "matches and contains are only for header conditions")
	}
	if counted {
		if c.MinCount < 1 {
			s.errorf(p.with("min_count"), "%d (want 1 or more)", c.MinCount)
		}
		if c.MaxCount < 0 || c.MaxCount != 0 && c.MaxCount < c.MinCount {
			s.errorf(p.with("max_count"), "%d (want 0 for no bound, or at least min_count = %d)", c.MaxCount, c.MinCount)
		}
	}
	switch kind {
	case KindGroup:
		if c.All == nil && c.Any == nil && c.None == nil {
			break
		}
		for _, g := range []struct {
			key  string
			list []Condition
		}{{"all", c.All}, {"any", c.Any}, {"none", c.None}} {
			if g.list != nil && len(g.list) == 0 {
				s.errorf(p.with(g.key), "empty group")
			}
			for i := range g.list {
				validateCondition(&g.list[i], s, p.with(g.key).index(i), known)
			}
		}
	case KindDetector:
		if !known(c.Detector) {
			s.errorf(p.with("detector"), "unknown detector %q (want a built-in identifier or a [[detector]] name)", c.Detector)
		}
	case KindProximity:
		if len(c.Proximity) != 2 {
			s.errorf(p.with("proximity"), "want two detector names, got %d", len(c.Proximity))
		}
		for i, d := range c.Proximity {
			if !known(d) {
				s.errorf(p.with("proximity").index(i), "unknown detector %q (want a built-in identifier or a [[detector]] name)", d)
			}
		}
		if c.Within < 1 || c.Within > 100000 {
			s.errorf(p.with("within"), "%d out of range (want 1 to 100000 characters)", c.Within)
		}
	case KindAttachment:
		for i, g := range c.FileType {
			if _, err := path.Match(strings.ToLower(g), ""); err != nil || g == "" || !strings.Contains(g, "/") && g != "*" {
				s.errorf(p.with("file_type").index(i), "invalid MIME type pattern %q (want e.g. \"application/zip\" or \"image/*\")", g)
			}
		}
		for i, g := range c.Filename {
			if _, err := path.Match(strings.ToLower(g), ""); err != nil || g == "" {
				s.errorf(p.with("filename").index(i), "invalid filename pattern %q (want e.g. \"*.kdbx\")", g)
			}
		}
		if c.MinAttachmentSize != nil && c.MaxAttachmentSize != nil && *c.MaxAttachmentSize < *c.MinAttachmentSize {
			s.errorf(p.with("max_attachment_size"), "smaller than min_attachment_size")
		}
	case KindSender:
		checkPatterns(s, p.with("sender"), c.Sender)
		if len(c.Sender) == 0 {
			s.errorf(p.with("sender"), "empty list")
		}
	case KindRecipients:
		checkPatterns(s, p.with("recipients"), c.Recipients)
		if len(c.Recipients) == 0 {
			s.errorf(p.with("recipients"), "empty list")
		}
	case KindDomains:
		checkDomains(s, p.with("recipient_domains"), c.RecipientDomains)
		if len(c.RecipientDomains) == 0 {
			s.errorf(p.with("recipient_domains"), "empty list")
		}
	case KindHeader:
		if !headerName.MatchString(c.Header) {
			s.errorf(p.with("header"), "invalid header field name %q", c.Header)
		}
		if c.Matches != "" && c.Contains != "" {
			s.errorf(p, "use either matches or contains, not both")
		}
		if c.Matches != "" {
			if _, err := regexp.Compile(c.Matches); err != nil {
				s.errorf(p.with("matches"), "bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
		}
	}
}

func checkPatterns(s *source, p keyPath, list []string) {
	for i, a := range list {
		if err := CheckAddressPattern(a); err != nil {
			s.errorf(p.index(i), "%v", err)
		}
	}
}

func checkDomains(s *source, p keyPath, list []string) {
	for i, d := range list {
		if err := checkDomain(d); err != nil {
			s.errorf(p.index(i), "%v", err)
		}
	}
}

// checkDomain accepts a DNS domain name (letters, digits, hyphens, dots).
func checkDomain(d string) error {
	if d == "" || len(d) > 253 {
		return fmt.Errorf("invalid domain %q", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("invalid domain %q", d)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("invalid domain %q", d)
			}
		}
	}
	return nil
}

// checkAddress accepts a plain address local@domain (no display name, no
// angle brackets, no patterns).
func checkAddress(a string) error {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t<>()[],;:\\\"@*?") || checkDomain(domain) != nil {
		return fmt.Errorf("invalid address %q (want local@domain)", a)
	}
	return nil
}

// CheckAddressPattern accepts an address pattern as used in sender,
// recipients and exceptions: an address (user@example.com) whose local
// part and domain may use the glob characters * and ? (*@example.com,
// *@*.example.com). Matching is case-insensitive.
func CheckAddressPattern(a string) error {
	local, domain, ok := strings.Cut(a, "@")
	bad := fmt.Errorf("invalid address pattern %q (want user@example.com, *@example.com or *@*.example.com)", a)
	if !ok || local == "" || domain == "" || strings.ContainsAny(local, " \t<>()[],;:\\\"@") {
		return bad
	}
	d := strings.NewReplacer("*", "x", "?", "x").Replace(domain)
	if checkDomain(d) != nil {
		return bad
	}
	if _, err := path.Match(a, ""); err != nil {
		return bad
	}
	return nil
}
