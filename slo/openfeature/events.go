package openfeature

import (
	"context"
	"fmt"
	"slices"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
)

// Init initialises the wrapped provider and starts forwarding events; see
// InitWithContext.
func (p *Provider) Init(evalCtx of.EvaluationContext) error {
	return p.InitWithContext(context.Background(), evalCtx)
}

// InitWithContext starts the goroutine that forwards the wrapped provider's
// events and reports gate changes (see the package documentation), then
// initialises the wrapped provider, with InitWithContext or Init if it has
// either, and returns its error unchanged, so that the SDK sees its
// ProviderInitError. The goroutine runs until Shutdown, even when the
// wrapped provider failed to initialise: its later events still count.
// Calling it again while running only initialises the wrapped provider
// again, as the SDK would without the wrapper.
func (p *Provider) InitWithContext(ctx context.Context, evalCtx of.EvaluationContext) error {
	p.start()
	switch h := p.inner.(type) {
	case of.ContextAwareStateHandler:
		return h.InitWithContext(ctx, evalCtx)
	case of.StateHandler:
		return h.Init(evalCtx)
	}
	return nil
}

// Shutdown stops forwarding events and shuts the wrapped provider down; see
// ShutdownWithContext.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops the event goroutine and waits for it, then shuts
// the wrapped provider down, with ShutdownWithContext or Shutdown if it has
// either, and returns its error. A Provider that was shut down may be
// initialised again.
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done // the goroutine never blocks without watching stop
	}
	switch h := p.inner.(type) {
	case of.ContextAwareStateHandler:
		return h.ShutdownWithContext(ctx)
	case of.StateHandler:
		h.Shutdown()
	}
	return nil
}

// EventChannel returns the provider's events: the wrapped provider's, with
// this provider's name, and PROVIDER_CONFIGURATION_CHANGED when a gate
// opens or closes. Events flow between Init and Shutdown.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

func (p *Provider) start() {
	var inner <-chan of.Event
	if h, ok := p.inner.(of.EventHandler); ok {
		inner = h.EventChannel()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		return
	}
	// The gates as of Init: later changes are reported, even those made
	// before the goroutine first runs.
	open := make([]bool, len(p.gates))
	for i, g := range p.gates {
		open[i] = g.gate.Enabled()
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.watch(p.stop, p.done, inner, open)
}

// watch forwards inner's events and reports gate changes against open
// until stop is closed. It is owned by the Provider: started by Init,
// stopped by Shutdown.
func (p *Provider) watch(stop <-chan struct{}, done chan<- struct{}, inner <-chan of.Event, open []bool) {
	defer close(done)
	tick := time.NewTicker(p.poll)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-inner:
			if !ok {
				inner = nil // a nil channel is never ready
				continue
			}
			ev.ProviderName = p.name
			if !p.send(stop, ev) {
				return
			}
		case <-tick.C:
			for i, g := range p.gates {
				now := g.gate.Enabled()
				if now == open[i] {
					continue
				}
				open[i] = now
				if !p.send(stop, p.gateEvent(g, now)) {
					return
				}
			}
		}
	}
}

// send sends ev, or reports false if stop closed first.
func (p *Provider) send(stop <-chan struct{}, ev of.Event) bool {
	select {
	case p.events <- ev:
		return true
	case <-stop:
		return false
	}
}

func (p *Provider) gateEvent(g *gateFlags, open bool) of.Event {
	name := g.gate.Name()
	meta := map[string]any{MetadataGate: name, MetadataEnabled: open}
	msg := fmt.Sprintf("sloguard gate %q opened", name)
	if !open {
		reason := p.reason(g.gate)
		meta[MetadataReason] = reason
		msg = fmt.Sprintf("sloguard gate %q closed: %s", name, reason)
	}
	return of.Event{
		ProviderName: p.name,
		EventType:    of.ProviderConfigChange,
		ProviderEventDetails: of.ProviderEventDetails{
			Message:       msg,
			FlagChanges:   slices.Clone(g.keys),
			EventMetadata: meta,
		},
	}
}
