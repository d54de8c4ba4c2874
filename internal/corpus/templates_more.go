package corpus

import (
	"fmt"
	"strings"
)

// More kinds of ordinary mail whose numbers and words pass identifier
// checks by chance: API payloads, part numbers, notices in capitals,
// international postal tracking, Windows security identifiers, amounts
// grouped in threes.

func apiPayload(r *Rand) Doc {
	var items []string
	for range 4 {
		items = append(items, fmt.Sprintf(`    {"id": %d, "sku": "ART-%05d", "ean": "%s", "qty": %d, "price_cents": %d, "created_at": %d}`,
			r.Int64N(9e15)+1e15, r.IntN(1e5), EAN13Any(r), 1+r.IntN(9), r.IntN(100000), Epoch(r)*1000))
	}
	body := fmt.Sprintf(`Hi,

the webhook sends this payload; the order id is a 64-bit integer, not a string:

{
  "event": "order.updated",
  "order_id": %d,
  "external_id": "%s",
  "customer": {"id": %d, "account_no": "%s", "phone": "%s"},
  "shipment": {"carrier": "USPS", "tracking": "%s", "label_id": %d},
  "payment": {"method": "card", "last4": "%s", "auth_code": "%s", "transaction_id": "%s"},
  "items": [
%s
  ],
  "trace": {"trace_id": %d, "span_id": %d}
}

Can you check why the consumer rejects it?`,
		r.Int64N(9e15)+1e15, UUID(r), r.IntN(1e9), r.Digits(12), Phone(r), strings.ReplaceAll(USPS22(r), " ", ""), r.Int64N(9e15)+1e15,
		r.Digits(4), r.From(upper+digits, 6), r.Digits(16), strings.Join(items, ",\n"), r.Uint64(), r.Uint64())
	return Doc{Subject: "Webhook payload rejected", Body: body, Name: "payload"}
}

// partNumbers are catalogue part numbers of common chips; some have the
// shape of a UK NI number (two letters, six digits, A-D).
var partNumbers = []string{"MC146818A", "SN74LS00N", "NE555P", "LM7805CT", "AT24C256", "MAX232CPE", "TL072CP", "LM358N",
	"CD4017BE", "ATMEGA328P", "STM32F103C8T6", "ESP32WROOM32E", "PCF8574AT", "DS1307Z", "MCP23017"}

func billOfMaterials(r *Rand) Doc {
	t := [][]string{{"Ref", "Part number", "Manufacturer", "Qty", "Unit (EUR)", "Supplier no."}}
	for i := range 14 {
		pn := partNumbers[r.IntN(len(partNumbers))]
		if i%3 == 0 {
			pn = r.From("ABCEGHJKLMNPRSTWXYZ", 2) + r.Digits(6) + r.From("ABCD", 1) // NI-number shape
		}
		t = append(t, []string{fmt.Sprintf("U%d", i+1), pn, r.Pick("Texas Instruments", "Microchip", "ST", "NXP", "Analog Devices"),
			fmt.Sprint(1 + r.IntN(500)), fmt.Sprintf("%d.%03d", r.IntN(20), r.IntN(1000)), r.Digits(9)})
	}
	return Doc{Subject: "BOM rev C for the controller board", Body: "Attached the bill of materials; the RTC is the MC146818A-compatible part.", Table: t, Name: "bom"}
}

func capitalsNotice(r *Rand) Doc {
	body := fmt.Sprintf(`IMPORTANT CUSTOMER NOTICE - BUSINESS BANKING

DEAR CUSTOMER, FROM %s OUR BANK TRANSFER CUT-OFF TIMES CHANGE. DOCUMENT REFERENCES AND STANDING ORDERS REMAIN VALID.
PLEASE CHECK YOUR BENEFICIARY DETAILS, IBAN AND SWIFT/BIC BEFORE THE NEXT PAYMENT RUN. SECURITY REMINDER: WE NEVER ASK FOR PASSWORDS.
CUSTOMER SERVICE: %s. VERSIONS OF THIS NOTICE IN OTHER LANGUAGES ARE ON OUR WEBSITE.`,
		date(r).Format("02 JANUARY 2006"), Phone(r))
	return Doc{Subject: "IMPORTANT: CUSTOMER NOTICE", Body: body, Name: "notice"}
}

func postalTracking(r *Rand) Doc {
	var lines []string
	lines = append(lines, "International parcels (UPU S10 numbers):", "")
	for range 8 {
		lines = append(lines, fmt.Sprintf("%s%s%s  %s  %s", r.Pick("RR", "LX", "CP", "EE", "RA", "UA"), r.Digits(9), r.Pick("DE", "CN", "US", "GB", "NL", "FR"),
			r.Pick("in transit", "delivered", "customs clearance"), date(r).Format("2006-01-02 15:04")))
	}
	lines = append(lines, "", "Royal Mail reference "+r.From(upper, 2)+" "+r.Digits(4)+" "+r.Digits(4)+" "+r.From(upper, 2)+", DPD parcel "+r.Digits(14)+", Hermes "+r.Digits(16)+".")
	return Doc{Subject: "Parcel status update", Body: strings.Join(lines, "\n"), Name: "parcels"}
}

func windowsEvents(r *Rand) Doc {
	var lines []string
	for range 8 {
		lines = append(lines, fmt.Sprintf("EventID %s  %s  S-1-5-21-%d-%d-%d-%d  LogonType %d  %s  RecordNumber %d",
			r.Pick("4624", "4625", "4672", "4688"), date(r).Format("2006-01-02T15:04:05.0000000Z"), 1000000000+r.IntN(2e9), 1000000000+r.IntN(2e9),
			10000000+r.IntN(9e7), 1000+r.IntN(9000), 2+r.IntN(9), IPv4(r), r.Int64N(1e10)))
	}
	return Doc{Subject: "Failed logons on DC01", Body: "Security log excerpt:\n\n" + strings.Join(lines, "\n") + "\n\nKB" + r.Digits(7) + " is installed; build 10.0." + r.Digits(5) + "." + r.Digits(4) + ".", Name: "events"}
}

func groupedAmounts(r *Rand) Doc {
	amt := func() string { return Group(r.DigitsNZ(9), " ", 3, 3, 3) }
	body := fmt.Sprintf(`Bonjour,

voici les chiffres du trimestre :
Chiffre d'affaires : %s EUR
Capital social : %s €
Résultat net : %s EUR
Effectif : %d salariés ; SIREN %s ; SIRET %s ; TVA FR%s.
Numéro de dossier %s ; facture n° %s du %s.

Cordialement`,
		amt(), amt(), amt(), 10+r.IntN(500), Group(r.Digits(9), " ", 3, 3, 3), Group(r.Digits(14), " ", 3, 3, 3, 5), r.Digits(11),
		Group(r.Digits(9), " ", 3, 3, 3), r.Digits(8), date(r).Format("02/01/2006"))
	return Doc{Subject: "Chiffres du trimestre", Body: body, Name: "chiffres"}
}

// runsAndOtherColumns holds lookalikes of card lists and labelled
// columns: runs of four-digit groups that start with a valid card but do
// not divide into valid cards, a part-number column below prose that
// names social security numbers, and an IBAN-shaped string with check
// digits 00 that passes MOD 97 by chance.
func runsAndOtherColumns(r *Rand) Doc {
	bad := CardLike(r)
	bad = bad[:15] + string('0'+(bad[15]-'0'+1)%10)
	var iban string
	for {
		iban = "DE00" + r.Digits(18)
		if mod97(ibanDigits(iban[4:]+iban[:4])) == 1 {
			break
		}
	}
	lines := []string{
		"Hi, the serial blocks for the audit:",
		"Block A " + Group(CardLike(r)+r.Digits(4), " ", 4, 4, 4, 4, 4),
		"Block B " + Group(CardLike(r)+bad, " ", 4, 4, 4, 4, 4, 4, 4, 4),
		"Block C " + Group(CardLike(r)+r.Digits(8), " ", 4, 4, 4, 4, 4, 4),
		"Old account reference (closed): " + Group(iban, " ", 4, 4, 4, 4, 4, 2),
		"",
		"HR note: SSN requests go through the portal, not by mail.",
		"",
		"Delivery notes and dates:",
		r.Digits(8), r.Digits(8), r.Digits(8), r.Digits(8), r.Digits(8),
		"20260301", "20260302", "20260303", "20260304",
	}
	t := [][]string{{"Part no.", "Qty", "Badge #"}}
	for range 10 {
		t = append(t, []string{SSN(r), fmt.Sprint(1 + r.IntN(50)), SSN(r)})
	}
	return Doc{Subject: "Audit blocks", Body: strings.Join(lines, "\n"), Table: t, Name: "audit-blocks"}
}
