package policy

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// issue7Cards are six distinct Luhn-valid Visa numbers, none a published
// test value: enough for the default policy's bulk card rule.
func issue7Cards() []string {
	var cards []string
	for _, p := range []string{"453201511283036", "448512345678901", "471623450987123", "402400712345678", "491761234567890", "455673829104857"} {
		sum := 0
		for i := len(p) - 1; i >= 0; i-- {
			d := int(p[i] - '0')
			if (len(p)-i)%2 == 1 {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		c := p + string(rune('0'+(10-sum%10)%10))
		cards = append(cards, c[0:4]+" "+c[4:8]+" "+c[8:12]+" "+c[12:16])
	}
	return cards
}

func defaultPolicyEngine(t *testing.T) *Engine {
	t.Helper()
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func evaluateRaw(t *testing.T, e *Engine, msg []byte) action.Verdict {
	t.Helper()
	return e.Evaluate(context.Background(), Message{
		Envelope: Envelope{MailFrom: "alice@example.com", Rcpts: []string{"bob@partner.example.net"}},
		Body:     bytes.NewReader(msg),
	})
}

// TestIssue7CardsInHeadersBlocked: six cards wherever a sender can write
// them in a header are found by the default policy.
func TestIssue7CardsInHeadersBlocked(t *testing.T) {
	e := defaultPolicyEngine(t)
	cards := issue7Cards()
	list := strings.Join(cards, ", ")
	head := "From: alice@example.com\r\nTo: bob@partner.example.net\r\nSubject: hello\r\n"
	tests := []struct {
		name string
		msg  string
	}{
		{"X-Spam-Report", head + "X-Spam-Report: cards " + list + "\r\n\r\nhi\r\n"},
		{"X-Spam-Status", head + "X-Spam-Status: No, " + list + "\r\n\r\nhi\r\n"},
		{"List-Unsubscribe", head + "List-Unsubscribe: <mailto:x@example.com?subject=" + list + ">\r\n\r\nhi\r\n"},
		{"References free text", head + "References: <a@example.com> " + list + "\r\n\r\nhi\r\n"},
		{"X-Whatever", head + "X-Whatever: " + list + "\r\n\r\nhi\r\n"},
		{"one field each", head + "X-A: " + strings.Join(cards[:3], "; ") + "\r\nX-MS-Exchange-B: " + strings.Join(cards[3:], "; ") + "\r\n\r\nhi\r\n"},
		{"obsolete syntax", head + "X-Note : " + list + "\r\n\r\nhi\r\n"},
		{"folded 1000 times", head + "X-Folded: x" + strings.Repeat("\r\n y", 1000) + "\r\n " + list + "\r\n\r\nhi\r\n"},
		{"encoded word without padding", head + "X-Enc: =?utf-8?B?" + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(list)), "=") + "?=\r\n\r\nhi\r\n"},
		{"part header", string(testutil.NewMessage().Text("hi").Part(testutil.MIMEPart{Header: [][2]string{{"Content-Type", "text/plain"}, {"Content-Description", list}}, Body: []byte("x")}).Bytes())},
		{"attachment file name", string(testutil.NewMessage().Text("hi").Attach(list+".txt", "application/octet-stream", []byte("x")).Bytes())},
		{"zip member names", string(testutil.NewMessage().Text("hi").Attach("a.zip", "application/zip", testutil.Zip(
			testutil.File{Name: cards[0] + ".txt"}, testutil.File{Name: cards[1] + ".txt"}, testutil.File{Name: cards[2] + ".txt"},
			testutil.File{Name: cards[3] + ".txt"}, testutil.File{Name: cards[4] + ".txt"}, testutil.File{Name: cards[5] + ".txt"})).Bytes())},
		{"obsolete multipart syntax", head + "Content-Type : multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding : base64\r\n\r\n" +
			string(testutil.Base64([]byte(list), 76)) + "\r\n--b--\r\n"},
		{"utf-7 body", head + "Content-Type: text/plain; charset=utf-7\r\n\r\n+" + utf7Shift(list) + "-\r\n"},
		{"unknown charset body", head + "Content-Type: text/plain; charset=x-klingon\r\n\r\n" + list + "\r\n"},
		{"NUL in body", head + "\r\n" + strings.ReplaceAll(list, ", ", "\x00, \x00") + "\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := evaluateRaw(t, e, []byte(tc.msg))
			if v.Action != action.Block {
				t.Errorf("action = %v, want block; policies %v, unscannable %v", v.Action, names(v), v.Unscannable)
			}
		})
	}
}

// utf7Shift encodes ASCII s as one UTF-7 base64 run (without '+' and '-').
func utf7Shift(s string) string {
	var raw []byte
	for _, r := range s {
		raw = append(raw, byte(r>>8), byte(r))
	}
	return base64.RawStdEncoding.EncodeToString(raw)
}

// TestIssue7MachineHeadersPass: the header fields that mail systems add
// on the way out (trace, signatures, anti-spam stamps, list headers)
// find nothing under the default policy.
func TestIssue7MachineHeadersPass(t *testing.T) {
	e := defaultPolicyEngine(t)
	msg := "Received: from mail-ej1-f42.google.com (mail-ej1-f42.google.com [209.85.218.42])\r\n" +
		"\tby mx.example.com (Postfix) with ESMTPS id 4Y4Mn52Jq1z9sxb\r\n\tfor <bob@partner.example.net>; Sun,  6 Dec 2026 05:56:29 +0000 (UTC)\r\n" +
		"Received: by mail-ej1-f42.google.com with SMTP id a640c23a62f3a-aa6a38e1b4dso431234866b.2\r\n" +
		"        for <bob@partner.example.net>; Sun, 06 Dec 2026 05:56:28 -0800 (PST)\r\n" +
		"X-Received: by 2002:a17:907:7da2:b0:aa6:8a1f:2b1c with SMTP id oz34-20020a1709077da200b00aa68a1f2b1cmr4532015112830366ejc.36.1733489188123;\r\n" +
		"        Sun, 06 Dec 2026 05:56:28 -0800 (PST)\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601; t=1733489188; x=1734093988; darn=partner.example.net;\r\n" +
		"        h=to:subject:message-id:date:from:mime-version:from:to:cc:subject:date:message-id:reply-to;\r\n" +
		"        bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n" +
		"        b=Kx3mFq9L0u2N5Zs8y+HqWc1Vb7Tf4Rk6Jp0Xe9Ga2Dh5Lm8Nq1Pr4St7Uv0Wx3Yz6Ab9Cd2Ef5Gh8Ij1Kl4Mn7Op0Qr3St\r\n" +
		"         6Uv9Wx2Yz5Ab8Cd1Ef4Gh7Ij0Kl3Mn6Op9Qr2St5Uv8Wx1Yz4Ab7Cd0Ef3Gh6Ij9Kl2Mn5Op8Qr1St4Uv7Wx0Yz3Ab6Cd9Ef2Gh\r\n" +
		"         5Ij8Kl1Mn4Op7Qr0St3Uv6Wx9Yz2Ab5Cd8Ef1Gh4Ij7Kl0Mn3Op6Qr9St2Uv5Wx8Yz1Ab4Cd7Ef0Gh3Ij6Kl9Mn2Op5Qr8St1==\r\n" +
		"X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601; t=1733489188; x=1734093988;\r\n" +
		"        bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6kL9nO2qR5tU8wX1zA4cD7fG0iJ3lM6oP9rS2uV5xY8==\r\n" +
		"X-Gm-Message-State: AOJu0YyQ4532015112830366abcXYZ+/defGhi==\r\n" +
		"X-Google-Smtp-Source: AGHT+IFq1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6==\r\n" +
		"ARC-Seal: i=1; a=rsa-sha256; t=1733489190; cv=none; d=google.com; s=arc-20240605; b=Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7==\r\n" +
		"ARC-Authentication-Results: i=1; mx.google.com; dkim=pass header.i=@example.com header.s=20230601 header.b=Kx3mFq9L;\r\n" +
		"       spf=pass (google.com: domain of alice@example.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=alice@example.com\r\n" +
		"Authentication-Results: mx.example.com; dkim=pass (2048-bit key) header.d=example.com header.i=@example.com header.b=\"Kx3mFq9L\"\r\n" +
		"Return-Path: <alice+caf_=bob=partner.example.net@example.com>\r\n" +
		"Message-ID: <CAF4532015112830366+9Tq1w@mail.gmail.com>\r\n" +
		"In-Reply-To: <1733489123456.4485123456789012@mail.example.com>\r\n" +
		"References: <4716234509871234.1733489123456@example.com>\r\n\t<20261206055629.4024007123456785@example.net>\r\n" +
		"Thread-Index: AQHbR2xKx3mFq9L0u2N5Zs8y+HqWcw==\r\n" +
		"Thread-Topic: Quarterly plan\r\n" +
		"X-MS-Exchange-Organization-Network-Message-Id: 6f1c2a3b-4d5e-46f7-8a9b-0c1d2e3f4a5b\r\n" +
		"X-MS-Exchange-CrossTenant-OriginalArrivalTime: 06 Dec 2026 05:56:29.1234 (UTC)\r\n" +
		"X-Microsoft-Antispam: BCL:0;ARA:13230040|1800799024|366016|376014|69100299015|38070700018;\r\n" +
		"X-Forefront-Antispam-Report: CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:DM6PR11MB4123.namprd11.prod.outlook.com;PTR:;CAT:NONE;SFS:(13230040)(1800799024)(366016);DIR:OUT;SFP:1101;\r\n" +
		"X-Proofpoint-Virus-Version: vendor=baseguard engine=ICAP:2.0.293,Aquarius:18.0.1057,Hydra:6.0.680,FMLib:17.12.62.30 definitions=2026-12-06_03,2026-12-05_01,2026-12-06_01 signatures=0\r\n" +
		"X-Proofpoint-Spam-Details: rule=outbound_notspam policy=outbound score=0 mlxlogscore=999 adultscore=0 classifier=spam adjust=0 reason=mlx scancount=1 engine=8.19.0-2411120000 definitions=main-2412060027\r\n" +
		"X-Spam-Status: No, score=-2.9 required=5.0 tests=ALL_TRUSTED,BAYES_00,DKIM_SIGNED,DKIM_VALID autolearn=ham autolearn_force=no version=3.4.6\r\n" +
		"List-Unsubscribe: <https://lists.example.com/unsubscribe?u=a1b2c3d4e5f6&id=0f9e8d7c6b>, <mailto:leave@lists.example.com>\r\n" +
		"List-Id: Team announcements <announce.lists.example.com>\r\n" +
		"Feedback-ID: 1.us-east-1.Kx3mFq9L0u2N5Zs8y=:AmazonSES\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Date: Sun, 6 Dec 2026 06:56:15 +0100\r\n" +
		"From: Alice <alice@example.com>\r\nTo: Bob <bob@partner.example.net>\r\nSubject: Quarterly plan\r\n" +
		"Content-Type: multipart/alternative; boundary=\"----=_Part_4532015112830366_4485123456789012.1733489188123\"\r\n" +
		"\r\n------=_Part_4532015112830366_4485123456789012.1733489188123\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-ID: <part1.4716234509871234@example.com>\r\n\r\nSee you Monday.\r\n" +
		"------=_Part_4532015112830366_4485123456789012.1733489188123--\r\n"
	v := evaluateRaw(t, e, []byte(msg))
	if v.Action != action.Pass || len(v.Detections) > 0 || len(v.Unscannable) > 0 {
		t.Errorf("action = %v, want pass; policies %v, detections %+v, unscannable %v", v.Action, names(v), v.Detections, v.Unscannable)
	}
}
