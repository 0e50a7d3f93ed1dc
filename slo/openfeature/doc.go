// Package openfeature turns sloguard gates into OpenFeature flags: Provider
// wraps any OpenFeature FeatureProvider (github.com/open-feature/go-sdk) and
// forces chosen flags to a safe value while their gate is closed, that is
// while the error budget says the feature should be off (see slo.Gate and
// slo.GatePolicy).
//
// It lives in its own package so that services that use slo without
// OpenFeature do not import the OpenFeature SDK.
//
// # Usage
//
// Declare the gate on the engine, then tie flags to it when wrapping the
// provider that serves them:
//
//	eng, err := slo.New(objectives,
//		slo.WithGate("risky-features", slo.GatePolicy{ClosedOnPage: true, MinRemaining: 0.25}),
//	)
//	…
//	p, err := openfeature.NewProvider(flagd, eng,
//		openfeature.WithGatedFlag("new-recommender", "risky-features", false),
//		openfeature.WithGatedFlag("recommendations-per-page", "risky-features", int64(10)),
//	)
//	…
//	err = of.SetProviderAndWait(p) // of = github.com/open-feature/go-sdk/openfeature
//
// Application code keeps asking OpenFeature as before:
//
//	if client.Boolean(ctx, "new-recommender", false, evalCtx) { … }
//
// # Evaluation
//
// A flag that is not gated, or whose gate is open, is evaluated by the
// wrapped provider and returned unchanged. A gated flag whose gate is closed
// is not evaluated by the wrapped provider at all: the result is the safe
// value, with reason DISABLED (openfeature.DisabledReason), variant
// VariantSafe ("sloguard-safe") and two flag metadata entries, MetadataGate
// (the gate's name) and MetadataReason (why the engine closed it, as in
// Status.Gates, e.g. "checkout is in state page"). It is a value, not an
// error: the feature is off on purpose.
//
// Whether the gate is closed is one atomic load (slo.Gate.Enabled), the same
// answer as code that checks the gate directly.
//
// # Safe values and types
//
// The safe value is given once and must have the flag's type: bool,
// string, float64, int64, or any other value for object flags. Go integer
// types are taken as int64 and float32 as float64, and an integer safe value
// also serves float evaluations, so WithGatedFlag("limit", g, 0) works for
// int and float flags alike. Object evaluations return the safe value
// whatever its type.
//
// When the gate is closed and the safe value does not fit the requested type
// (a bool safe value asked for as a string), the result is the caller's
// default value with reason ERROR and error code TYPE_MISMATCH, as
// OpenFeature reports any type mismatch, plus the sloguard metadata. The
// gate still wins: the wrapped provider is not asked, because a mistyped
// safe value must not keep a feature on while its budget burns, and the
// caller's default is what the code already falls back to when flags fail.
// While the gate is open the wrapped provider answers, mismatch or not.
//
// # Lifecycle and events
//
// Provider implements the SDK's optional interfaces and forwards them:
// Init and Shutdown (with or without context) go to the wrapped provider if
// it has them, Track too, and Hooks returns the wrapped provider's hooks.
// Provider is always an event handler: between Init and Shutdown a goroutine
// forwards the wrapped provider's events (renamed to this provider) and,
// every poll interval (WithPollInterval), emits one
// PROVIDER_CONFIGURATION_CHANGED event for each gate that opened or closed
// since it last looked, naming the gate's flags in FlagChanges, with the
// gate, its new state and the reason in EventMetadata. A gate that closes
// and reopens between two looks causes no event. The SDK calls Init when the
// provider is set and Shutdown when it is replaced or the API shuts down;
// the goroutine stops then.
//
// # Concurrency
//
// A Provider is safe for concurrent use. Evaluations take no lock: the
// gated flags are fixed by NewProvider and the gate state is atomic.
package openfeature
