package corpus

import (
	"fmt"
	"strings"
	"time"
)

// cleanTemplates are the kinds of mail the clean corpus is made of.
var cleanTemplates = []cleanTemplate{
	{"shipping", shippingNotice},
	{"shipping", trackingTable},
	{"catalogue", productCatalogue},
	{"catalogue", bookOrder},
	{"billing", invoiceMail},
	{"billing", accountStatement},
	{"billing", ibanTypo},
	{"labelled", labelledNearKeyword},
	{"labelled", ssnShapedReferences},
	{"phone", contactSheet},
	{"phone", meetingInvite},
	{"support", supportTicket},
	{"time", timestampsReport},
	{"dev", commitDigestDoc},
	{"dev", releaseNotes},
	{"security", securityAdvisory},
	{"fuzzer", fuzzerReport},
	{"fuzzer", fuzzerDigest},
	{"logs", logExcerpt},
	{"logs", traceLog},
	{"urls", numericURLs},
	{"spreadsheet", sensorData},
	{"spreadsheet", salesFigures},
	{"verhoeff", unlabelledTwelveDigits},
	{"dev", apiPayload},
	{"catalogue", billOfMaterials},
	{"bank-notice", capitalsNotice},
	{"shipping", postalTracking},
	{"security", windowsEvents},
	{"billing", groupedAmounts},
	{"labelled", runsAndOtherColumns},
}

func person(r *Rand) string {
	return r.Pick("Anna Schmidt", "James O'Brien", "Priya Raman", "Lucas Martin", "Sofia Rossi",
		"Kenji Tanaka", "Emma de Vries", "Mateo García", "Olivia Smith", "Noah Müller")
}

func company(r *Rand) string {
	return r.Pick("Northwind Traders", "Contoso Ltd", "Fabrikam GmbH", "Tailspin Toys", "Globex SARL",
		"Initech BV", "Umbrella Logistics", "Wayne Components", "Acme Industrial", "Vandelay Imports")
}

func date(r *Rand) time.Time { return time.Unix(Epoch(r), 0).UTC() }

func shippingNotice(r *Rand) Doc {
	d := date(r)
	lines := []string{
		fmt.Sprintf("Dear %s,", person(r)),
		"",
		fmt.Sprintf("your order %d-%07d-%07d from %s has shipped on %s.", 100+r.IntN(900), r.IntN(1e7), r.IntN(1e7), company(r), d.Format("2 January 2006")),
		"",
		"Parcel 1: UPS " + UPS(r),
		"Parcel 2: USPS tracking " + USPS22(r),
		"Parcel 3: FedEx " + Group(FedEx12(r), " ", 4, 4, 4),
		"Parcel 4: DHL Express waybill " + DHL10(r),
		"Parcel 5: FedEx Ground " + FedEx15(r),
		"Parcel 6: USPS " + USPS20(r),
		"",
		fmt.Sprintf("Estimated delivery: %s between %02d:00 and %02d:00.", d.AddDate(0, 0, 3).Format("Mon 02.01.2006"), 8+r.IntN(4), 13+r.IntN(5)),
		"You can pay the customs fee of " + Amount(r) + " online; questions about your card payment? Call " + Phone(r) + ".",
		"Track it at https://www.ups.com/track?tracknum=" + UPS(r) + "&loc=en_US",
		"or https://tools.usps.com/go/TrackConfirmAction?tLabels=" + strings.ReplaceAll(USPS22(r), " ", ""),
	}
	return Doc{Subject: "Your order has shipped", Body: strings.Join(lines, "\n"), Name: "shipping-confirmation"}
}

func trackingTable(r *Rand) Doc {
	t := [][]string{{"Shipment", "Carrier", "Tracking number", "Weight (kg)", "Shipped"}}
	for i := range 12 {
		var carrier, num string
		switch i % 5 {
		case 0:
			carrier, num = "USPS", USPS22(r)
		case 1:
			carrier, num = "UPS", UPS(r)
		case 2:
			carrier, num = "FedEx", Group(FedEx12(r), " ", 4, 4, 4)
		case 3:
			carrier, num = "DHL", DHL10(r)
		default:
			carrier, num = "USPS", strings.ReplaceAll(USPS22(r), " ", "")
		}
		t = append(t, []string{fmt.Sprintf("SH-%06d", r.IntN(1e6)), carrier, num, fmt.Sprintf("%d.%d", 1+r.IntN(40), r.IntN(10)), date(r).Format("2006-01-02")})
	}
	return Doc{Subject: "Outbound shipments this week", Body: "Hi team,\n\nthe shipments dispatched from the Rotterdam warehouse this week:", Table: t, Name: "shipments"}
}

func productCatalogue(r *Rand) Doc {
	t := [][]string{{"SKU", "EAN", "GTIN-14 (case)", "UPC", "Description", "Price"}}
	for range 15 {
		t = append(t, []string{fmt.Sprintf("ART-%05d", r.IntN(1e5)), EAN13(r), GTIN14(r), UPC(r),
			r.Pick("Stainless bolt M8x40", "Cable tie 300mm", "Hinge 90°", "LED strip 5m", "Wall plug 8mm", "Drill bit HSS 6mm"),
			fmt.Sprintf("%d.%02d", 1+r.IntN(200), r.IntN(100))})
	}
	return Doc{Subject: "Updated price list Q" + fmt.Sprint(1+r.IntN(4)), Body: "Hello,\n\nattached is our updated catalogue with EAN and GTIN codes for your ERP import.\nPrices in EUR excl. VAT.", Table: t, Name: "catalogue"}
}

func bookOrder(r *Rand) Doc {
	var lines []string
	lines = append(lines, "Dear colleagues,", "", "the library ordered the following titles (ISBN / ISSN):", "")
	for range 6 {
		lines = append(lines, fmt.Sprintf("- ISBN %s, %d copies", ISBN13(r), 1+r.IntN(5)))
	}
	for range 3 {
		lines = append(lines, fmt.Sprintf("- ISBN-10 %s (paperback)", ISBN10(r)))
	}
	lines = append(lines, fmt.Sprintf("- Journal subscription ISSN %s, volume %d, issue %d", ISSN(r), 10+r.IntN(40), 1+r.IntN(12)))
	lines = append(lines, fmt.Sprintf("- EAN %s (boxed set)", EAN13(r)), "", "Order reference "+fmt.Sprintf("LIB-%d-%05d", 2026, r.IntN(1e5))+".")
	return Doc{Subject: "Library acquisitions", Body: strings.Join(lines, "\n"), Name: "acquisitions"}
}

func invoiceMail(r *Rand) Doc {
	d := date(r)
	t := [][]string{{"Pos", "Item", "Qty", "Unit price", "Total"}}
	for i := range 5 {
		t = append(t, []string{fmt.Sprint(i + 1), fmt.Sprintf("Consulting hours %s", d.AddDate(0, -1, i*3).Format("02.01.")), fmt.Sprint(1 + r.IntN(40)), Amount(r), Amount(r)})
	}
	body := fmt.Sprintf(`Dear %s,

please find invoice no. %d-%06d dated %s for order %s.
Customer no. %d, VAT ID DE%s.
Amount due: %s, payable within 30 days to our account at Commerzbank (see invoice footer).
For questions about this invoice call %s or reply to this message quoting reference %s.`,
		person(r), d.Year(), r.IntN(1e6), d.Format("2006-01-02"), CardLike(r), 100000+r.IntN(900000), r.Digits(9),
		Amount(r), Phone(r), fmt.Sprintf("RE-%s", r.Digits(10)))
	return Doc{Subject: fmt.Sprintf("Invoice %d-%06d", d.Year(), r.IntN(1e6)), Body: body, Table: t, Name: "invoice"}
}

func accountStatement(r *Rand) Doc {
	t := [][]string{{"Date", "Description", "Reference", "Debit", "Credit", "Balance"}}
	bal := 10000 + r.IntN(90000)
	for range 14 {
		amt := r.IntN(5000)
		bal += amt - 2500
		t = append(t, []string{date(r).Format("02/01/2006"), r.Pick("SEPA transfer", "Card payment ****"+r.Digits(4), "Direct debit", "Standing order", "Interest"),
			fmt.Sprintf("%s", r.Digits(12+r.IntN(5))), fmt.Sprintf("%d.%02d", amt, r.IntN(100)), "", fmt.Sprintf("%d,%03d.%02d", bal/1000, bal%1000, r.IntN(100))})
	}
	body := fmt.Sprintf("Account statement %d/%d for account ending %s (sort code %02d-%02d-%02d).\nOpening balance %s, closing balance %s.\nNo card numbers are shown in full on statements.",
		1+r.IntN(12), 2026, r.Digits(4), r.IntN(100), r.IntN(100), r.IntN(100), Amount(r), Amount(r))
	return Doc{Subject: "Your monthly statement", Body: body, Table: t, Name: "statement"}
}

func ibanTypo(r *Rand) Doc {
	body := fmt.Sprintf(`Hi %s,

the transfer was returned because the IBAN you sent has a typo:
%s
Our system also rejected %s for the refund.
And the old reference %s does not validate either.
Could you check the number with your bank and send it again? The amount of %s is on hold until then.`,
		person(r), BadIBANCardTail(r), BadIBAN(r), BadIBANCardTail(r), Amount(r))
	return Doc{Subject: "Returned transfer - IBAN invalid", Body: body, Name: "returned-transfer"}
}

func labelledNearKeyword(r *Rand) Doc {
	body := fmt.Sprintf(`Hello,

Order %s has been received. Questions about your card? Our card services team is at %s.
Invoice %s is attached; the credit card surcharge was waived.
Transaction id %s - card payments are settled within two days.
Tracking %s. Card on file ending %s will not be charged again.
Customer no. %s; your Visa card was not stored.
Ticket %s: the customer asked whether their debit card was affected.
Parcel %s - the recipient's SSN is not needed for customs.
Case %s, reference %s: social security office confirmed the appointment.
ISBN %s; build %s; commit %s.`,
		CardLike(r), Phone(r), Group(CardLike(r), " ", 4, 4, 4, 4), CardLike(r), Group(CardLike(r), "-", 4, 4, 4, 4),
		r.Digits(4), CardLike(r), Group(CardLike(r), " ", 4, 4, 4, 4), SSNShaped(r), SSNShaped(r), Group(SSN(r), " ", 3, 2, 4),
		ISBN13(r), CardLike(r), r.Hex(40))
	return Doc{Subject: "Re: your order and card payment", Body: body, Name: "order-status"}
}

func ssnShapedReferences(r *Rand) Doc {
	t := [][]string{{"Invoice", "Customer no.", "Case", "PO number", "Amount"}}
	for range 10 {
		t = append(t, []string{SSNShaped(r), SSN(r), Group(SSN(r), " ", 3, 2, 4), Group(SSN(r), ".", 3, 2, 4), Amount(r)})
	}
	return Doc{Subject: "Open invoices", Body: "Dear accounts payable,\n\nthe following invoices are overdue. Please note our new tax id is on the letterhead; this list contains no social security data.", Table: t, Name: "open-invoices"}
}

func contactSheet(r *Rand) Doc {
	var lines []string
	lines = append(lines, "Contact list for the trade fair:", "")
	for range 14 {
		lines = append(lines, fmt.Sprintf("%-16s %-22s tel. %s  mobile %s", person(r), company(r), Phone(r), Phone(r)))
	}
	lines = append(lines, "", "Emergency: 112 / 911. Hotel reservation "+fmt.Sprintf("%d", 100000000+r.IntN(9e8))+".")
	return Doc{Subject: "Contacts for the fair", Body: strings.Join(lines, "\n"), Name: "contacts"}
}

func meetingInvite(r *Rand) Doc {
	d := date(r)
	body := fmt.Sprintf(`%s invites you to a meeting.

When: %s %02d:%02d-%02d:%02d (UTC+01:00) Amsterdam, Berlin, Rome
Join Zoom Meeting https://us02web.zoom.us/j/%s?pwd=%s
Meeting ID: %s
Passcode: %s
Dial by your location
        %s
Microsoft Teams meeting: Conference ID: %s#
Phone conference ID: %s
Webex access code: %s`,
		person(r), d.Format("Monday, 2 January 2006"), 9+r.IntN(8), 0, 10+r.IntN(8), 30,
		r.Digits(11), r.From(alnum, 32), Group(r.DigitsNZ(11), " ", 3, 4, 4), r.Digits(6), Phone(r),
		Group(SIN(r), " ", 3, 3, 3), Group(TFN(r), " ", 3, 3, 3), Group(Aadhaar(r), " ", 4, 4, 4))
	return Doc{Subject: "Invitation: project review", Body: body, Name: "invite"}
}

func supportTicket(r *Rand) Doc {
	body := fmt.Sprintf(`Ticket #%d has been updated.

Status: %s
Requester: %s (customer no. %s)
Incident: INC%07d, change CHG%07d, problem PRB%07d
Device serial: %s, IMEI %s
Order %s, RMA %s

The replacement unit ships from our warehouse. Your card will not be charged for the replacement.
Reply above this line to add a comment.`,
		1000000+r.IntN(9000000), r.Pick("Open", "Pending", "Solved"), person(r), r.Digits(10),
		r.IntN(1e7), r.IntN(1e7), r.IntN(1e7), r.From(upper+digits, 12), Luhn("35"+r.Digits(12)), CardLike(r), fmt.Sprintf("RMA-%s", CardLike(r)))
	return Doc{Subject: fmt.Sprintf("[Ticket #%d] Replacement request", 1000000+r.IntN(9000000)), Body: body, Name: "ticket"}
}

func timestampsReport(r *Rand) Doc {
	t := [][]string{{"event", "epoch_s", "epoch_ms", "iso8601", "local"}}
	for range 12 {
		s := Epoch(r)
		ms := s*1000 + int64(r.IntN(1000))
		t = append(t, []string{r.Pick("login", "export", "sync", "backup", "deploy"), fmt.Sprint(s), fmt.Sprint(ms),
			time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), time.Unix(s, 0).UTC().Format("02.01.2006 15:04:05")})
	}
	body := fmt.Sprintf("Times of the last events (epoch seconds and milliseconds), nanos %d, uptime %d s, date %s, week %s.",
		Epoch(r)*1000000000, r.IntN(1e8), date(r).Format("2006/01/02"), date(r).Format("2006-W01"))
	return Doc{Subject: "Event times", Body: body, Table: t, Name: "events"}
}
