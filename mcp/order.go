package mcp

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// arrivalKey is the _meta key under which the proxy's transport stamps a
// tools/call request with its arrival number. The SDK handles calls
// concurrently, so only the transport, which reads the session's messages
// one by one, sees the order in which the agent issued them.
const arrivalKey = "dev.gait/arrival_seq"

// callOrder hands calls to the recorder in arrival order: a call that
// completes early waits until every call that arrived before it has been
// recorded (or has been dropped because it never ran).
type callOrder struct {
	mu      sync.Mutex
	issued  int // arrival numbers handed out
	next    int // the next arrival number to record
	pending map[int]*Call
}

// arrive hands out the next arrival number.
func (o *callOrder) arrive() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.issued++
	return o.issued
}

// done records the call that arrived as seq; c is nil for a call that is
// not recorded. It writes every call that is now next in line.
func (o *callOrder) done(seq int, c *Call, record func(Call) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		o.pending = map[int]*Call{}
	}
	if o.next == 0 {
		o.next = 1
	}
	o.pending[seq] = c
	var first error
	for {
		c, ok := o.pending[o.next]
		if !ok {
			return first
		}
		delete(o.pending, o.next)
		o.next++
		if c != nil {
			if err := record(*c); err != nil && first == nil {
				first = err
			}
		}
	}
}

// flush records the calls still waiting for one that never completed, in
// arrival order.
func (o *callOrder) flush(record func(Call) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	seqs := make([]int, 0, len(o.pending))
	for s := range o.pending {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var first error
	for _, s := range seqs {
		if c := o.pending[s]; c != nil {
			if err := record(*c); err != nil && first == nil {
				first = err
			}
		}
		delete(o.pending, s)
	}
	o.next = o.issued + 1
	return first
}

// Transport wraps the transport agents reach the proxy over so that the
// recording keeps tools/call in the order the agent issued them (see
// docs/mcp.md). Without it, calls are numbered as their handlers start.
func (p *Proxy) Transport(t sdk.Transport) sdk.Transport {
	return &orderedTransport{Transport: t, order: &p.order}
}

type orderedTransport struct {
	sdk.Transport
	order *callOrder
}

func (t *orderedTransport) Connect(ctx context.Context) (sdk.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &orderedConn{Connection: c, order: t.order}, nil
}

type orderedConn struct {
	sdk.Connection
	order *callOrder
}

func (c *orderedConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if err != nil {
		return msg, err
	}
	if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() && req.Method == "tools/call" {
		stampArrival(req, c.order)
	}
	return msg, nil
}

// stampArrival adds the next arrival number to a tools/call request's
// _meta. A request whose params are not an object is left alone: it fails
// as invalid params and is never recorded.
func stampArrival(req *jsonrpc.Request, order *callOrder) {
	var params map[string]json.RawMessage
	if json.Unmarshal(req.Params, &params) != nil || params == nil {
		return
	}
	meta := map[string]any{}
	if raw, ok := params["_meta"]; ok && json.Unmarshal(raw, &meta) != nil {
		return
	}
	meta[arrivalKey] = order.arrive()
	b, err := json.Marshal(meta)
	if err != nil {
		return
	}
	params["_meta"] = b
	if out, err := json.Marshal(params); err == nil {
		req.Params = out
	}
}

// arrivalOf is the arrival number the transport stamped on a call, or a
// new one when it did not.
func arrivalOf(r *sdk.CallToolRequest, order *callOrder) int {
	if r.Params != nil {
		if v, ok := r.Params.Meta[arrivalKey].(float64); ok && v >= 1 {
			return int(v)
		}
	}
	return order.arrive()
}
