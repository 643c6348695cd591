package analyze

// This file stands in for the engine's bounded tables until they land:
// the type and method below are the API they expose, so that watch can
// serve the eviction counters. Delete it when the engine defines them.

// Eviction is one bounded table of the engine and how many entries it has
// evicted.
type Eviction struct {
	Table   string `json:"table"` // "clients", "followed clients", "groups", "speakers", "vips", "members", "findings", "timeline"
	Limit   int    `json:"limit"`
	Evicted uint64 `json:"evicted"`
}

// Evictions returns every bounded table with its count, zero included.
func (e *Engine) Evictions() []Eviction { return nil }
