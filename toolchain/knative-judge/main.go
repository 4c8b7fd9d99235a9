// knative-judge answers, with Kubernetes' and Knative Serving's own code, whether a cluster would
// accept a Knative Service: the API server's object metadata validation (name, labels,
// annotations; the template's labels too, which Knative copies onto each Revision), what Knative's
// admission webhook does on CREATE (SetDefaults, then Validate, with the default config-defaults,
// config-features and config-autoscaler), and whether its Route can build every host name (the
// route reconciler's own domain code, default config-network and config-domain). The platform's
// tests use it as the judge of what ServerlessService renders.
//
// Input: one JSON object per line, {"id": "...", "object": <a serving.knative.dev/v1 Service>}.
// Output: one JSON object per line, {"id": "...", "accepted": bool, "errors": ["..."]}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"knative.dev/networking/pkg/apis/networking"
	netv1alpha1 "knative.dev/networking/pkg/apis/networking/v1alpha1"
	netcfg "knative.dev/networking/pkg/config"
	"knative.dev/pkg/apis"
	v1 "knative.dev/serving/pkg/apis/serving/v1"
	routeconfig "knative.dev/serving/pkg/reconciler/route/config"
	"knative.dev/serving/pkg/reconciler/route/domains"
)

type request struct {
	ID     string          `json:"id"`
	Object json.RawMessage `json:"object"`
}

type verdict struct {
	ID       string   `json:"id"`
	Accepted bool     `json:"accepted"`
	Errors   []string `json:"errors"`
}

// routeContext carries the route reconciler's default domain and network config.
func routeContext() (context.Context, error) {
	domain, err := routeconfig.NewDomainFromConfigMap(&corev1.ConfigMap{Data: map[string]string{}})
	if err != nil {
		return nil, err
	}
	network, err := netcfg.NewConfigFromMap(map[string]string{})
	if err != nil {
		return nil, err
	}
	return routeconfig.ToContext(context.Background(), &routeconfig.Config{Domain: domain, Network: network}), nil
}

func judge(routes context.Context, raw json.RawMessage) []string {
	var service v1.Service
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&service); err != nil {
		return []string{"the API server would not decode it: " + err.Error()}
	}
	metadata := apivalidation.ValidateObjectMeta(&service.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	metadata = append(metadata, metav1validation.ValidateLabels(service.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels"))...)
	if len(metadata) > 0 {
		return strings.Split(metadata.ToAggregate().Error(), ", ")
	}
	ctx := apis.WithinCreate(context.Background())
	service.SetDefaults(ctx)
	if err := service.Validate(ctx); err != nil {
		return strings.Split(err.Error(), "\n")
	}

	// The Route gets the Service's name, namespace and labels; each traffic tag is a host of its own.
	visibility := netv1alpha1.IngressVisibilityExternalIP
	if service.Labels[networking.VisibilityLabelKey] == "cluster-local" {
		visibility = netv1alpha1.IngressVisibilityClusterLocal
	}
	names := []string{""}
	for _, target := range service.Spec.Traffic {
		if target.Tag != "" {
			names = append(names, target.Tag)
		}
	}
	byName := map[string]netv1alpha1.IngressVisibility{}
	for _, name := range names {
		byName[name] = visibility
	}
	route := &v1.Route{ObjectMeta: service.ObjectMeta}
	if _, err := domains.GetAllDomainsAndTags(routes, route, names, byName); err != nil {
		return []string{"the Route cannot be built: " + err.Error()}
	}
	return nil
}

func main() {
	routes, err := routeContext()
	if err != nil {
		fmt.Fprintf(os.Stderr, "knative-judge: %v\n", err)
		os.Exit(1)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "knative-judge: a line that is not a request: %v\n", err)
			os.Exit(2)
		}
		errors := judge(routes, req.Object)
		if err := out.Encode(verdict{ID: req.ID, Accepted: len(errors) == 0, Errors: errors}); err != nil {
			fmt.Fprintf(os.Stderr, "knative-judge: %v\n", err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "knative-judge: %v\n", err)
		os.Exit(1)
	}
}
