package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// The handshake terraform and terraform-plugin-go agree on for protocol 6.
var handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
}

const getProviderSchema = "/tfplugin6.Provider/GetProviderSchema"

// startupTime launches the provider the way terraform does (go-plugin,
// protocol 6, automatic mTLS unless mTLS is false) and times it from exec to
// the answer of GetProviderSchema, the first call terraform makes. It
// returns the median and the slowest of reps launches.
func startupTime(binary string, reps int, mTLS bool) (median, slowest time.Duration, err error) {
	times := make([]time.Duration, 0, reps)
	for range reps {
		took, err := launchOnce(binary, mTLS)
		if err != nil {
			return 0, 0, err
		}
		times = append(times, took)
	}
	slices.Sort(times)
	return times[len(times)/2], times[len(times)-1], nil
}

func launchOnce(binary string, mTLS bool) (time.Duration, error) {
	start := time.Now()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": rawGRPCPlugin{}}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              exec.Command(binary),
		AutoMTLS:         mTLS,
		Managed:          false,
		Logger:           hclog.NewNullLogger(),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		return 0, fmt.Errorf("starting the provider: %w", err)
	}
	raw, err := rpc.Dispense("provider")
	if err != nil {
		return 0, err
	}
	conn, ok := raw.(*grpc.ClientConn)
	if !ok {
		return 0, fmt.Errorf("the plugin handed out %T, not a gRPC connection", raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema rawMessage
	if err := conn.Invoke(ctx, getProviderSchema, &rawMessage{}, &schema, grpc.ForceCodec(rawCodec{})); err != nil {
		return 0, fmt.Errorf("GetProviderSchema: %w", err)
	}
	took := time.Since(start)
	if !strings.Contains(string(schema), "dataflow_flow_trigger") {
		return 0, errors.New("GetProviderSchema: the answer does not describe dataflow_flow_trigger")
	}
	return took, nil
}

// rawGRPCPlugin hands out the plugin's gRPC connection itself, so the
// harness needs no generated protocol stubs.
type rawGRPCPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (rawGRPCPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the harness is only a client")
}

func (rawGRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return conn, nil
}

// rawMessage is a protobuf message kept as its wire bytes; the empty
// message encodes as no bytes, which is all GetProviderSchema's request is.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("rawCodec cannot marshal %T", v)
	}
	return *m, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("rawCodec cannot unmarshal into %T", v)
	}
	*m = append(rawMessage(nil), data...)
	return nil
}
