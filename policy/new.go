package policy

import (
	"errors"
	"fmt"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// New compiles the policies of cfg and a detector set with every built-in
// identifier (so that a verdict lists everything the engine sees, whether
// or not a policy uses it) plus the [[detector]] definitions. cfg must come
// from config.Load or config.Default, which validated it.
func New(cfg *config.Config) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("policy: nil config")
	}
	var builtins []string
	for _, info := range detect.Builtins() {
		builtins = append(builtins, info.Name)
	}
	var custom []detect.Detector
	var datasets []dataset.Matcher
	var errs []error
	for i := range cfg.Detectors {
		if dataset.IsDataset(cfg.Detectors[i].Type) {
			m, err := dataset.Open(&cfg.Detectors[i])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: detector %q: %w", cfg.Detectors[i].Pos, cfg.Detectors[i].Name, err))
				continue
			}
			datasets = append(datasets, m)
			continue
		}
		d, err := customDetector(&cfg.Detectors[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: detector %q: %w", cfg.Detectors[i].Pos, cfg.Detectors[i].Name, err))
			continue
		}
		custom = append(custom, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set, err := detect.NewSet(builtins, custom, detect.Options{ProximityWindow: cfg.Detection.KeywordWindow})
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	e, err := compile(cfg, set.Scan, extract.Extract)
	if err != nil {
		return nil, err
	}
	e.scanUntil = set.ScanUntil
	e.datasets = datasets
	return e, nil
}

func customDetector(d *config.Detector) (detect.Detector, error) {
	conf, err := detect.ParseConfidence(string(d.Confidence))
	if err != nil {
		return nil, err
	}
	switch d.Type {
	case config.DetectorKeywords, config.DetectorDictionary:
		return detect.NewKeywords(d.Name, d.Words, detect.KeywordOptions{
			CaseSensitive: d.CaseSensitive, WholeWord: d.IsWholeWord(), Confidence: conf,
		})
	case config.DetectorRegex:
		return detect.NewRegex(d.Name, d.Pattern, conf)
	}
	return nil, fmt.Errorf("unknown detector type %q", d.Type)
}
