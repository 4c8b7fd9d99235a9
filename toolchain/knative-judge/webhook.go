package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/apis/duck"
	"knative.dev/serving/pkg/apis/config"
	v1 "knative.dev/serving/pkg/apis/serving/v1"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
)

// decodeService reads a Service the way Knative's webhook does: unknown fields are an error.
func decodeService(raw []byte) (*v1.Service, error) {
	var service v1.Service
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&service); err != nil {
		return nil, err
	}
	return &service, nil
}

// clusterConfig reads Knative's config-autoscaler, config-defaults and config-features data (a JSON
// object by ConfigMap name) with Knative's own parsers: a value Knative's config webhook would
// refuse is an error here too.
func clusterConfig(file string) (*config.Config, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var data map[string]map[string]string
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, err
	}
	autoscaler, err := asconfig.NewConfigFromMap(data["config-autoscaler"])
	if err != nil {
		return nil, fmt.Errorf("config-autoscaler: %w", err)
	}
	defaults, err := config.NewDefaultsConfigFromMap(data["config-defaults"])
	if err != nil {
		return nil, fmt.Errorf("config-defaults: %w", err)
	}
	features, err := config.NewFeaturesConfigFromMap(data["config-features"])
	if err != nil {
		return nil, fmt.Errorf("config-features: %w", err)
	}
	return &config.Config{Autoscaler: autoscaler, Defaults: defaults, Features: features}, nil
}

// admissionContext is Knative's context for the request: the cluster's config, within create, or
// within update of the old object.
func admissionContext(cfg *config.Config, request *admissionv1.AdmissionRequest) (context.Context, error) {
	ctx := config.ToContext(context.Background(), cfg)
	if request.Operation != admissionv1.Update {
		return apis.WithinCreate(ctx), nil
	}
	old, err := decodeService(request.OldObject.Raw)
	if err != nil {
		return nil, err
	}
	return apis.WithinUpdate(ctx, old), nil
}

// review answers one AdmissionRequest: defaults (a JSON patch) or validates.
func review(cfg *config.Config, request *admissionv1.AdmissionRequest, defaults bool) *admissionv1.AdmissionResponse {
	deny := func(message string) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{
			UID:     request.UID,
			Allowed: false,
			Result:  &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Message: message},
		}
	}
	service, err := decodeService(request.Object.Raw)
	if err != nil {
		return deny("cannot decode resource: " + err.Error())
	}
	ctx, err := admissionContext(cfg, request)
	if err != nil {
		return deny("cannot decode the old resource: " + err.Error())
	}
	if defaults {
		before := service.DeepCopy()
		service.SetDefaults(ctx)
		patch, err := duck.CreateBytePatch(before, service)
		if err != nil {
			return deny(err.Error())
		}
		patchType := admissionv1.PatchTypeJSONPatch
		return &admissionv1.AdmissionResponse{UID: request.UID, Allowed: true, Patch: patch, PatchType: &patchType}
	}
	if errs := service.Validate(ctx); errs != nil {
		return deny("validation failed: " + errs.Error())
	}
	return &admissionv1.AdmissionResponse{UID: request.UID, Allowed: true}
}

func handler(cfg *config.Config, defaults bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Request == nil {
			http.Error(w, "expected an AdmissionReview", http.StatusBadRequest)
			return
		}
		out := admissionv1.AdmissionReview{TypeMeta: in.TypeMeta, Response: review(cfg, in.Request, defaults)}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(out); err != nil {
			fmt.Printf("knative-judge: %v\n", err)
		}
	}
}

// serve answers as Knative's admission webhooks over TLS on address (a loopback address in tests),
// with the cluster's Knative config from configFile.
func serve(address, cert, key, configFile string) error {
	cfg, err := clusterConfig(configFile)
	if err != nil {
		return fmt.Errorf("Knative refuses the cluster's config: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/defaults", handler(cfg, true))
	mux.Handle("/validate", handler(cfg, false))
	fmt.Printf("knative-judge: serving admission on %s\n", address)
	return http.ListenAndServeTLS(address, cert, key, mux)
}
