package openfeature_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/sloguard/sloguard/slo/openfeature"
)

// next returns the event waiting on ch, or fails.
func next(t *testing.T, ch <-chan of.Event) of.Event {
	t.Helper()
	synctest.Wait()
	select {
	case ev := <-ch:
		return ev
	default:
		t.Fatalf("no event, want one")
		return of.Event{}
	}
}

func none(t *testing.T, ch <-chan of.Event) {
	t.Helper()
	synctest.Wait()
	select {
	case ev := <-ch:
		t.Fatalf("event %+v, want none", ev)
	default:
	}
}

func TestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		inner := inMemory()
		p := newProvider(t, inner, eng, append(gatedOptions(),
			openfeature.WithGatedFlag("plain-too", "other", true),
			openfeature.WithPollInterval(time.Second))...)
		events := p.EventChannel()
		t.Cleanup(p.Shutdown) // stops the goroutine even when the test fails

		if err := p.Init(of.EvaluationContext{}); err != nil {
			t.Fatalf("Init() = %v", err)
		}
		none(t, events)

		closeGate(t, eng, t0)
		none(t, events) // not before the next look
		time.Sleep(time.Second)
		ev := next(t, events)
		reason := eng.Status().Gates[0].Reason
		want := of.Event{
			ProviderName: "sloguard(InMemoryProvider)",
			EventType:    of.ProviderConfigChange,
			ProviderEventDetails: of.ProviderEventDetails{
				Message:     `sloguard gate "risky" closed: ` + reason,
				FlagChanges: []string{"bool", "float", "int", "object", "string"},
				EventMetadata: map[string]any{
					openfeature.MetadataGate:    "risky",
					openfeature.MetadataEnabled: false,
					openfeature.MetadataReason:  reason,
				},
			},
		}
		if !reflect.DeepEqual(ev, want) {
			t.Errorf("event after the gate closed = %+v, want %+v", ev, want)
		}
		time.Sleep(5 * time.Second)
		none(t, events) // no change, no event

		// The wrapped provider's events are forwarded under the wrapper's name.
		inner.UpdateFlags(map[string]memprovider.InMemoryFlag{"plain": flag(map[string]any{"on": true}, "on")})
		ev = next(t, events)
		if ev.ProviderName != "sloguard(InMemoryProvider)" || ev.EventType != of.ProviderConfigChange || !strings.Contains(strings.Join(ev.FlagChanges, ","), "plain") {
			t.Errorf("forwarded event = %+v, want the in-memory provider's configuration change, renamed", ev)
		}

		openGate(t, eng, t0)
		time.Sleep(time.Second)
		ev = next(t, events)
		if ev.EventMetadata[openfeature.MetadataEnabled] != true || ev.Message != `sloguard gate "risky" opened` {
			t.Errorf("event after the gate opened = %+v, want enabled, \"opened\"", ev)
		}
		if _, ok := ev.EventMetadata[openfeature.MetadataReason]; ok {
			t.Errorf("event after the gate opened has a reason: %v", ev.EventMetadata)
		}

		// Closed and open again between two looks: nothing to report.
		at := t0.Add(3 * time.Hour)
		closeGate(t, eng, at)
		openGate(t, eng, at)
		time.Sleep(time.Second)
		none(t, events)

		// Shutdown stops the goroutine (the bubble would not end otherwise);
		// Init starts it again.
		p.Shutdown()
		closeGate(t, eng, at.Add(3*time.Hour))
		time.Sleep(2 * time.Second)
		none(t, events)
		if err := p.Init(of.EvaluationContext{}); err != nil {
			t.Fatalf("Init() again = %v", err)
		}
		// At once, before the goroutine has run: still a change since Init.
		openGate(t, eng, at.Add(3*time.Hour))
		time.Sleep(time.Second)
		if ev := next(t, events); ev.EventMetadata[openfeature.MetadataEnabled] != true {
			t.Errorf("event after a restart = %+v, want the gate opening", ev)
		}
	})
}

// TestEventsThroughSDK checks that the SDK delivers the gate's events to
// its handlers, and stops every goroutine at shutdown.
func TestEventsThroughSDK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		p := newProvider(t, inMemory(), eng, gatedOptions()...)
		api := isolated.NewAPI()
		t.Cleanup(func() { _ = api.Shutdown(context.Background()) }) // when the test fails; idempotent
		got := make(chan of.EventDetails, 4)
		cb := func(d of.EventDetails) { got <- d }
		api.AddHandler(of.ProviderConfigChange, &cb)
		if err := api.SetProviderAndWait(context.Background(), p); err != nil {
			t.Fatalf("SetProviderAndWait() = %v", err)
		}
		client := api.NewClient()

		closeGate(t, eng, t0)
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case d := <-got:
			if d.ProviderName != "sloguard(InMemoryProvider)" || d.EventMetadata[openfeature.MetadataGate] != "risky" || len(d.FlagChanges) != 5 {
				t.Errorf("handler got %+v, want the gate risky's change for 5 flags", d)
			}
		default:
			t.Fatalf("handler got no PROVIDER_CONFIGURATION_CHANGED")
		}
		if s := client.State(); s != of.ReadyState {
			t.Errorf("client state after the gate closed = %v, want READY", s)
		}
		if err := api.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
	})
}
