package extract

import (
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// The example of [MS-OXRTFCP] 3.1.1: compressed RTF with back references.
var compressedRTFExample = []byte{
	0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7, 0xa7,
	0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20,
	0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f, 0xa0,
}

func TestDecompressRTF(t *testing.T) {
	got, ok := decompressRTF(compressedRTFExample, 1<<20, nil)
	want := "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
	if !ok || string(got) != want {
		t.Errorf("decompressRTF(example) = %q, %v; want %q", got, ok, want)
	}
	if _, ok := decompressRTF(compressedRTFExample, 10, nil); ok {
		t.Error("decompressRTF beyond the room left: ok, want refused")
	}
}

func TestTNEF(t *testing.T) {
	attrs := []testutil.TNEFAttr{testutil.TNEFBody("body card " + card)}
	attrs = append(attrs, testutil.TNEFFile("q3.xlsx", testutil.XLSX(testutil.Sheet{Name: "Payroll", Rows: [][]string{{"Ann", card}}}))...)
	attrs = append(attrs, testutil.TNEFFile("note.txt", []byte("note "+card))...)
	attrs = append(attrs, testutil.TNEFAttr{Level: 1, ID: 0x00069003, Data: testutil.MAPIBinary(0x1009, compressedRTFExample)})
	winmail := testutil.TNEF(attrs...)
	res := run(t, testutil.NewMessage().Text("x").Attach("winmail.dat", "application/ms-tnef", winmail).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "winmail.dat" > body`, "body card " + card},
		{`attachment "winmail.dat" > body`, "hello world"},
		{`attachment "winmail.dat" > "q3.xlsx" > sheet "Payroll"`, "Ann\t" + card},
		{`attachment "winmail.dat" > "note.txt"`, "note " + card},
	})
	if len(res.Unscannable) > 0 {
		t.Errorf("unexpected unscannable:\n%s", dump(res))
	}
}

func TestTNEFTruncated(t *testing.T) {
	w := testutil.TNEF(testutil.TNEFFile("a.txt", []byte(strings.Repeat("a", 100)))...)
	res := run(t, testutil.NewMessage().Text("x").Attach("winmail.dat", "application/ms-tnef", w[:len(w)-50]).Bytes(), Limits{})
	if !hasUnscannable(res, `attachment "winmail.dat"`, ParseError) {
		t.Errorf("want parse_error; got:\n%s", dump(res))
	}
}

func FuzzTNEF(f *testing.F) {
	f.Add(testutil.TNEF(append(testutil.TNEFFile("a.txt", []byte("x")), testutil.TNEFBody("b"))...))
	f.Add(testutil.TNEF(testutil.TNEFAttr{Level: 1, ID: 0x00069003, Data: testutil.MAPIBinary(0x1009, compressedRTFExample)}))
	f.Add(lyingTNEF(500))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzAttachment(t, data)
		m := newMeter(nil, time.Time{})
		_, _ = decompressRTF(data, 1<<20, m)
		checkCost(t, m, len(data))
		_ = mapiProps(data)
	})
}
