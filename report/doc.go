// Package report renders an analyze.Analysis for people and for programs:
// a terminal report (Text), a JSON document (JSON), the ladder diagram of
// each failover in the terminal (Ladder), a self-contained HTML report with
// the diagram, the findings and the JSON (HTML), and one-line forms for the
// live watcher (EventLine, FindingLine, FailoverLine, StatusLine, NDJSON).
//
// Renderers only read the model: every conclusion is drawn by the analyze
// package, and the same Analysis renders the same way every time.
package report
