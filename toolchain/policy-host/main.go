// pulumi-language-nodejs, reduced to the one thing the local toolchain needs from a Node language
// host: running a Node policy pack for `pulumi preview --policy-pack`. The Pulumi CLI (3.274)
// starts a policy pack through its language host's RunPlugin; the real Node host is not served
// by the Go module proxy. Pulumi programs themselves do not come here: the engine driver runs
// them as Automation API inline programs, which need no language host.
//
// A policy pack learns its stack from the engine's ConfigureStack call. The SDK's PolicyProxy
// receives that call, so the pack starts with PULUMI_NODEJS_STACK and friends set, as under the
// real host, and then forwards the engine's calls to the pack.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

const version = "3.274.1-serverless-platform"

type policyHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func (policyHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (policyHost) Run(context.Context, *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	return nil, status.Error(codes.Unimplemented,
		"this toolchain's Node host only runs policy packs: run programs with `npm run up|preview -- <env>` "+
			"(an Automation API inline program), or install the Pulumi CLI with its own Node language host")
}

// streamWriter sends what a stream of the pack's output receives to the engine.
type streamWriter struct {
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	response := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: chunk}}
	if w.stderr {
		response.Output = &pulumirpc.RunPluginResponse_Stderr{Stderr: chunk}
	}
	if err := w.server.Send(response); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (policyHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.Kind != "analyzer" {
		return status.Errorf(codes.Unimplemented, "this toolchain's Node host runs policy packs only, not %q plugins", req.Kind)
	}
	packDir := req.GetInfo().GetProgramDirectory()
	runner, err := runPolicyPackPath(packDir)
	if err != nil {
		return err
	}
	ctx := server.Context()
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, streamWriter{server: server})
	if err != nil {
		return err
	}
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return err
	}
	config, err := json.Marshal(stack.Config)
	if err != nil {
		return err
	}
	secretKeys, err := json.Marshal(stack.ConfigSecretKeys)
	if err != nil {
		return err
	}

	cmd := exec.CommandContext(ctx, "node", append(append([]string{runner}, req.Args...), packDir)...)
	cmd.Dir = packDir
	cmd.Env = append(append(os.Environ(), req.Env...),
		"PULUMI_NODEJS_STACK="+stack.Stack,
		"PULUMI_NODEJS_PROJECT="+stack.Project,
		"PULUMI_NODEJS_ORGANIZATION="+stack.Organization,
		fmt.Sprintf("PULUMI_NODEJS_DRY_RUN=%t", stack.DryRun),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	)
	if typescript, set := req.GetInfo().GetOptions().AsMap()["typescript"]; set && typescript == false {
		// run-policy-pack always registers its vendored ts-node; a pack that says `typescript: false`
		// is for Node's own type stripping to load, so ts-node is told to leave every file alone.
		cmd.Env = append(cmd.Env, "TS_NODE_IGNORE=.")
	}
	cmd.Stdout = packStdout
	cmd.Stderr = streamWriter{server: server, stderr: true}
	if err := cmd.Start(); err != nil {
		proxy.Abort(err)
		return fmt.Errorf("starting node for the policy pack in %s: %w", packDir, err)
	}
	attachErr := proxy.Attach(ctx, cmd)
	var exit *exec.ExitError
	if errors.As(attachErr, &exit) {
		return server.Send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exit.ExitCode())},
		})
	}
	return attachErr
}

// runPolicyPackPath finds the policy runner of the @pulumi/pulumi that the pack itself resolves.
func runPolicyPackPath(packDir string) (string, error) {
	out, err := exec.Command("node", "-p",
		`require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [process.argv[1]] })`,
		filepath.Clean(packDir)).Output()
	if err != nil {
		return "", fmt.Errorf("the policy pack in %s cannot resolve @pulumi/pulumi (run npm ci): %w", packDir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func main() {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, policyHost{})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of output.
	fmt.Println(handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}
