package corpus

import (
	"fmt"
	"strings"
	"time"
)

// BulkDocs returns large clean messages (a few MB each): exports and logs
// with random ids at their natural rate (one in ten passes Luhn), where
// lookalikes add up, so that a policy that counts values (five or more
// card numbers) meets many of them at once.
func BulkDocs() []CleanDoc {
	r := NewRand(CleanSeed + 1)
	return []CleanDoc{
		{Name: "bulk/order-export/zip", Category: "bulk", Envelope: ZIP, Doc: orderExport(r, 3<<20)},
		{Name: "bulk/access-log/gzip", Category: "bulk", Envelope: Gzip, Doc: accessLog(r, 3<<20)},
		{Name: "bulk/order-export/csv", Category: "bulk", Envelope: CSV, Doc: orderExport(r, 1<<20)},
	}
}

// orderExport is a web shop's order export of about size bytes: epoch
// milliseconds, order and session ids, EANs, amounts, client addresses.
func orderExport(r *Rand, size int) Doc {
	t := [][]string{{"created_ms", "order_id", "session", "customer_no", "ean", "qty", "amount_eur", "client_ip", "tracking"}}
	n := 0
	ms := Epoch(r) * 1000
	for n < size {
		ms += int64(r.IntN(20000))
		row := []string{fmt.Sprint(ms), fmt.Sprintf("%d-%07d-%07d", 100+r.IntN(900), r.IntN(1e7), r.IntN(1e7)), UUID(r), r.Digits(9),
			EAN13Any(r), fmt.Sprint(1 + r.IntN(9)), fmt.Sprintf("%d.%02d", r.IntN(2000), r.IntN(100)), IPv4(r), strings.ReplaceAll(USPS22(r), " ", "")}
		for _, c := range row {
			n += len(c) + 1
		}
		t = append(t, row)
	}
	return Doc{Subject: "Order export", Body: "Hi,\n\nthe full order export for the audit is attached (no payment data is included).", Table: t, Name: "orders-export"}
}

// accessLog is about size bytes of web server and application log.
func accessLog(r *Rand, size int) Doc {
	var b strings.Builder
	ts := time.Unix(Epoch(r), 0).UTC()
	for b.Len() < size {
		ts = ts.Add(time.Duration(r.IntN(900)) * time.Millisecond)
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "%s - - [%s] \"GET /api/v1/items/%s?ts=%d HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\" rt=%d.%03d\n",
				IPv4(r), ts.Format("02/Jan/2006:15:04:05 -0700"), r.Digits(10), ts.UnixMilli(), r.IntN(100000), r.IntN(3), r.IntN(1000))
		case 1:
			fmt.Fprintf(&b, "%s INFO dd.trace_id=%d dd.span_id=%d user_id=%d order=%d-%07d-%07d\n",
				ts.Format("2006-01-02T15:04:05.000Z"), r.Uint64(), r.Uint64(), r.IntN(1e9), 100+r.IntN(900), r.IntN(1e7), r.IntN(1e7))
		default:
			fmt.Fprintf(&b, "%s WARN upload %s sha256=%s size=%d\n", ts.Format(time.RFC3339Nano), UUID(r), r.Hex(64), r.Int64N(1e10))
		}
	}
	return Doc{Subject: "Access logs for the incident", Body: b.String(), Name: "access"}
}
