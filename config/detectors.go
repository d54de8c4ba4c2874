package config

import "github.com/maildlp/maildlp/policy/detect"

// isBuiltin reports whether name is a built-in identifier. The catalogue
// is policy/detect's registry, so that an unknown detector name is a
// config error with its file and line rather than an engine error later.
func isBuiltin(name string) bool { return detect.IsBuiltin(name) }
