// Package statusjson defines the JSON documents the status page serves:
// [Document] at /status.json and [Release] at /release (see package
// [github.com/sloguard/sloguard/slo/statuspage] for the routes).
//
// It is a leaf package: it imports only the standard library, never the
// engine, gobreaker or OpenTelemetry, so that a client (the sloguard
// command, a deployment pipeline, a dashboard) decodes the documents with
// encoding/json without linking them. Package statuspage builds the
// documents from an Engine.
//
// Field names and JSON tags are the wire format and are stable. Numbers
// the engine does not know are null (nil pointers), as statuspage.Build
// explains. The types are plain data: the zero value of each is an empty
// document, and a value is safe for concurrent reads.
package statusjson
