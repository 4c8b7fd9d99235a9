package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// templateData is what the injection templates read, under the names istiod gives them.
type templateData struct {
	TypeMeta                 metav1.TypeMeta
	DeploymentMeta           namespacedName
	ObjectMeta               metav1.ObjectMeta
	Spec                     corev1.PodSpec
	ProxyConfig              *proxyConfig
	MeshConfig               *meshConfig
	Values                   map[string]any
	Revision                 string
	ProxyImage               string
	NativeSidecars           bool
	ProxyUID                 *int64
	ProxyGID                 *int64
	InboundTrafficPolicyMode string
	CompliancePolicy         string
}

type namespacedName struct {
	Name      string
	Namespace string
}

// meshConfig is the part of the mesh config the templates read.
type meshConfig struct {
	ProxyListenPort          int32
	ProxyInboundListenPort   int32
	TrustDomain              string
	DefaultConfig            map[string]any
	inboundTrafficPolicyMode string
}

func meshOf(values map[string]any) *meshConfig {
	mesh := &meshConfig{TrustDomain: "cluster.local", inboundTrafficPolicyMode: "passthrough"}
	if port, ok := values["proxyListenPort"].(float64); ok {
		mesh.ProxyListenPort = int32(port)
	}
	if port, ok := values["proxyInboundListenPort"].(float64); ok {
		mesh.ProxyInboundListenPort = int32(port)
	}
	if domain := stringAt(values, "trustDomain"); domain != "" {
		mesh.TrustDomain = domain
	}
	if strings.EqualFold(stringAt(values, "inboundTrafficPolicy", "mode"), "localhost") {
		mesh.inboundTrafficPolicyMode = "localhost"
	}
	mesh.DefaultConfig, _ = values["defaultConfig"].(map[string]any)
	return mesh
}

// proxyConfig is the mesh's default proxy config with the pod's proxy.istio.io/config on top, as the
// templates read it (istiod's ProxyConfig message, the fields the templates use).
type proxyConfig struct {
	ProxyMetadata                   map[string]string
	InterceptionMode                interceptionMode
	HoldApplicationUntilProxyStarts *boolValue
	imageType                       string
	// fields is the whole config, for protoToJSON.
	fields map[string]any
}

type interceptionMode string

func (mode interceptionMode) String() string { return string(mode) }

type boolValue struct{ Value bool }

func (value *boolValue) GetValue() bool { return value != nil && value.Value }

type tracing struct{}

func (*tracing) GetTlsSettings() *tlsSettings { return nil }

type tlsSettings struct{}

func (*tlsSettings) GetCaCertificates() string { return "" }

// GetTracing: no tracing provider is configured by the platform; lightstep's certificates never apply.
func (*proxyConfig) GetTracing() *tracing { return &tracing{} }

func proxyConfigOf(meshDefault map[string]any, annotation string) (*proxyConfig, error) {
	fields := map[string]any{}
	mergeInto(fields, meshDefault)
	if annotation != "" {
		var override map[string]any
		if err := yaml.Unmarshal([]byte(annotation), &override); err != nil {
			return nil, fmt.Errorf("the pod's proxy.istio.io/config annotation is not a proxy config: %w", err)
		}
		mergeInto(fields, override)
	}
	config := &proxyConfig{ProxyMetadata: map[string]string{}, InterceptionMode: "REDIRECT", fields: fields}
	if metadata, ok := fields["proxyMetadata"].(map[string]any); ok {
		for key, value := range metadata {
			config.ProxyMetadata[key] = fmt.Sprint(value)
		}
	}
	if mode := stringAt(fields, "interceptionMode"); mode != "" {
		config.InterceptionMode = interceptionMode(mode)
	}
	if hold, ok := fields["holdApplicationUntilProxyStarts"].(bool); ok {
		config.HoldApplicationUntilProxyStarts = &boolValue{Value: hold}
	}
	config.imageType = stringAt(fields, "image", "imageType")
	return config, nil
}

// mergeInto merges from into to as a protobuf merge does: maps key by key, everything else replaced.
func mergeInto(to, from map[string]any) {
	for key, value := range from {
		next, isMap := value.(map[string]any)
		current, hasMap := to[key].(map[string]any)
		if isMap && hasMap {
			mergeInto(current, next)
			continue
		}
		to[key] = value
	}
}

// Proxy config fields at istiod's defaults, which istiod leaves out of the PROXY_CONFIG it writes.
var proxyConfigDefaults = map[string]any{
	"configPath":               "./etc/istio/proxy",
	"binaryPath":               "/usr/local/bin/envoy",
	"serviceCluster":           "istio-proxy",
	"drainDuration":            "45s",
	"terminationDrainDuration": "5s",
	"discoveryAddress":         "istiod.istio-system.svc:15012",
	"proxyAdminPort":           float64(15000),
	"statusPort":               float64(15020),
	"statNameLength":           float64(189),
	"controlPlaneAuthPolicy":   "MUTUAL_TLS",
}

func templateFunctions() template.FuncMap {
	return template.FuncMap{
		"isset":                  func(m map[string]string, key string) bool { _, ok := m[key]; return ok },
		"annotation":             annotation,
		"excludeInboundPort":     excludeInboundPort,
		"includeInboundPorts":    includeInboundPorts,
		"applicationPorts":       applicationPorts,
		"kubevirtInterfaces":     func(s string) string { return s },
		"valueOrDefault":         valueOrDefault,
		"toJSON":                 toJSON,
		"toJson":                 toJSON,
		"fromJSON":               fromJSON,
		"structToJSON":           structToJSON,
		"protoToJSON":            protoToJSON,
		"toYaml":                 toYaml,
		"omitNil":                omitNil,
		"indent":                 indent,
		"directory":              directory,
		"contains":               func(needle, haystack string) bool { return strings.Contains(haystack, needle) },
		"toLower":                strings.ToLower,
		"appendMultusNetwork":    appendMultusNetwork,
		"env":                    env,
		"formatDuration":         func(d string) string { return d },
		"otelResourceAttributes": otelResourceAttributes,
	}
}

func annotation(meta metav1.ObjectMeta, name string, fallback any) string {
	if value, ok := meta.Annotations[name]; ok {
		return value
	}
	return fmt.Sprint(fallback)
}

// excludeInboundPort adds port (the status port) to a comma-separated list unless it is in it or is 0.
func excludeInboundPort(port any, excluded string) string {
	text := strings.TrimSpace(fmt.Sprint(port))
	if text == "" || text == "0" {
		return excluded
	}
	out := []string{}
	for _, p := range strings.Split(excluded, ",") {
		p = strings.TrimSpace(p)
		if p == text {
			return excluded
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(append(out, text), ",")
}

func containerPorts(containers []corev1.Container, include func(corev1.Container) bool) string {
	out := []string{}
	for _, c := range containers {
		if !include(c) {
			continue
		}
		for _, p := range c.Ports {
			if p.Protocol != corev1.ProtocolUDP && p.Protocol != corev1.ProtocolSCTP {
				out = append(out, fmt.Sprint(p.ContainerPort))
			}
		}
	}
	return strings.Join(out, ",")
}

func includeInboundPorts(containers []corev1.Container) string {
	return containerPorts(containers, func(corev1.Container) bool { return true })
}

func applicationPorts(containers []corev1.Container) string {
	return containerPorts(containers, func(c corev1.Container) bool { return c.Name != proxyContainer })
}

func valueOrDefault(value, fallback any) any {
	if value == nil || value == "" {
		return fallback
	}
	return value
}

func toJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func fromJSON(text string) any {
	var out any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return "{}"
	}
	return out
}

func structToJSON(value any) string {
	if value == nil {
		return "{}"
	}
	out, err := json.Marshal(value)
	if err != nil {
		return "{}"
	}
	return string(out)
}

// protoToJSON writes the proxy config without the fields at istiod's defaults, on one line.
func protoToJSON(config *proxyConfig) string {
	fields := maps.Clone(config.fields)
	for key, fallback := range proxyConfigDefaults {
		if reflect.DeepEqual(fields[key], fallback) {
			delete(fields, key)
		}
	}
	if metadata, ok := fields["proxyMetadata"].(map[string]any); ok && len(metadata) == 0 {
		delete(fields, "proxyMetadata")
	}
	out, _ := json.Marshal(fields)
	return string(out)
}

func toYaml(value any) string {
	out, err := yaml.Marshal(value)
	if err != nil {
		return ""
	}
	return string(out)
}

// omitNil drops the keys whose value is null, at every depth.
func omitNil(value any) any {
	object, ok := value.(map[string]any)
	if !ok {
		return value
	}
	out := map[string]any{}
	for key, v := range object {
		if v != nil {
			out[key] = omitNil(v)
		}
	}
	return out
}

// indent indents every line but the first (istiod's indent, unlike sprig's).
func indent(spaces int, source string) string {
	lines := strings.Split(source, "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.Repeat(" ", spaces) + lines[i]
	}
	return strings.Join(lines, "\n")
}

func appendMultusNetwork(existing, network string) string {
	if existing == "" {
		return network
	}
	if end := strings.LastIndex(existing, "]"); end != -1 {
		var networks []map[string]any
		if err := json.Unmarshal([]byte(existing), &networks); err != nil {
			return existing
		}
		for _, n := range networks {
			if n["name"] == network {
				return existing
			}
		}
		return existing[:end] + fmt.Sprintf(`, {"name": "%s"}`, network) + existing[end:]
	}
	for _, n := range strings.Split(existing, ",") {
		if strings.TrimSpace(n) == network {
			return existing
		}
	}
	return existing + ", " + network
}

func env(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}

// otelResourceAttributes: istiod derives OpenTelemetry resource attributes from the mesh's tracing
// providers; the platform configures none, so there are none to write.
func otelResourceAttributes(*meshConfig, map[string]string, map[string]string, string, []corev1.Container) string {
	return ""
}
