package extract_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestIssue7HTMLSplitCardsDetected: the card detector finds cards that
// HTML markup splits, in the text the extractor gives it. (Cards spread
// over table cells read as tab-separated groups: TestIssue7HTMLSplitValues
// pins that layout, the detector's tests the tab separator.)
func TestIssue7HTMLSplitCardsDetected(t *testing.T) {
	set, err := detect.NewSet([]string{"credit_card"}, nil, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, html string }{
		{"comment inside the number", "<p>Card: 4111<!-- x -->1111<!-- y -->1111<!---->1111</p>"},
		{"inline tags", "<p>card <b>4012</b><span>8888</span><font>8888</font><i>1881</i></p>"},
		{"wrapped line", "<p>card number 6011 0009\n   9013 9424</p>"},
		{"data attribute", `<div data-pan="378282246310005">x</div>`},
		{"comment", `<p>hello</p><!-- 3530111333300000 -->`},
		{"script", `<script>var pan = "5105105105105100";</script>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := testutil.NewMessage().HTML(tc.html).Bytes()
			res, err := extract.Extract(context.Background(), bytes.NewReader(msg), extract.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, p := range res.Parts {
				if p.Location == "body" && len(set.Scan(p.Text, nil)) > 0 {
					found = true
				}
			}
			if !found {
				for _, p := range res.Parts {
					t.Logf("%s: %q", p.Location, p.Text)
				}
				t.Errorf("no card found in %q", tc.html)
			}
		})
	}
}
