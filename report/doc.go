// Package report renders an analyze.Analysis for people and for programs:
// a terminal report (Text), a JSON document (JSON), and one-line forms for
// the live watcher (EventLine, FindingLine, FailoverLine, StatusLine, NDJSON).
//
// Renderers only read the model: every conclusion is drawn by the analyze
// package, and the same Analysis renders the same way every time.
package report
