package detect

import (
	"fmt"
	"sync"
)

// id numbers the built-in identifiers; it indexes registry and is a bit
// position in idMask.
type id uint8

const (
	idCreditCard id = iota
	idIBAN
	idUSSSN
	idUSITIN
	idABARouting
	idSwiftBIC
	idUKNINO
	idUKNHS
	idDESteuerID
	idFRNIR
	idESDNI
	idESNIE
	idITCodiceFiscale
	idNLBSN
	idPLPESEL
	idCASIN
	idAUTFN
	idINAadhaar
	idINPAN
	idAWSAccessKey
	idAWSSecretKey
	idGCPAPIKey
	idGitHubToken
	idSlackToken
	idSlackWebhook
	idStripeKey
	idJWT
	idPrivateKey
	numIDs
)

// idMask is a set of built-in identifiers.
type idMask uint64

func (m idMask) has(i id) bool { return m&(1<<i) != 0 }

// Info describes a built-in identifier for the catalogue.
type Info struct {
	Name        string   // canonical lowercase name, e.g. "credit_card"
	Description string   // what it finds
	Validator   string   // how a candidate is checked
	Confidence  string   // confidence tiers
	Keywords    []string // supporting keywords, matched case-insensitively at a word start
	TestValues  []string // published sample values reported with TestValue set
	Evidence    string   // format of the masked evidence
	Separators  string   // accepted forms (grouping and separators)
}

// entry is one built-in identifier: its catalogue entry, its constructor
// and, for numeric identifiers, the spec the digit-run scanner feeds.
type entry struct {
	info    *Info
	new     func(Options) Detector
	numeric *numericSpec
}

// registry is the one table of built-in identifiers, indexed by id.
var registry = [numIDs]entry{
	idCreditCard:      {&cardNumberInfo, newCardNumber, &cardNumberSpec},
	idIBAN:            {&ibanInfo, newIBAN, nil},
	idUSSSN:           {&ssnInfo, newSSN, &ssnSpec},
	idUSITIN:          {&itinInfo, newITIN, &itinSpec},
	idABARouting:      {&abaRoutingInfo, newABARouting, &abaRoutingSpec},
	idSwiftBIC:        {&bicInfo, newBIC, nil},
	idUKNINO:          {&ninoInfo, newNINO, nil},
	idUKNHS:           {&nhsNumberInfo, newNHSNumber, &nhsNumberSpec},
	idDESteuerID:      {&steuerIDInfo, newSteuerID, &steuerIDSpec},
	idFRNIR:           {&nirInfo, newNIR, &nirSpec},
	idESDNI:           {&dniInfo, newDNI, nil},
	idESNIE:           {&nieInfo, newNIE, nil},
	idITCodiceFiscale: {&codiceFiscaleInfo, newCodiceFiscale, nil},
	idNLBSN:           {&bsnInfo, newBSN, &bsnSpec},
	idPLPESEL:         {&peselInfo, newPESEL, &peselSpec},
	idCASIN:           {&sinInfo, newSIN, &sinSpec},
	idAUTFN:           {&tfnInfo, newTFN, &tfnSpec},
	idINAadhaar:       {&aadhaarInfo, newAadhaar, &aadhaarSpec},
	idINPAN:           {&panInfo, newPAN, nil},
	idAWSAccessKey:    {&awsAccessKeyInfo, newAWSAccessKey, nil},
	idAWSSecretKey:    {&awsSecretKeyInfo, newAWSSecretKey, nil},
	idGCPAPIKey:       {&gcpAPIKeyInfo, newGCPAPIKey, nil},
	idGitHubToken:     {&gitHubTokenInfo, newGitHubToken, nil},
	idSlackToken:      {&slackTokenInfo, newSlackToken, nil},
	idSlackWebhook:    {&slackWebhookInfo, newSlackWebhook, nil},
	idStripeKey:       {&stripeKeyInfo, newStripeKey, nil},
	idJWT:             {&jwtInfo, newJWT, nil},
	idPrivateKey:      {&privateKeyInfo, newPrivateKey, nil},
}

// checkNumeric runs the validator of numeric identifier i on the digits d
// (ASCII). It reports whether d is valid and whether it is a published
// sample value; the confidence comes from the model (confidence.go). (A switch rather than a function value in numericSpec, so
// that d can stay on the stack.)
func checkNumeric(i id, d []byte) (test, ok bool) {
	// A validator reads its identifier's digit counts only; callers that
	// check cells beside a value (otherColumn, validBeside) pass any.
	if !registry[i].numeric.accepts(len(d)) {
		return false, false
	}
	switch i {
	case idCreditCard:
		return checkCard(d)
	case idUSSSN:
		return checkSSN(d)
	case idUSITIN:
		return checkITIN(d)
	case idABARouting:
		return checkABARouting(d)
	case idUKNHS:
		return checkNHSNumber(d)
	case idDESteuerID:
		return checkSteuerID(d)
	case idFRNIR:
		return checkNIR(d)
	case idNLBSN:
		return checkBSN(d)
	case idPLPESEL:
		return checkPESEL(d)
	case idCASIN:
		return checkSIN(d)
	case idAUTFN:
		return checkTFN(d)
	case idINAadhaar:
		return checkAadhaar(d)
	}
	return false, false
}

// byName maps canonical names to ids.
var byName = func() map[string]id {
	m := make(map[string]id, numIDs)
	for i := range numIDs {
		m[registry[i].info.Name] = i
	}
	return m
}()

// Builtins returns the catalogue of built-in identifiers in a fixed order.
func Builtins() []Info {
	out := make([]Info, numIDs)
	for i := range numIDs {
		out[i] = *registry[i].info
	}
	return out
}

// IsBuiltin reports whether name is the canonical name of a built-in
// identifier.
func IsBuiltin(name string) bool {
	_, ok := byName[name]
	return ok
}

// New returns the built-in identifier called name as a stand-alone
// Detector. A [Set] scans for many identifiers at once and is faster than
// running several of these one after another.
func New(name string, opts Options) (Detector, error) {
	i, ok := byName[name]
	if !ok {
		return nil, fmt.Errorf("detect: unknown built-in identifier %q", name)
	}
	return registry[i].new(opts), nil
}

// builtin is embedded in every built-in identifier type. Its Scan runs the
// shared single-pass scanner restricted to this one identifier.
type builtin struct {
	id   id
	opts Options
	once sync.Once
	set  *Set
}

func newBuiltin(i id, o Options) builtin { return builtin{id: i, opts: o} }

// Name returns the canonical name.
func (b *builtin) Name() string { return registry[b.id].info.Name }

// Scan appends the identifier's matches in text to dst.
func (b *builtin) Scan(text string, dst []Match) []Match {
	b.once.Do(func() { b.set = newSet(1<<b.id, nil, b.opts) })
	return b.set.Scan(text, dst)
}
