// The Kubernetes provider's command, as upstream's release build makes it: build.sh writes the two
// embedded files (the versioned schema and the terraform mapping) from the provider module beside
// this file before building. The proxy serves the provider module, not its generated files.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
