// Command istio-injector answers istiod's sidecar-injection webhook on the simulated cluster, where istiod
// cannot run (Istio is not served as a Go module at a release tag). It renders the injection templates of
// the istiod chart the platform installed (the chart's own istio-sidecar-injector ConfigMap: templates and
// values) with Go's text/template and sprig, as istiod does, merges the result into the pod by strategic
// merge patch, and answers the AdmissionReview with the patch. What istiod computes in Go before rendering
// (the proxy config, the proxy image, the pod's owner, the template functions) is written here from istiod's
// behaviour; the README's stand-in table says what of istiod's injector it does not reproduce.
//
//	istio-injector < request.json > review.json
//
// request.json is {"review": AdmissionReview, "config": …, "values": …} with the ConfigMap's two keys, and
// "mesh": the istio ConfigMap's mesh key.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

type request struct {
	Review admissionv1.AdmissionReview `json:"review"`
	Config string                      `json:"config"`
	Values string                      `json:"values"`
	Mesh   string                      `json:"mesh"`
}

// injectorConfig is the ConfigMap's config key.
type injectorConfig struct {
	DefaultTemplates     []string               `json:"defaultTemplates"`
	Aliases              map[string][]string    `json:"aliases"`
	Policy               string                 `json:"policy"`
	AlwaysInjectSelector []metav1.LabelSelector `json:"alwaysInjectSelector"`
	NeverInjectSelector  []metav1.LabelSelector `json:"neverInjectSelector"`
	InjectedAnnotations  map[string]string      `json:"injectedAnnotations"`
	Templates            map[string]string      `json:"templates"`
}

// Namespaces istiod never injects into, whatever their labels.
var ignoredNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}

const proxyContainer = "istio-proxy"

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "istio-injector: reading the request: %v\n", err)
		os.Exit(2)
	}
	response := admissionv1.AdmissionResponse{UID: req.Review.Request.UID, Allowed: true}
	patch, err := inject(req)
	switch {
	case err != nil:
		// istiod refuses the pod when its injection fails (the webhook's failurePolicy is Fail anyway).
		response.Allowed = false
		response.Result = &metav1.Status{Message: "failed to inject the sidecar: " + err.Error()}
	case patch != nil:
		patchType := admissionv1.PatchTypeJSONPatch
		response.Patch, response.PatchType = patch, &patchType
	}
	review := admissionv1.AdmissionReview{TypeMeta: req.Review.TypeMeta, Response: &response}
	if err := json.NewEncoder(os.Stdout).Encode(review); err != nil {
		fmt.Fprintf(os.Stderr, "istio-injector: writing the review: %v\n", err)
		os.Exit(2)
	}
}

// inject returns the JSON patch that injects the pod, or nil when istiod would leave it alone.
func inject(req request) ([]byte, error) {
	var pod corev1.Pod
	if err := json.Unmarshal(req.Review.Request.Object.Raw, &pod); err != nil {
		return nil, fmt.Errorf("reading the pod: %w", err)
	}
	var config injectorConfig
	if err := yaml.Unmarshal([]byte(req.Config), &config); err != nil {
		return nil, fmt.Errorf("reading the injector's config: %w", err)
	}
	var values map[string]any
	if err := json.Unmarshal([]byte(req.Values), &values); err != nil {
		return nil, fmt.Errorf("reading the injector's values: %w", err)
	}
	var meshValues map[string]any
	if err := yaml.Unmarshal([]byte(req.Mesh), &meshValues); err != nil {
		return nil, fmt.Errorf("reading the mesh config: %w", err)
	}
	namespace := req.Review.Request.Namespace
	if required, err := injectionRequired(&pod, namespace, config); err != nil || !required {
		return nil, err
	}
	mesh := meshOf(meshValues)
	proxy, err := proxyConfigOf(mesh.DefaultConfig, pod.Annotations["proxy.istio.io/config"])
	if err != nil {
		return nil, err
	}
	owner, ownerType := ownerOf(&pod, namespace)
	data := templateData{
		TypeMeta:                 ownerType,
		DeploymentMeta:           owner,
		ObjectMeta:               pod.ObjectMeta,
		Spec:                     pod.Spec,
		ProxyConfig:              proxy,
		MeshConfig:               mesh,
		Values:                   values,
		Revision:                 stringAt(values, "revision"),
		ProxyImage:               proxyImage(values, proxy, pod.Annotations),
		NativeSidecars:           stringAt(values, "pilot", "env", "ENABLE_NATIVE_SIDECARS") != "false",
		InboundTrafficPolicyMode: mesh.inboundTrafficPolicyMode,
	}
	merged := req.Review.Request.Object.Raw
	injected := corev1.Pod{}
	for _, name := range templatesOf(&pod, config) {
		source, found := config.Templates[name]
		if !found {
			return nil, fmt.Errorf("requested template %q not found; have %s", name, strings.Join(keys(config.Templates), ", "))
		}
		rendered, err := render(name, source, data)
		if err != nil {
			return nil, err
		}
		overlay, err := yaml.YAMLToJSON(rendered)
		if err != nil {
			return nil, fmt.Errorf("template %s rendered invalid YAML: %w", name, err)
		}
		if merged, err = strategicpatch.StrategicMergePatch(merged, overlay, corev1.Pod{}); err != nil {
			return nil, fmt.Errorf("merging template %s into the pod: %w", name, err)
		}
		var part corev1.Pod
		if err := json.Unmarshal(overlay, &part); err != nil {
			return nil, fmt.Errorf("template %s is not a pod: %w", name, err)
		}
		injected.Spec.InitContainers = append(injected.Spec.InitContainers, part.Spec.InitContainers...)
		injected.Spec.Containers = append(injected.Spec.Containers, part.Spec.Containers...)
		injected.Spec.Volumes = append(injected.Spec.Volumes, part.Spec.Volumes...)
	}
	var result corev1.Pod
	if err := json.Unmarshal(merged, &result); err != nil {
		return nil, fmt.Errorf("reading the merged pod: %w", err)
	}
	annotate(&result, config.InjectedAnnotations, injected, data.Revision)
	reorder(&result.Spec, proxy.HoldApplicationUntilProxyStarts.GetValue())
	return json.Marshal([]map[string]any{
		{"op": "add", "path": "/metadata/labels", "value": result.Labels},
		{"op": "add", "path": "/metadata/annotations", "value": result.Annotations},
		{"op": "add", "path": "/spec", "value": result.Spec},
	})
}

// injectionRequired decides as istiod does for a pod the webhook's selectors sent: host-network pods and
// system namespaces never; the pod's sidecar.istio.io/inject label (or annotation) if it has one; else the
// policy, overridden by the always- and never-inject selectors.
func injectionRequired(pod *corev1.Pod, namespace string, config injectorConfig) (bool, error) {
	if pod.Spec.HostNetwork || slices.Contains(ignoredNamespaces, namespace) {
		return false, nil
	}
	choice, chosen := pod.Labels["sidecar.istio.io/inject"]
	if !chosen {
		choice, chosen = pod.Annotations["sidecar.istio.io/inject"]
	}
	if chosen {
		return slices.Contains([]string{"y", "yes", "true", "on"}, strings.ToLower(choice)), nil
	}
	podLabels := labels.Set(pod.Labels)
	matches := func(selectors []metav1.LabelSelector) (bool, error) {
		for _, selector := range selectors {
			parsed, err := metav1.LabelSelectorAsSelector(&selector)
			if err != nil {
				return false, fmt.Errorf("an inject selector of the injector's config: %w", err)
			}
			if !parsed.Empty() && parsed.Matches(podLabels) {
				return true, nil
			}
		}
		return false, nil
	}
	if config.Policy == "disabled" {
		return matches(config.AlwaysInjectSelector)
	}
	never, err := matches(config.NeverInjectSelector)
	return !never, err
}

// templatesOf names the templates for the pod: its inject.istio.io/templates annotation, else the defaults.
func templatesOf(pod *corev1.Pod, config injectorConfig) []string {
	names := config.DefaultTemplates
	if annotated, found := pod.Annotations["inject.istio.io/templates"]; found {
		names = nil
		for _, name := range strings.Split(annotated, ",") {
			names = append(names, strings.TrimSpace(name))
		}
	}
	var resolved []string
	for _, name := range names {
		if alias, found := config.Aliases[name]; found {
			resolved = append(resolved, alias...)
		} else {
			resolved = append(resolved, name)
		}
	}
	return resolved
}

func render(name, source string, data templateData) ([]byte, error) {
	parsed, err := template.New("inject").Funcs(sprig.TxtFuncMap()).Funcs(templateFunctions()).Parse(source)
	if err != nil {
		return nil, fmt.Errorf("parsing template %s: %w", name, err)
	}
	var out strings.Builder
	if err := parsed.Execute(&out, &data); err != nil {
		return nil, fmt.Errorf("rendering template %s: %w", name, err)
	}
	return []byte(out.String()), nil
}

// annotate adds the config's injected annotations and istiod's record of what it injected.
func annotate(pod *corev1.Pod, injectedAnnotations map[string]string, injected corev1.Pod, revision string) {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	for key, value := range injectedAnnotations {
		pod.Annotations[key] = value
	}
	names := func(containers []corev1.Container) []string {
		out := []string{}
		for _, c := range containers {
			out = append(out, c.Name)
		}
		return out
	}
	volumes := []string{}
	for _, v := range injected.Spec.Volumes {
		volumes = append(volumes, v.Name)
	}
	if revision == "" {
		revision = "default"
	}
	status, _ := json.Marshal(map[string]any{
		"initContainers":   names(injected.Spec.InitContainers),
		"containers":       names(injected.Spec.Containers),
		"volumes":          volumes,
		"imagePullSecrets": nil,
		"revision":         revision,
	})
	pod.Annotations["sidecar.istio.io/status"] = string(status)
}

// reorder puts istiod's init containers first (validation, then a native sidecar) and the proxy last among
// the containers, or first when the application waits for it.
func reorder(spec *corev1.PodSpec, proxyFirst bool) {
	rank := map[string]int{"istio-validation": 0, "istio-init": 0, proxyContainer: 1}
	slices.SortStableFunc(spec.InitContainers, func(a, b corev1.Container) int {
		return rankOf(rank, a.Name) - rankOf(rank, b.Name)
	})
	index := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == proxyContainer })
	if index < 0 {
		return
	}
	proxy := spec.Containers[index]
	rest := slices.Delete(slices.Clone(spec.Containers), index, index+1)
	if proxyFirst {
		spec.Containers = append([]corev1.Container{proxy}, rest...)
	} else {
		spec.Containers = append(rest, proxy)
	}
}

func rankOf(rank map[string]int, name string) int {
	if r, found := rank[name]; found {
		return r
	}
	return 2
}

// ownerOf names the workload a pod belongs to as istiod does: a ReplicaSet's pod by its Deployment.
func ownerOf(pod *corev1.Pod, namespace string) (namespacedName, metav1.TypeMeta) {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		hash := pod.Labels["pod-template-hash"]
		if ref.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(ref.Name, "-"+hash) {
			return namespacedName{Name: strings.TrimSuffix(ref.Name, "-"+hash), Namespace: namespace},
				metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}
		}
		return namespacedName{Name: ref.Name, Namespace: namespace}, metav1.TypeMeta{Kind: ref.Kind, APIVersion: ref.APIVersion}
	}
	name := pod.Name
	if name == "" {
		name = strings.TrimSuffix(pod.GenerateName, "-")
	}
	return namespacedName{Name: name, Namespace: namespace}, metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
}

// proxyImage is hub/image:tag, the tag suffixed with the image type (global.variant, the proxy config's
// image type, or the pod's sidecar.istio.io/proxyImageType annotation, the last that is set).
func proxyImage(values map[string]any, proxy *proxyConfig, annotations map[string]string) string {
	image := stringAt(values, "global", "proxy", "image")
	if image == "" {
		image = "proxyv2"
	}
	imageType := stringAt(values, "global", "variant")
	if proxy.imageType != "" {
		imageType = proxy.imageType
	}
	if annotated, found := annotations["sidecar.istio.io/proxyImageType"]; found {
		imageType = annotated
	}
	tag := stringAt(values, "global", "tag")
	for _, known := range []string{"-distroless", "-debug"} {
		tag = strings.TrimSuffix(tag, known)
	}
	if imageType != "" && imageType != "default" {
		tag += "-" + imageType
	}
	return stringAt(values, "global", "hub") + "/" + image + ":" + tag
}

// stringAt reads a nested value as text ("" when absent).
func stringAt(values map[string]any, keys ...string) string {
	var current any = values
	for _, key := range keys {
		object, ok := current.(map[string]any)
		if !ok {
			return ""
		}
		current = object[key]
	}
	if current == nil {
		return ""
	}
	return fmt.Sprint(current)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for key := range m {
		out = append(out, key)
	}
	slices.Sort(out)
	return out
}

func directory(file string) string {
	dir, _ := path.Split(file)
	return dir
}
