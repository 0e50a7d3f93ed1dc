// Package autoscaling holds Kubernetes manifests that scale a service on
// sloguard's scale signal (see slo.ScaleStatus): a HorizontalPodAutoscaler
// through prometheus-adapter (hpa.yaml, prometheus-adapter.yaml) and a
// KEDA ScaledObject with the Prometheus scaler (keda.yaml). See README.md.
//
// The package has no code: its test parses the manifests, checks their
// structure, and checks that the metric and label names they query are
// those a real sloguard engine exports through the OpenTelemetry
// Prometheus exporter.
package autoscaling
