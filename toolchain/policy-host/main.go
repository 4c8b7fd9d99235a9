// pulumi-language-nodejs, reduced to what the local toolchain needs from a Node language host:
// running Node plugins through RunPlugin, which the Pulumi CLI (3.274) uses to start a Node policy
// pack (`pulumi preview --policy-pack`) and a Node component package (a `packages:` entry of a
// project, such as this repository's provider/). The real Node host is not served by the Go module
// proxy. Pulumi programs themselves do not come here: the engine driver runs them as Automation API
// inline programs, which need no language host.
//
// Both kinds run under @pulumi/pulumi's own runners, as under the real host. A policy pack learns its
// stack from the engine's ConfigureStack call: the SDK's PolicyProxy receives that call, so the pack
// starts with PULUMI_NODEJS_STACK and friends set, and then forwards the engine's calls to the pack.
// A component package is served by run-plugin, which hosts the components its entry point exports.
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
		"this toolchain's Node host only runs plugins (policy packs, component packages): run programs with `npm run up|preview -- <env>` "+
			"(an Automation API inline program), or install the Pulumi CLI with its own Node language host")
}

// InstallDependencies installs nothing: a plugin here is this repository's (its policy pack, its component
// package), whose dependencies are the repository's, installed by `npm ci`. It checks that they resolve, so
// that `pulumi package get-schema|gen-sdk ./provider` fail with what to do rather than later.
func (policyHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, _ grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	_, err := sdkCommand(req.GetDirectory(), "run-plugin")
	return err
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
	switch req.Kind {
	case "analyzer":
		return runPolicyPack(req, server)
	case "resource":
		return runComponentPackage(req, server)
	default:
		return status.Errorf(codes.Unimplemented,
			"this toolchain's Node host runs policy packs and component packages, not %q plugins", req.Kind)
	}
}

// typeStrippedOnly tells ts-node, which @pulumi/pulumi's runners always register, to leave every file
// alone when the plugin says `typescript: false`: its TypeScript is for Node's own type stripping.
func typeStrippedOnly(req *pulumirpc.RunPluginRequest) []string {
	if typescript, set := req.GetInfo().GetOptions().AsMap()["typescript"]; set && typescript == false {
		return []string{"TS_NODE_IGNORE=."}
	}
	return nil
}

// exitCode reports how node ended to the engine, or the error that kept it from running.
func exitCode(server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse], err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return server.Send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exit.ExitCode())},
		})
	}
	return err
}

func runComponentPackage(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	dir := req.GetInfo().GetProgramDirectory()
	runner, err := sdkCommand(dir, "run-plugin")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(server.Context(), "node", append([]string{runner, dir}, req.Args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), req.Env...), typeStrippedOnly(req)...)
	// The provider's first line of output is its port, which the engine reads.
	cmd.Stdout = streamWriter{server: server}
	cmd.Stderr = streamWriter{server: server, stderr: true}
	return exitCode(server, cmd.Run())
}

func runPolicyPack(req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	packDir := req.GetInfo().GetProgramDirectory()
	runner, err := sdkCommand(packDir, "run-policy-pack")
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
	cmd.Env = append(cmd.Env, typeStrippedOnly(req)...)
	cmd.Stdout = packStdout
	cmd.Stderr = streamWriter{server: server, stderr: true}
	if err := cmd.Start(); err != nil {
		proxy.Abort(err)
		return fmt.Errorf("starting node for the policy pack in %s: %w", packDir, err)
	}
	return exitCode(server, proxy.Attach(ctx, cmd))
}

// sdkCommand finds a runner (cmd/<name>) of the @pulumi/pulumi that the plugin itself resolves.
func sdkCommand(pluginDir, name string) (string, error) {
	out, err := exec.Command("node", "-p",
		`require.resolve("@pulumi/pulumi/cmd/"+process.argv[2], { paths: [process.argv[1]] })`,
		filepath.Clean(pluginDir), name).Output()
	if err != nil {
		return "", fmt.Errorf("the plugin in %s cannot resolve @pulumi/pulumi (run npm ci): %w", pluginDir, err)
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
