package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeDocument feeds decodeDocument, which reads what a service
// answers on status.json, and the printers of status and events with
// arbitrary bodies. Invariants: nothing panics; a body that is not JSON is
// an error; a decoded document re-encodes, and decoding that encoding gives
// the same document (the encoding is a fixed point).
func FuzzDecodeDocument(f *testing.F) {
	sample, err := json.Marshal(sampleDoc())
	if err != nil {
		f.Fatalf("json.Marshal(sampleDoc()) = %v", err)
	}
	for _, seed := range []string{
		string(sample),
		"",
		"{",
		"null",
		"[]",
		`{"objectives": []}`,
		`{"objectives": [{}]}`,
		`{"objectives": null, "items": [1]}`,
		"<!doctype html><title>login</title>",
		`{"time": 12}`,
		`{"time": "9999-12-31T23:59:59-23:59", "objectives": [{"name": "x"}]}`,
		`{"objectives": [{"name": "\u001b[2J\u001b[31mred", "state": "page\n\t", "remaining": 1e308, "time_to_exhaustion_s": 1e300,
			"latency_ms": -1e308, "period_s": 1e300, "target": -5, "windows": [{"window": "5m", "burn": -1e308}, {"window": "xyz"}, {"window": "99999999999d"}],
			"rules": [{"name": "page", "firing": true}]}],
			"shed": {"enabled": true, "level": 1e308, "reject": {"CRITICAL": 2, "\u0000": -1}, "rejected": {"SHEDDABLE": 18446744073709551615}},
			"breakers": [{"dependency": "db", "state": "open", "retry_after_s": 1e300}], "gates": [{"name": "g", "enabled": false}],
			"release": {"frozen": true, "allowed": true, "recovery_s": -1, "since": "0001-01-01T00:00:00Z"},
			"events": [{"time": "2025-03-01T12:00:00+14:00", "kind": "state_changed", "objective": "x", "from": "ok", "to": "page"}, {"text": "\u202e\u00ff"}]}`,
		"{\"objectives\": [{\"name\": \"\xff\xfe\"}]}",
		`{"objectives": [{"name": "x", "view": "fleet\u001b[2J", "view_age_s": 1e300, "view_time": "0001-01-01T00:00:00Z",
			"local": {"state": "\u0000ok", "remaining": -1e308, "good": 18446744073709551615}}, {"name": "y", "view": "restored", "view_age_s": -1}]}`,
		`{"objectives": [{"name": "a"}], "objectives": [{"name": "b"}]}`,
		strings.Repeat("[", 10000),
		`{"time": "2025-03-01T13:00:00Z", "objectives": [{"name": "x", "target": 0.999, "period_s": 1e300, "good": 5, "bad": 18446744073709551615,
			"history": [{"time": "2025-03-01T12:00:00Z", "state": "page", "good": 1, "bad": 18446744073709551615, "shed": 18446744073709551615},
			{"time": "2025-03-01T12:00:00Z", "state": "ok"}, {"time": "0001-01-01T00:00:00Z", "bad": 1}]},
			{"name": "y", "target": 2, "history": [{"time": "2025-03-01T12:01:00Z", "good": 1, "remaining": -1e308}]}],
			"load": [{"time": "2025-03-01T12:01:00Z", "admitted": {"CRITICAL": 18446744073709551615, "\u0000": 3}, "rejected": {"SHEDDABLE": 18446744073709551615}, "level": 1e308, "scale": 1e308},
			{"time": "2025-03-01T12:02:00Z", "scale": -1}],
			"events": [{"time": "2025-03-01T12:01:30Z", "kind": "shed_changed", "text": "|*_"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := decodeDocument(body)
		if err != nil {
			if doc != nil {
				t.Fatalf("decodeDocument(%q) = %v, %v, want no document with the error", body, doc, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decodeDocument(%q) = nil error for invalid JSON", body)
		}
		if len(doc.Objectives) == 0 {
			t.Fatalf("decodeDocument(%q) = a document with no objectives, want an error", body)
		}

		enc, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("json.Marshal(decodeDocument(%q)) = %v", body, err)
		}
		again, err := decodeDocument(enc)
		if err != nil {
			t.Fatalf("decodeDocument(json.Marshal(decodeDocument(%q))) = %v", body, err)
		}
		enc2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding %q:\nfirst  %s\nsecond %s (%v)", body, enc, enc2, err)
		}

		// What the commands print from the document must not panic either.
		for _, events := range []int{0, 1, 10} {
			writeStatus(io.Discard, doc, "http://svc/sloguard/status.json", statusView{events: events, paint: painter(events == 1)})
		}
		for _, since := range []time.Duration{0, time.Hour} {
			evs := eventsSince(doc, since)
			writeEvents(io.Discard, evs, false)
			writeEvents(io.Discard, evs, true)
			inc, err := findIncident(doc, startFlag{back: since})
			if err == nil {
				writePostmortem(io.Discard, doc, "http://svc/sloguard/status.json", inc)
			}
		}
	})
}
