// Package quality measures the detection quality of the default policy
// on the project's corpora: its tests run the engine built from the
// embedded default configuration over the generated clean corpus, the
// documentation shipped by the installed Debian packages and the
// generated positive corpus (internal/corpus), and report precision,
// recall and false positives per 1,000 clean messages. make quality runs
// them; the bar is no detection at medium confidence or above and no
// enforced verdict on clean mail, and every positive case found at the
// confidence the default policy acts on.
package quality
