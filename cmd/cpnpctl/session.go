/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// session runs the client engine for one order, just long enough for one
// verb: load the order from the state file, connect, issue the command,
// wait for the expected transition or --timeout, flush what was queued,
// stop. Only that order is loaded, so a verb never advances the timers of
// the state file's other orders.
type session struct {
	g         *globalOptions
	s         IOStreams
	id        string
	server    string
	transport client.Transport
	state     *client.BoltStore
	eng       *client.Engine
	events    <-chan client.Event
	ctx       context.Context // ends at --timeout, SIGINT or SIGTERM
	stop      func()
	// softTimeout, when set, turns a timeout into this warning and success:
	// the order already reached its end locally (cancel, decline).
	softTimeout string
}

// oneOrderStore is the state file seen through one order: Load returns
// only that order (if it exists), Save writes through.
type oneOrderStore struct {
	b  *client.BoltStore
	id string
}

func (s oneOrderStore) Save(ctx context.Context, o client.Order) error { return s.b.Save(ctx, o) }

func (s oneOrderStore) Load(context.Context) ([]client.Order, error) {
	o, err := s.b.Get(s.id)
	if errors.Is(err, client.ErrUnknownOrder) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []client.Order{o}, nil
}

// openSession starts the engine for order id. existing says whether the
// order must already be in the state file (every verb but quote) or must
// not be (quote).
func openSession(cmd *cobra.Command, g *globalOptions, s IOStreams, id string, existing bool) (*session, error) {
	state, err := g.openState()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = state.Close()
		}
	}()
	var order *client.Order
	o, err := state.Get(id)
	switch {
	case err == nil && existing:
		order = &o
	case err == nil:
		return nil, fmt.Errorf("order %s already exists in %s; choose another customerOrderID", id, state.Path())
	case errors.Is(err, client.ErrUnknownOrder) && existing:
		return nil, fmt.Errorf("order %s not found in %s (see cpnpctl status)", id, state.Path())
	case !errors.Is(err, client.ErrUnknownOrder):
		return nil, err
	}
	server, sc, err := g.serverConfig(order)
	if err != nil {
		return nil, err
	}
	// A refused certificate will not get better by retrying: fail at once.
	var refused error
	var refusedMu sync.Mutex
	var cancelConnect context.CancelFunc = func() {}
	eng, err := client.NewEngine(client.Config{
		Store:  oneOrderStore{b: state, id: id},
		Logger: g.logger(s),
		Mux: client.MuxConfig{OnHandshakeFailure: func(_ string, err error) {
			if errors.Is(err, transport.ErrHandshakeTimeout) {
				return
			}
			refusedMu.Lock()
			defer refusedMu.Unlock()
			if refused == nil {
				refused = err
				cancelConnect()
			}
		}},
	})
	if err != nil {
		return nil, err
	}
	if err := eng.AddServer(server, sc); err != nil {
		return nil, errors.Join(err, eng.Close())
	}
	events, unsubscribe := eng.Subscribe(id)

	base := cmd.Context()
	if base == nil {
		base = context.Background()
	}
	sigCtx, stopSignals := signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
	ctx, cancelTimeout := context.WithTimeout(sigCtx, g.timeout)
	runCtx, stopRun := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	ss := &session{g: g, s: s, id: id, server: server, transport: sc.Transport, state: state, eng: eng, events: events, ctx: ctx}
	ss.stop = func() {
		// Let queued answers leave before the associations close.
		fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = eng.Flush(fctx)
		cancel()
		stopRun()
		if err := <-done; err != nil {
			fmt.Fprintf(s.ErrOut, "cpnpctl: engine: %v\n", err)
		}
		unsubscribe()
		cancelTimeout()
		stopSignals()
		_ = state.Close()
	}
	connectCtx, cancel := context.WithCancel(ctx)
	refusedMu.Lock()
	cancelConnect = cancel
	if refused != nil {
		cancel()
	}
	refusedMu.Unlock()
	err = eng.Connect(connectCtx, server)
	cancel()
	if err != nil {
		ss.stop()
		refusedMu.Lock()
		defer refusedMu.Unlock()
		if refused != nil {
			return nil, fmt.Errorf("CPNP server %s: %w", server, refused)
		}
		return nil, fmt.Errorf("cannot reach CPNP server %s: %w", server, err)
	}
	ok = true
	return ss, nil
}

// verdict is what a verb concludes from the order's state.
type verdict int

const (
	pending   verdict = iota // keep waiting
	succeeded                // exit 0
	failed                   // exit 2: the order or the transaction ended abnormally
)

// judge looks at the order after an event (ev is nil for the first look,
// right after the command) and says whether the verb is done.
type judge func(o client.Order, ev *client.Event) (verdict, string)

// wait prints the order's events until j concludes, --timeout passes or
// the user interrupts. react, if set, may issue commands (auto-accept).
func (ss *session) wait(j judge, react func(o client.Order) error) error {
	if o, ok := ss.eng.Get(ss.id); ok {
		if react != nil {
			if err := react(o); err != nil {
				return err
			}
		}
		if v, msg := j(o, nil); v != pending {
			return ss.conclude(v, msg)
		}
	}
	for {
		select {
		case ev, ok := <-ss.events:
			if !ok {
				return fmt.Errorf("order %s: engine stopped", ss.id)
			}
			printEvent(ss.s.Out, ev)
			if react != nil {
				if err := react(*ev.Order); err != nil {
					return err
				}
			}
			if !lastOfStep(ev) {
				continue // more transitions of the same step follow
			}
			if v, msg := j(*ev.Order, &ev); v != pending {
				return ss.conclude(v, msg)
			}
		case <-ss.ctx.Done():
			o, _ := ss.eng.Get(ss.id)
			if ss.softTimeout != "" && errors.Is(ss.ctx.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(ss.s.ErrOut, "cpnpctl: warning: %s after %s; order %s is %s\n", ss.softTimeout, ss.g.timeout, ss.id, describeState(o))
				return nil
			}
			why := fmt.Sprintf("timed out after %s", ss.g.timeout)
			if !errors.Is(ss.ctx.Err(), context.DeadlineExceeded) {
				why = "interrupted"
			}
			return fmt.Errorf("%s: order %s is %s (saved in %s); run `cpnpctl wait %s` to continue",
				why, ss.id, describeState(o), ss.state.Path(), ss.id)
		}
	}
}

// lastOfStep reports whether ev is the last event of its engine step: an
// alarm, or the transition that the order's history ends with. The order
// in an event is the order after the whole step, so judging an earlier
// transition of the step would skip printing the later ones.
func lastOfStep(ev client.Event) bool {
	if ev.Kind != client.EventTransition || len(ev.Order.History) == 0 {
		return true
	}
	last := ev.Order.History[len(ev.Order.History)-1]
	t := ev.Transition
	return last.From == t.From && last.To == t.To && last.Reason == t.Reason && last.Cause == t.Cause && last.At.Equal(t.At)
}

func (ss *session) conclude(v verdict, msg string) error {
	if v == failed {
		return &exitError{code: statusFailed, err: errors.New(msg)}
	}
	if msg != "" {
		fmt.Fprintln(ss.s.Out, msg)
	}
	return nil
}

// describeState is "State" or "State (reason)" for messages.
func describeState(o client.Order) string {
	s := string(o.State())
	if s == "" {
		return "unknown"
	}
	if f := o.FSM.Failure; f != nil {
		return s + " (" + failureText(f) + ")"
	}
	if n := len(o.History); n > 0 {
		return s + " (" + o.History[n-1].Reason + ")"
	}
	return s
}

// failureText describes a failure: its reason and FAIL code, if any.
func failureText(f *fsm.Failure) string {
	if f == nil {
		return ""
	}
	s := f.Reason
	if f.StatusCode != 0 {
		dir := "FAIL"
		if f.Sent {
			dir = "sent FAIL"
		}
		s += fmt.Sprintf(": %s %d %s", dir, int(f.StatusCode), f.StatusCode)
	}
	return s
}
