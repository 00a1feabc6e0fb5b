package consumers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/dynamoapi"
	"github.com/sluicedb/sluice/engine/wire"
)

// RegisterAdmin adds the trigger operations to s, beside the DynamoDB API
// on the same port; `sluice triggers` sends them. Their errors use
// DynamoDB's exceptions: ValidationException for a bad setting,
// ResourceNotFoundException for an unknown trigger or table,
// ResourceInUseException for a name taken.
//
//	CreateTrigger   a trigger's settings (config.Trigger's JSON names)
//	UpdateTrigger   {"Name", and the settings to change; null resets one}
//	GetTrigger      {"Name"}
//	ListTriggers    {"TableName"?}
//	DeleteTrigger   {"Name"}
//	EnableTrigger   {"Name"}
//	DisableTrigger  {"Name"}
//	RedriveTrigger  {"Name"}: deliver its dead letters again
//	CreateSink      a sink's settings (config.Sink's JSON names)
//	GetSink, DeleteSink, PauseSink, ResumeSink   {"Name"}
//	ListSinks       {"TableName"?}
//	Search          {"TableName", "Query", "Limit"?, "Next"?, "ConsistentRead"?, "SinkName"?}
func RegisterAdmin(s *wire.Server, t *Runtime) {
	a := &admin{t: t}
	s.Handle(dynamoapi.AdminTargetPrefix+"CreateTrigger", a.create)
	s.Handle(dynamoapi.AdminTargetPrefix+"UpdateTrigger", a.update)
	s.Handle(dynamoapi.AdminTargetPrefix+"GetTrigger", a.getOne)
	s.Handle(dynamoapi.AdminTargetPrefix+"ListTriggers", a.list)
	s.Handle(dynamoapi.AdminTargetPrefix+"DeleteTrigger", a.delete)
	s.Handle(dynamoapi.AdminTargetPrefix+"EnableTrigger", a.enable(true))
	s.Handle(dynamoapi.AdminTargetPrefix+"DisableTrigger", a.enable(false))
	s.Handle(dynamoapi.AdminTargetPrefix+"RedriveTrigger", a.redrive)
	s.Handle(dynamoapi.AdminTargetPrefix+"CreateSink", a.createSink)
	s.Handle(dynamoapi.AdminTargetPrefix+"GetSink", a.getSink)
	s.Handle(dynamoapi.AdminTargetPrefix+"ListSinks", a.listSinks)
	s.Handle(dynamoapi.AdminTargetPrefix+"DeleteSink", a.deleteSink)
	s.Handle(dynamoapi.AdminTargetPrefix+"PauseSink", a.enableSink(false))
	s.Handle(dynamoapi.AdminTargetPrefix+"ResumeSink", a.enableSink(true))
	s.Handle(dynamoapi.AdminTargetPrefix+"Search", a.search)
}

func (a *admin) search(ctx context.Context, req *wire.Request) (any, error) {
	var in SearchIn
	if err := strict(req.Body, &in); err != nil {
		return nil, err
	}
	if in.TableName == "" {
		return nil, attr.Invalid("The parameter 'TableName' is required but was not present in the request")
	}
	return a.t.Search(ctx, in)
}

type admin struct{ t *Runtime }

// strict decodes a body, refusing members it does not know.
func strict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return attr.Invalid("invalid request: %s", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return attr.Invalid("invalid request: data after the JSON object")
	}
	return nil
}

type nameIn struct {
	Name string `json:"Name"`
}

func (in *nameIn) check() error {
	if in.Name == "" {
		return attr.Invalid("The parameter 'Name' is required but was not present in the request")
	}
	return nil
}

// shown is what a trigger's description shows: its secret masked.
func shown(info *TriggerInfo) *TriggerInfo {
	if info.Secret != "" {
		c := *info
		c.Secret = "********"
		return &c
	}
	return info
}

func (a *admin) create(ctx context.Context, req *wire.Request) (any, error) {
	var def config.Trigger
	if err := strict(req.Body, &def); err != nil {
		return nil, err
	}
	info, err := a.t.Create(ctx, def)
	if err != nil {
		return nil, err
	}
	return shown(info), nil
}

// update overlays the members given on the stored settings.
func (a *admin) update(ctx context.Context, req *wire.Request) (any, error) {
	var patch map[string]json.RawMessage
	if err := strict(req.Body, &patch); err != nil {
		return nil, err
	}
	var in nameIn
	if raw, ok := patch["Name"]; ok {
		_ = json.Unmarshal(raw, &in.Name)
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	old, err := a.t.get(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	cur, _ := json.Marshal(&old.Trigger) // plain fields
	var merged map[string]json.RawMessage
	_ = json.Unmarshal(cur, &merged)
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(merged, k)
			continue
		}
		merged[k] = v
	}
	b, _ := json.Marshal(merged)
	var def config.Trigger
	if err := strict(b, &def); err != nil {
		return nil, err
	}
	info, err := a.t.Update(ctx, def)
	if err != nil {
		return nil, err
	}
	return shown(info), nil
}

func (a *admin) getOne(ctx context.Context, req *wire.Request) (any, error) {
	return nameOp(func(ctx context.Context, n string) (any, error) {
		info, err := a.t.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		return shown(info), nil
	})(ctx, req)
}

func (a *admin) list(ctx context.Context, req *wire.Request) (any, error) {
	var in struct {
		TableName string `json:"TableName"`
	}
	if err := strict(req.Body, &in); err != nil {
		return nil, err
	}
	all, err := a.t.List(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	out := make([]*TriggerInfo, len(all))
	for i := range all {
		out[i] = shown(&all[i])
	}
	return struct {
		Triggers []*TriggerInfo `json:"Triggers"`
	}{out}, nil
}

func (a *admin) delete(ctx context.Context, req *wire.Request) (any, error) {
	return nameOp(func(ctx context.Context, n string) (any, error) {
		info, err := a.t.Delete(ctx, n)
		if err != nil {
			return nil, err
		}
		return shown(info), nil
	})(ctx, req)
}

func (a *admin) enable(on bool) wire.Op {
	return nameOp(func(ctx context.Context, n string) (any, error) {
		info, err := a.t.SetEnabled(ctx, n, on)
		if err != nil {
			return nil, err
		}
		return shown(info), nil
	})
}

func (a *admin) redrive(ctx context.Context, req *wire.Request) (any, error) {
	return nameOp(func(ctx context.Context, n string) (any, error) { return a.t.Redrive(ctx, n) })(ctx, req)
}

func (a *admin) createSink(ctx context.Context, req *wire.Request) (any, error) {
	var def config.Sink
	if err := strict(req.Body, &def); err != nil {
		return nil, err
	}
	return a.t.CreateSink(ctx, def)
}

// nameOp decodes {"Name"} and calls fn with it.
func nameOp(fn func(ctx context.Context, name string) (any, error)) wire.Op {
	return func(ctx context.Context, req *wire.Request) (any, error) {
		var in nameIn
		if err := strict(req.Body, &in); err != nil {
			return nil, err
		}
		if err := in.check(); err != nil {
			return nil, err
		}
		return fn(ctx, in.Name)
	}
}

func (a *admin) getSink(ctx context.Context, req *wire.Request) (any, error) {
	return nameOp(func(ctx context.Context, n string) (any, error) { return a.t.GetSink(ctx, n) })(ctx, req)
}

func (a *admin) deleteSink(ctx context.Context, req *wire.Request) (any, error) {
	return nameOp(func(ctx context.Context, n string) (any, error) { return a.t.DeleteSink(ctx, n) })(ctx, req)
}

func (a *admin) enableSink(on bool) wire.Op {
	return nameOp(func(ctx context.Context, n string) (any, error) { return a.t.SetSinkEnabled(ctx, n, on) })
}

func (a *admin) listSinks(ctx context.Context, req *wire.Request) (any, error) {
	var in struct {
		TableName string `json:"TableName"`
	}
	if err := strict(req.Body, &in); err != nil {
		return nil, err
	}
	all, err := a.t.ListSinks(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	return struct {
		Sinks []SinkInfo `json:"Sinks"`
	}{all}, nil
}
