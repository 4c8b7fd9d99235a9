package main

import (
	"context"
	"encoding/json"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	netcfg "knative.dev/networking/pkg/config"
	"knative.dev/pkg/leaderelection"
	"knative.dev/pkg/logging"
	apisconfig "knative.dev/serving/pkg/apis/config"
	autoscalerconfig "knative.dev/serving/pkg/autoscaler/config"
	"knative.dev/serving/pkg/deployment"
	"knative.dev/serving/pkg/gc"
	o11yconfigmap "knative.dev/serving/pkg/observability/configmap"
	domainconfig "knative.dev/serving/pkg/reconciler/route/config"
)

// parse wraps one of Knative's config constructors: only its error matters here.
func parse[T any](constructor func(*corev1.ConfigMap) (T, error)) func(*corev1.ConfigMap) error {
	return func(cm *corev1.ConfigMap) error {
		_, err := constructor(cm)
		return err
	}
}

// servingConfigParsers are the ConfigMaps Knative Serving's config webhook validates, each with the
// constructor its webhook registers (cmd/webhook/main.go: configmaps.NewAdmissionController).
var servingConfigParsers = map[string]func(*corev1.ConfigMap) error{
	autoscalerconfig.ConfigName:    parse(autoscalerconfig.NewConfigFromConfigMap),
	gc.ConfigName:                  parse(gc.NewConfigFromConfigMapFunc(context.Background())),
	netcfg.ConfigMapName:           parse(netcfg.NewConfigFromConfigMap),
	deployment.ConfigName:          parse(deployment.NewConfigFromConfigMap),
	apisconfig.FeaturesConfigName:  parse(apisconfig.NewFeaturesConfigFromConfigMap),
	o11yconfigmap.Name():           parse(o11yconfigmap.Parse),
	logging.ConfigMapName():        parse(logging.NewConfigFromConfigMap),
	leaderelection.ConfigMapName(): parse(leaderelection.NewConfigFromConfigMap),
	domainconfig.DomainConfigName:  parse(domainconfig.NewDomainFromConfigMap),
	apisconfig.DefaultsConfigName:  parse(apisconfig.NewDefaultsConfigFromConfigMap),
}

// reviewConfigMap answers as Knative Serving's config webhook: a ConfigMap it knows is parsed with
// Knative's constructor and refused with the constructor's error; any other ConfigMap is allowed.
func reviewConfigMap(request *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	allowed := &admissionv1.AdmissionResponse{UID: request.UID, Allowed: true}
	var cm corev1.ConfigMap
	if err := json.Unmarshal(request.Object.Raw, &cm); err != nil {
		return &admissionv1.AdmissionResponse{
			UID:    request.UID,
			Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Message: "cannot decode the ConfigMap: " + err.Error()},
		}
	}
	parser, known := servingConfigParsers[cm.Name]
	if !known {
		return allowed
	}
	if err := parser(&cm); err != nil {
		return &admissionv1.AdmissionResponse{
			UID:    request.UID,
			Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Message: "validation failed: " + err.Error()},
		}
	}
	return allowed
}

func configHandler(w http.ResponseWriter, r *http.Request) {
	var in admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Request == nil {
		http.Error(w, "expected an AdmissionReview", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{TypeMeta: in.TypeMeta, Response: reviewConfigMap(in.Request)})
}
