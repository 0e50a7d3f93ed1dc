package slo

// Recorders exposes recorders, the batch lookup behind Engine.Route.
func (e *Engine) Recorders(names ...string) ([]*Recorder, error) { return e.recorders(names...) }
