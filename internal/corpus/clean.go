package corpus

import (
	"fmt"
	"time"
)

// CleanMessage is one message of the clean corpus: nothing in it is
// sensitive, so every detection at medium confidence or above is a false
// positive.
type CleanMessage struct {
	Name     string // category/index/envelope, unique
	Category string
	Envelope Envelope
	Raw      []byte
}

// cleanTemplate writes one kind of ordinary mail.
type cleanTemplate struct {
	category string
	doc      func(r *Rand) Doc
}

// CleanSeed is the seed of the clean corpus.
const CleanSeed = 20260304

// CleanDoc is the content of one clean message before its envelope.
type CleanDoc struct {
	Name     string
	Category string
	Envelope Envelope
	Doc      Doc
}

// CleanDocs returns the contents of the n clean messages. Message i uses
// template i mod the number of templates and an envelope that shifts
// every round, so that every template meets every envelope.
func CleanDocs(n int) []CleanDoc { return CleanDocsSeed(n, CleanSeed) }

// CleanDocsSeed is CleanDocs from another seed: the same kinds of mail
// with other values, to check that a fix holds beyond the values of the
// committed seed.
func CleanDocsSeed(n int, seed uint64) []CleanDoc {
	r := NewRand(seed)
	ts := cleanTemplates
	out := make([]CleanDoc, 0, n)
	for i := range n {
		t := ts[i%len(ts)]
		e := Envelope((i + i/len(ts)) % int(numEnvelopes))
		d := t.doc(r)
		d.Header = append(cleanHeaders(r, i), d.Header...)
		out = append(out, CleanDoc{Name: fmt.Sprintf("%s/%03d/%s", t.category, i, e), Category: t.category, Envelope: e, Doc: d})
	}
	return out
}

// Clean returns the n clean messages.
func Clean(n int) []CleanMessage {
	docs := CleanDocs(n)
	out := make([]CleanMessage, len(docs))
	for i, d := range docs {
		out[i] = CleanMessage{Name: d.Name, Category: d.Category, Envelope: d.Envelope, Raw: d.Doc.Message(d.Envelope)}
	}
	return out
}

// Categories lists the categories of the clean corpus.
func Categories() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range cleanTemplates {
		if !seen[t.category] {
			seen[t.category] = true
			out = append(out, t.category)
		}
	}
	return out
}

// cleanHeaders are the header fields real mail carries: ids with long
// digit runs, list and spam-filter fields, authentication results.
func cleanHeaders(r *Rand, i int) [][2]string {
	ts := Epoch(r)
	h := [][2]string{
		{"Message-ID", fmt.Sprintf("<%d.%s@mail.example.com>", ts*1000+int64(r.IntN(1000)), CardLike(r))},
		{"Date", time.Unix(ts, 0).UTC().Format(time.RFC1123Z)},
	}
	switch i % 5 {
	case 0:
		h = append(h,
			[2]string{"References", fmt.Sprintf("<CAF%s=%s@mail.gmail.com> <%s@tickets.example.com>", r.From(alnum, 20), r.Digits(4), FuzzerID(r))},
			[2]string{"In-Reply-To", fmt.Sprintf("<%s@tickets.example.com>", FuzzerID(r))})
	case 1:
		h = append(h,
			[2]string{"List-Id", "Engineering announcements <eng-announce.lists.example.com>"},
			[2]string{"List-Unsubscribe", fmt.Sprintf("<https://lists.example.com/unsubscribe/%s/%s>", CardLike(r), r.Hex(16))},
			[2]string{"X-Spam-Status", fmt.Sprintf("No, score=-2.%d required=5.0 tests=BAYES_00,DKIM_SIGNED,DKIM_VALID autolearn=ham version=3.4.6", r.IntN(10))})
	case 2:
		h = append(h,
			[2]string{"X-Mailer", fmt.Sprintf("Microsoft Outlook 16.0.%d.%d", 10000+r.IntN(9000), 20000+r.IntN(9000))},
			[2]string{"Thread-Index", "AQH" + r.From(alnum+"+/", 37) + "=="},
			[2]string{"X-MS-Exchange-Organization-SCL", "-1"})
	case 3:
		h = append(h,
			[2]string{"X-Request-Id", UUID(r)},
			[2]string{"X-Ticket-Id", fmt.Sprintf("%d", 1000000+r.IntN(9000000))},
			[2]string{"Received", fmt.Sprintf("from mail-%s.example.org (mail-%s.example.org [%s]) by mx.example.com (Postfix) with ESMTPS id 4Q%s for <bob@example.net>; %s",
				r.Hex(6), r.Hex(6), IPv4(r), r.From(upper+digits, 10), time.Unix(ts, 0).UTC().Format(time.RFC1123Z))})
	default:
		h = append(h,
			[2]string{"Authentication-Results", fmt.Sprintf("mx.example.com; dkim=pass header.d=example.org header.s=s%d header.b=%s", 2020+r.IntN(7), r.From(alnum, 8))},
			[2]string{"X-Campaign", fmt.Sprintf("newsletter-%d-%s", ts, r.Digits(6))})
	}
	return h
}
