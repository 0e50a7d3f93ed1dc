package slo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// ErrSnapshot is wrapped by every error about a snapshot that can not be
// restored: corrupt, of a newer format, or from the future.
var ErrSnapshot = errors.New("slo: snapshot refused")

// SnapshotStore keeps the latest snapshot of an Engine's ledgers (see
// WithSnapshots). FileStore, a file on a local disk or volume, is the one
// most services need; implement SnapshotStore to keep snapshots elsewhere,
// such as in an object store.
//
// The engine calls a store from one goroutine at a time, always with a
// deadline, and never on the request path.
//
// The zero (nil) SnapshotStore is none: WithSnapshots rejects it.
type SnapshotStore interface {
	// Load returns the latest saved snapshot, or an error wrapping
	// fs.ErrNotExist when there is none yet.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the snapshot with data atomically: a Load after Save
	// returned, or after a crash during Save, returns either the old
	// snapshot or the new one, whole.
	Save(ctx context.Context, data []byte) error
}

// FileStore is a SnapshotStore that keeps the snapshot in one file. Save
// writes a temporary file in the same directory, syncs it, renames it over
// the snapshot and syncs the directory, so the file is always one whole
// snapshot. The directory must exist; one that is not writable is an error
// from Save, which the engine reports as an event.
//
// A FileStore is safe for concurrent use by one Engine; two Engines must not
// share a file.
//
// The zero FileStore has no path: its Load and Save return an error wrapping
// ErrInvalidOption, as NewFileStore("") does.
type FileStore struct {
	path string
}

// maxSnapshotBytes bounds what FileStore.Load reads: far more than any set
// of objectives needs (about 5 KiB to 30 KiB each for the ledger, and up to
// 15 KiB for the default day of history; 22 KiB for the load and at most
// about 1 MiB for the timeline's changes).
const maxSnapshotBytes = 64 << 20

// errNoPath is the error of the zero FileStore, whose path is empty.
var errNoPath = fmt.Errorf("%w: snapshot file path is empty", ErrInvalidOption)

// NewFileStore returns a FileStore that keeps the snapshot at path.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, errNoPath
	}
	return &FileStore{path: filepath.Clean(path)}, nil
}

// Path returns the snapshot file's path.
func (f *FileStore) Path() string { return f.path }

// Load reads the snapshot file.
func (f *FileStore) Load(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.path == "" {
		return nil, errNoPath
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxSnapshotBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSnapshotBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrSnapshot, f.path, maxSnapshotBytes)
	}
	return data, nil
}

// Save writes the snapshot file atomically.
func (f *FileStore) Save(ctx context.Context, data []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.path == "" {
		return errNoPath
	}
	dir, base := filepath.Split(f.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return err
	}
	// The rename is durable only once the directory is.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

var _ SnapshotStore = (*FileStore)(nil)

// Snapshot options' defaults and bounds.
const (
	defaultSnapshotEvery = time.Minute
	snapshotTimeout      = 10 * time.Second // each Load and Save
)

type snapshotConfig struct {
	store SnapshotStore
	every time.Duration
}

// WithSnapshots makes the engine save its ledgers (the buckets of every
// objective's period and windows) to store every interval and at Close,
// and restore them at its first evaluation, so that a restart keeps the
// error budget. The history (Engine.History, Engine.LoadHistory) and the
// changes in the timeline (Engine.Events) are saved and restored with
// them, so that the deploy that fixes an incident keeps its record. A
// crash loses at most the events of one interval; a clean Close loses
// none.
//
// Restoring follows these rules, each reported as an Event and logged:
//
//   - The time the process was down is no data: never counted as good.
//     Buckets older than an objective's period are dropped.
//   - A snapshot that is corrupt, of a newer format, or written after the
//     engine's current time (a clock went back, or it comes from another
//     host) is refused whole (SnapshotRefused) and the engine starts
//     empty: a bad snapshot never stops the service.
//   - Each objective is matched by name and fingerprint (its period, for a
//     calendar period its kind and time zone, and its bucket layout): one
//     whose period or rules changed is refused alone
//     and starts empty; one added since starts empty; one removed is
//     dropped.
//   - The history and the timeline's changes are restored whatever became
//     of the ledgers, objectives matched by name: they say what happened.
//     An objective the snapshot does not have has no samples for that
//     time. A snapshot of format version 1 has neither.
//   - The cumulative totals behind the sloguard.events counter are never
//     restored: a monotonic counter that jumped at start would be counted
//     twice by every rate() over it.
//
// A Save that fails (a directory that is not writable, a full disk) is
// logged and counted as a fault, with a SnapshotFailed event when saving
// starts failing and SnapshotRecovered when it works again. Each Load and
// Save has a deadline of 10 seconds, and Close waits no longer than that
// for a save in progress before its final one. Saves run on a goroutine of their own,
// started by Start; an engine driven by Tick saves only at Close.
//
// By default, there are no snapshots. With every 0, a minute; at most a
// day.
func WithSnapshots(store SnapshotStore, every time.Duration) Option {
	return optionFunc(func(c *config) {
		var errs []string
		if store == nil {
			errs = append(errs, "nil store")
		}
		if every < 0 || every > 24*time.Hour {
			errs = append(errs, fmt.Sprintf("interval %v must be from 0 to a day", every))
		}
		if len(errs) > 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: snapshots: %s", ErrInvalidOption, strings.Join(errs, "; ")))
			return
		}
		if every == 0 {
			every = defaultSnapshotEvery
		}
		c.snapshots = &snapshotConfig{store: store, every: every}
	})
}

// snapshots saves and restores an engine's ledgers.
type snapshots struct {
	store SnapshotStore
	every time.Duration
	fps   []uint64 // fingerprints by objective index

	// Owned by the evaluator (tickMu).
	restored   bool        // the restore step ran: saving may begin
	restoredAt []time.Time // time of each objective's restored buckets; zero for none
	taken      time.Time   // when the latest snapshot was taken

	queue chan []byte   // the latest snapshot not yet saved; capacity 1
	stop  chan struct{} // closed to stop the writer
	done  chan struct{} // closed when the writer returns; nil if never started

	mu      sync.Mutex
	pending []Event // events of the writer for the evaluator; guarded by mu
	failing bool    // whether the latest Save failed; guarded by mu
}

func newSnapshots(cfg *snapshotConfig, recs []*Recorder) *snapshots {
	if cfg == nil {
		return nil
	}
	s := &snapshots{
		store:      cfg.store,
		every:      cfg.every,
		fps:        make([]uint64, len(recs)),
		restoredAt: make([]time.Time, len(recs)),
		queue:      make(chan []byte, 1),
		stop:       make(chan struct{}),
	}
	for i, r := range recs {
		s.fps[i] = fingerprint(r.spec, r.ledger.Tiers())
	}
	return s
}

// fingerprint identifies the layout of an objective's ledger: what its
// buckets mean. A snapshot restores into an objective only when the
// fingerprints match.
func fingerprint(spec budget.Spec, tiers []budget.Tier) uint64 {
	var b strings.Builder
	b.WriteString(periodKey(spec))
	for _, t := range tiers {
		fmt.Fprintf(&b, ";tier=%d×%d", int64(t.Resolution), t.Buckets)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return binary.LittleEndian.Uint64(sum[:8])
}

// periodKey describes an objective's period for its fingerprint: a
// calendar period by its kind and time zone ("calendar=month
// Europe/Berlin"), so that buckets are never restored across a change of
// kind or zone, even when the layout stays the same.
func periodKey(spec budget.Spec) string {
	if !spec.Calendar.IsZero() {
		return "calendar=" + spec.Calendar.String()
	}
	return fmt.Sprintf("rolling=%d", int64(spec.Period))
}

// start starts the writer goroutine.
func (s *snapshots) start(e *Engine) {
	if s == nil {
		return
	}
	s.done = make(chan struct{})
	go s.write(e)
}

// write saves the snapshots the evaluator queues until stop is closed.
func (s *snapshots) write(e *Engine) {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case data := <-s.queue:
			s.save(e, data)
		}
	}
}

// save saves data and records the outcome for the evaluator's events.
func (s *snapshots) save(e *Engine, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	err := s.store.Save(ctx, data)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := e.clock.now()
	switch {
	case err != nil:
		e.faults.Add(1)
		if !s.failing {
			s.pending = append(s.pending, Event{Time: now, Kind: SnapshotFailed, Reason: err.Error()})
		}
		s.failing = true
		err = fmt.Errorf("slo: saving the snapshot: %w", err)
	case s.failing:
		s.failing = false
		s.pending = append(s.pending, Event{Time: now, Kind: SnapshotRecovered})
	}
	return err
}

// drain returns the writer's events since the previous call.
func (s *snapshots) drain() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.pending
	s.pending = nil
	return evs
}

// begin runs in every evaluation before the ledgers advance: the first
// restores the snapshot. It returns the events to send.
func (s *snapshots) begin(e *Engine, now time.Time) []Event {
	if s == nil {
		return nil
	}
	evs := s.drain()
	if !s.restored {
		s.restored, s.taken = true, now
		evs = append(evs, s.restore(e, now)...)
	}
	return evs
}

// end runs in every evaluation after the ledgers advanced: every interval it
// queues a snapshot for the writer.
func (s *snapshots) end(e *Engine, now time.Time) {
	if s == nil || now.Sub(s.taken) < s.every {
		return
	}
	s.taken = now
	data := s.encode(e, now)
	select {
	case <-s.queue: // the writer is behind: the newer snapshot wins
	default:
	}
	s.queue <- data
}

// restore loads the store's snapshot into the ledgers, which were never
// advanced, the history and the timeline, which are empty, and returns the
// events that say what happened.
func (s *snapshots) restore(e *Engine, now time.Time) []Event {
	recs := e.recs
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	data, err := s.store.Load(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the first start
	}
	refused := func(objective, reason string) Event {
		return Event{Time: now, Kind: SnapshotRefused, Objective: objective, Reason: reason + "; starting empty"}
	}
	if err != nil {
		return []Event{refused("", fmt.Sprintf("loading the snapshot: %v", err))}
	}
	f, err := decodeSnapshot(data)
	if err != nil {
		return []Event{refused("", err.Error())}
	}
	if f.written.After(now) {
		return []Event{refused("", fmt.Sprintf("%v: written at %s, %v after now: a clock went back, or it comes from another host",
			ErrSnapshot, f.written.UTC().Format(time.RFC3339), f.written.Sub(now)))}
	}
	var evs []Event
	var restored, fresh []string
	for i, r := range recs {
		name := r.obj.Name
		j := slices.IndexFunc(f.objectives, func(o objectiveSnapshot) bool { return o.name == name })
		if j < 0 {
			fresh = append(fresh, name)
			continue
		}
		o := f.objectives[j]
		if o.fingerprint != s.fps[i] {
			evs = append(evs, refused(name, fmt.Sprintf("%v: objective %q had another period or bucket layout", ErrSnapshot, name)))
			continue
		}
		if err := r.ledger.Restore(o.ledger, now); err != nil {
			evs = append(evs, refused(name, fmt.Sprintf("objective %q: %v", name, err)))
			continue
		}
		s.restoredAt[i] = o.ledger.Time
		restored = append(restored, name)
	}
	var dropped []string
	for _, o := range f.objectives {
		if !slices.ContainsFunc(recs, func(r *Recorder) bool { return r.obj.Name == o.name }) {
			dropped = append(dropped, o.name)
		}
	}
	// The history and the timeline are what happened: restored whatever
	// became of the ledgers.
	samples := e.history.restore(f.history, recs)
	e.timeline.add(f.events...)
	if len(restored) > 0 || len(dropped) > 0 || samples > 0 || len(f.events) > 0 {
		reason := fmt.Sprintf("written at %s (%v ago)", f.written.UTC().Format(time.RFC3339), now.Sub(f.written).Round(time.Second))
		if len(restored) > 0 {
			reason += "; restored " + strings.Join(restored, ", ")
		}
		if samples > 0 || len(f.events) > 0 {
			reason += fmt.Sprintf("; history of %d samples and %d events", samples, len(f.events))
		}
		if len(fresh) > 0 {
			reason += "; new, starting empty: " + strings.Join(fresh, ", ")
		}
		if len(dropped) > 0 {
			reason += "; no longer configured, dropped: " + strings.Join(dropped, ", ")
		}
		evs = append([]Event{{Time: now, Kind: SnapshotRestored, Reason: reason}}, evs...)
	}
	return evs
}

// encode takes a snapshot of every ledger that was advanced, of the
// history and of the changes in the timeline.
func (s *snapshots) encode(e *Engine, now time.Time) []byte {
	recs := e.recs
	f := snapshotFile{written: now, history: e.history.snapshot(recs), events: e.timeline.changed()}
	for i, r := range recs {
		ls, ok := r.ledger.Snapshot()
		if !ok {
			continue
		}
		f.objectives = append(f.objectives, objectiveSnapshot{name: r.obj.Name, fingerprint: s.fps[i], ledger: ls})
	}
	return f.appendBinary(nil)
}

// view returns the view of objective i at now: restored while buckets of
// the snapshot are still inside the period.
func (s *snapshots) view(i int, spec budget.Spec, now time.Time) (View, time.Time) {
	if s == nil || s.restoredAt[i].IsZero() {
		return ViewLocal, time.Time{}
	}
	if start, _ := spec.PeriodAt(now); !s.restoredAt[i].After(start) {
		return ViewLocal, time.Time{}
	}
	return ViewRestored, s.restoredAt[i]
}

// close stops the writer and saves a final snapshot of the ledgers, with
// the events recorded since the latest evaluation folded into its bucket
// (at most one interval early), unless the engine never evaluated: its
// ledgers would be empty, and replace a snapshot it never restored. The
// evaluation loop has returned.
func (s *snapshots) close(e *Engine) error {
	if s == nil {
		return nil
	}
	close(s.stop)
	if s.done != nil {
		t := time.NewTimer(snapshotTimeout)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
			// A store that ignores its deadline: never two saves at once.
			return errors.New("slo: saving the final snapshot: the previous save is still running")
		}
	}
	e.tickMu.Lock()
	if !s.restored {
		e.tickMu.Unlock()
		return nil
	}
	now := e.pub.current().Time
	for _, r := range e.recs {
		r.fold()
		r.ledger.Advance(now)
	}
	data := s.encode(e, now)
	e.tickMu.Unlock()
	return s.save(e, data) // Close returns it: the dispatcher has stopped
}

// The snapshot format, version 2, little-endian (version 1 ends after the
// objectives, with no history and no events; it is still read):
//
//	magic    8 bytes  "sloguard"
//	version  uint16   2
//	length   uint32   of the payload
//	payload:
//	  written            varint, Unix nanoseconds
//	  objectives         uvarint count, then each:
//	    name             uvarint length, bytes
//	    fingerprint      uint64
//	    time             varint, Unix nanoseconds of the ledger's latest Advance
//	    tiers            uvarint count, then each:
//	      resolution     varint, nanoseconds
//	      head           varint
//	      buckets        uvarint count, then good, bad, shed as uvarints each
//	  load samples       uvarint count n, then each:
//	    time             varint, Unix nanoseconds
//	    level, scale     float32 bits, uint32 each
//	    scale known      byte, 0 or 1
//	    admitted         4 uvarints, by Criticality
//	    rejected         4 uvarints, by Criticality
//	  objective samples  uvarint count, then each:
//	    name             uvarint length, bytes
//	    n samples        state byte, remaining and burn float32 bits,
//	                     good, bad, shed uvarints
//	  events             uvarint count, then each (the changes of the
//	                     timeline; see Event for the fields):
//	    time varint; kind byte; objective string; from, to bytes;
//	    remaining float64 bits; burns uvarint count, then window varint
//	    and burn float64 bits each; from level, level float64 bits;
//	    dependency string; breaker from, to bytes; gate string; enabled,
//	    frozen bytes (0 or 1); from view, to view bytes; reason string
//	    (a string is a uvarint length, then bytes)
//	crc32c   uint32   Castagnoli, of everything before it
const (
	snapshotMagic   = "sloguard"
	snapshotVersion = 2
	headerLen       = len(snapshotMagic) + 2 + 4
	maxTiers        = 64
	maxNameLen      = 128
	maxReasonLen    = 4096
	maxBurns        = 64
	// minEventLen is the fewest bytes an encoded event takes.
	minEventLen = 39
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type snapshotFile struct {
	written    time.Time
	objectives []objectiveSnapshot
	history    historySnapshot
	events     []Event
}

// historySnapshot is the history as kept: n load samples, and for each
// objective n samples of the same times.
type historySnapshot struct {
	load []loadSample
	objs []objectiveHistory
}

type objectiveHistory struct {
	name    string
	samples []objSample
}

type objectiveSnapshot struct {
	name        string
	fingerprint uint64
	ledger      budget.Snapshot
}

func (f snapshotFile) appendBinary(b []byte) []byte {
	b = append(b, snapshotMagic...)
	b = binary.LittleEndian.AppendUint16(b, snapshotVersion)
	lenAt := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0)
	start := len(b)
	b = binary.AppendVarint(b, f.written.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(f.objectives)))
	for _, o := range f.objectives {
		b = binary.AppendUvarint(b, uint64(len(o.name)))
		b = append(b, o.name...)
		b = binary.LittleEndian.AppendUint64(b, o.fingerprint)
		b = binary.AppendVarint(b, o.ledger.Time.UnixNano())
		b = binary.AppendUvarint(b, uint64(len(o.ledger.Tiers)))
		for _, t := range o.ledger.Tiers {
			b = binary.AppendVarint(b, int64(t.Resolution))
			b = binary.AppendVarint(b, t.Head)
			b = binary.AppendUvarint(b, uint64(len(t.Buckets)))
			for _, c := range t.Buckets {
				b = binary.AppendUvarint(b, c.Good)
				b = binary.AppendUvarint(b, c.Bad)
				b = binary.AppendUvarint(b, c.Shed)
			}
		}
	}
	b = f.history.appendBinary(b)
	b = binary.AppendUvarint(b, uint64(len(f.events)))
	for _, ev := range f.events {
		b = appendEvent(b, ev)
	}
	binary.LittleEndian.PutUint32(b[lenAt:], uint32(len(b)-start))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeSnapshot parses a snapshot. Every error wraps ErrSnapshot. It
// never allocates more than the input's size justifies.
func decodeSnapshot(data []byte) (snapshotFile, error) {
	corrupt := func(format string, args ...any) (snapshotFile, error) {
		return snapshotFile{}, fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
	}
	if len(data) < headerLen+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return corrupt("not a sloguard snapshot")
	}
	version := binary.LittleEndian.Uint16(data[len(snapshotMagic):])
	switch v := version; {
	case v > snapshotVersion:
		return corrupt("format version %d is newer than this sloguard reads (%d)", v, snapshotVersion)
	case v < 1:
		return corrupt("format version %d is unknown", v)
	}
	n := binary.LittleEndian.Uint32(data[len(snapshotMagic)+2:])
	if uint64(n) != uint64(len(data)-headerLen-4) {
		return corrupt("payload of %d bytes, the header says %d: truncated or extended", len(data)-headerLen-4, n)
	}
	body := data[:len(data)-4]
	if want, got := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return corrupt("checksum %08x, want %08x", got, want)
	}
	r := reader{b: body[headerLen:]}
	f := snapshotFile{written: time.Unix(0, r.varint())}
	nobj := r.count(1 + 8 + 1 + 1) // the least one objective takes
	for range nobj {
		var o objectiveSnapshot
		l := r.count(1)
		if l > maxNameLen {
			return corrupt("objective name of %d bytes", l)
		}
		o.name = string(r.bytes(l))
		o.fingerprint = r.uint64()
		o.ledger.Time = time.Unix(0, r.varint())
		nt := r.count(3)
		if nt > maxTiers {
			return corrupt("objective %q has %d tiers", o.name, nt)
		}
		for range nt {
			t := budget.TierSnapshot{Resolution: time.Duration(r.varint()), Head: r.varint()}
			nb := r.count(3)
			if r.err == nil && (t.Resolution <= 0 || nb == 0) {
				return corrupt("objective %q has a tier of resolution %v and %d buckets", o.name, t.Resolution, nb)
			}
			t.Buckets = make([]budget.Counts, nb)
			for k := range t.Buckets {
				t.Buckets[k] = budget.Counts{Good: r.uvarint(), Bad: r.uvarint(), Shed: r.uvarint()}
			}
			o.ledger.Tiers = append(o.ledger.Tiers, t)
		}
		if r.err != nil {
			break
		}
		if slices.ContainsFunc(f.objectives, func(x objectiveSnapshot) bool { return x.name == o.name }) {
			return corrupt("objective %q appears twice", o.name)
		}
		f.objectives = append(f.objectives, o)
	}
	if version >= 2 && r.err == nil {
		if err := f.history.decode(&r); err != nil {
			return corrupt("%v", err)
		}
		ne := r.count(minEventLen)
		for range ne {
			ev, err := decodeEvent(&r)
			if err != nil {
				return corrupt("%v", err)
			}
			if r.err != nil {
				break
			}
			f.events = append(f.events, ev)
		}
	}
	switch {
	case r.err != nil:
		return corrupt("%v", r.err)
	case len(r.b) > 0:
		return corrupt("%d bytes after the end", len(r.b))
	}
	return f, nil
}

func (h historySnapshot) appendBinary(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(h.load)))
	for _, s := range h.load {
		b = binary.AppendVarint(b, s.time)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(finite32(s.level)))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(finite32(s.scale)))
		b = appendBool(b, s.scaleKnown)
		for _, v := range s.admitted {
			b = binary.AppendUvarint(b, uint64(v))
		}
		for _, v := range s.rejected {
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(h.objs)))
	for _, o := range h.objs {
		b = appendString(b, o.name)
		for _, s := range o.samples {
			b = append(b, byte(s.state))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(finite32(s.remaining)))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(finite32(s.burn)))
			b = binary.AppendUvarint(b, uint64(s.good))
			b = binary.AppendUvarint(b, uint64(s.bad))
			b = binary.AppendUvarint(b, uint64(s.shed))
		}
	}
	return b
}

// decode reads the history; an error says what is wrong beyond a
// truncated payload, which r.err says.
func (h *historySnapshot) decode(r *reader) error {
	n := r.count(1 + 4 + 4 + 1 + 8)
	if n > 0 {
		h.load = make([]loadSample, n)
	}
	for k := range h.load {
		s := loadSample{time: r.varint(), level: r.float32(), scale: r.float32(), scaleKnown: r.bool()}
		for c := range s.admitted {
			s.admitted[c] = r.uint32v()
		}
		for c := range s.rejected {
			s.rejected[c] = r.uint32v()
		}
		h.load[k] = s
	}
	no := r.count(1 + n*12)
	for range no {
		o := objectiveHistory{name: r.string(maxNameLen), samples: make([]objSample, 0, min(n, len(r.b)/12))}
		for range n {
			o.samples = append(o.samples, objSample{state: budget.State(r.byte()), remaining: r.float32(), burn: r.float32(),
				good: r.uint32v(), bad: r.uint32v(), shed: r.uint32v()})
		}
		if r.err != nil {
			return nil
		}
		if slices.ContainsFunc(h.objs, func(x objectiveHistory) bool { return x.name == o.name }) {
			return fmt.Errorf("history of objective %q appears twice", o.name)
		}
		h.objs = append(h.objs, o)
	}
	return nil
}

func appendEvent(b []byte, ev Event) []byte {
	b = binary.AppendVarint(b, ev.Time.UnixNano())
	b = append(b, byte(ev.Kind))
	b = appendString(b, ev.Objective)
	b = append(b, byte(ev.From), byte(ev.To))
	b = appendFloat64(b, ev.Remaining)
	b = binary.AppendUvarint(b, uint64(len(ev.Burns)))
	for _, w := range ev.Burns {
		b = binary.AppendVarint(b, int64(w.Window))
		b = appendFloat64(b, w.Burn)
	}
	b = appendFloat64(b, ev.FromLevel)
	b = appendFloat64(b, ev.Level)
	b = appendString(b, ev.Dependency)
	b = append(b, byte(ev.BreakerFrom), byte(ev.BreakerTo))
	b = appendString(b, ev.Gate)
	b = appendBool(b, ev.Enabled)
	b = appendBool(b, ev.Frozen)
	b = append(b, byte(ev.FromView), byte(ev.ToView))
	return appendString(b, ev.Reason)
}

func decodeEvent(r *reader) (Event, error) {
	ev := Event{Time: time.Unix(0, r.varint()), Kind: EventKind(r.byte()), Objective: r.string(maxNameLen),
		From: budget.State(r.byte()), To: budget.State(r.byte()), Remaining: r.float64()}
	nb := r.count(1 + 8)
	if nb > maxBurns {
		return ev, fmt.Errorf("an event has %d burn rates", nb)
	}
	for range nb {
		ev.Burns = append(ev.Burns, WindowBurn{Window: time.Duration(r.varint()), Burn: r.float64()})
	}
	ev.FromLevel, ev.Level = r.float64(), r.float64()
	ev.Dependency = r.string(maxNameLen)
	ev.BreakerFrom, ev.BreakerTo = BreakerState(r.byte()), BreakerState(r.byte())
	ev.Gate = r.string(maxNameLen)
	ev.Enabled, ev.Frozen = r.bool(), r.bool()
	ev.FromView, ev.ToView = View(r.byte()), View(r.byte())
	ev.Reason = r.string(maxReasonLen)
	if r.err == nil && !isChange(ev.Kind) {
		return ev, fmt.Errorf("an event of kind %v in the timeline", ev.Kind)
	}
	return ev, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendFloat64 appends v's bits; NaN, which the engine never produces,
// as 0, so that every snapshot decodes to what was encoded.
func appendFloat64(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		v = 0
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// finite32 is v, or 0 for NaN (see appendFloat64).
func finite32(v float32) float32 {
	if v != v {
		return 0
	}
	return v
}

// reader decodes a payload; the first error sticks and later reads return
// zeros.
type reader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated payload")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail(errTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.fail(errTruncated)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errTruncated)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

var errNotBool = errors.New("a flag that is neither 0 nor 1")

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(errNotBool)
	return false
}

var errNaN = errors.New("a number that is not a number")

func (r *reader) float32() float32 {
	if len(r.b) < 4 {
		r.fail(errTruncated)
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(r.b))
	r.b = r.b[4:]
	if v != v {
		r.fail(errNaN)
		return 0
	}
	return v
}

func (r *reader) float64() float64 {
	v := math.Float64frombits(r.uint64())
	if math.IsNaN(v) {
		r.fail(errNaN)
		return 0
	}
	return v
}

var errTooLarge = errors.New("a count or length out of range")

// uint32v reads a uvarint that must fit in 32 bits.
func (r *reader) uint32v() uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail(errTooLarge)
		return 0
	}
	return uint32(v)
}

// string reads a string of at most limit bytes.
func (r *reader) string(limit int) string {
	n := r.count(1)
	if n > limit {
		r.fail(errTooLarge)
		return ""
	}
	return string(r.bytes(n))
}

// count reads a count of elements that take at least size bytes each, and
// refuses one that the rest of the payload can not hold.
func (r *reader) count(size int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)/size) {
		r.fail(fmt.Errorf("count %d is more than the %d bytes left can hold", v, len(r.b)))
		return 0
	}
	return int(v)
}
