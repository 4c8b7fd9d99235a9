// Command prometheus-targets shows what a Prometheus would scrape, by Prometheus's own code: it loads a
// Prometheus configuration (the one the Prometheus Operator generates), runs each scrape job's Kubernetes
// service discovery against a cluster (through the kubeconfig given, where Prometheus would use its pod's
// service account) and applies the job's relabelling as Prometheus's scrape manager does. Each time a
// discovered group changes it prints one JSON line, until it is stopped:
//
//	{"job": "serviceMonitor/monitoring/istiod/0", "source": "endpoints/istio-system/istiod", "targets": [{"url": "http://10.244.0.4:15014/metrics", "labels": {"namespace": "istio-system", …}}], "dropped": 0}
//
// A target is the URL Prometheus would scrape and the labels its series would carry; a target the
// relabelling drops counts in `dropped`.
//
//	prometheus-targets --config prometheus.yaml --kubeconfig kubeconfig
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"

	client "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/scrape"
)

// group is one printed line: a discovered group of a job, after relabelling.
type group struct {
	Job     string   `json:"job"`
	Source  string   `json:"source"`
	Targets []target `json:"targets"`
	Dropped int      `json:"dropped"`
	Errors  []string `json:"errors,omitempty"`
}

type target struct {
	URL    string            `json:"url"`
	Labels map[string]string `json:"labels"`
}

func main() {
	configFile := flag.String("config", "", "the Prometheus configuration file")
	kubeconfig := flag.String("kubeconfig", "", "the cluster's kubeconfig, for every job's Kubernetes discovery")
	flag.Parse()
	if *configFile == "" || *kubeconfig == "" {
		fail("usage: prometheus-targets --config FILE --kubeconfig FILE")
	}
	logger := promslog.New(&promslog.Config{Writer: os.Stderr})
	cfg, err := config.LoadFile(*configFile, false, logger)
	if err != nil {
		fail("%s: %v", *configFile, err)
	}
	var printing sync.Mutex
	out := json.NewEncoder(os.Stdout)
	for _, job := range cfg.ScrapeConfigs {
		for _, sd := range job.ServiceDiscoveryConfigs {
			sdConfig, ok := sd.(*kubernetes.SDConfig)
			if !ok {
				fail("job %s: only Kubernetes service discovery runs here, not %s", job.JobName, sd.Name())
			}
			groups := discover(logger, *sdConfig, *kubeconfig, job.JobName)
			go func() {
				lb := labels.NewBuilder(labels.EmptyLabels())
				for update := range groups {
					for _, tg := range update {
						line := relabel(tg, job, lb)
						printing.Lock()
						_ = out.Encode(line)
						printing.Unlock()
					}
				}
			}()
		}
	}
	select {}
}

// discover runs one Kubernetes service discovery against the cluster of `kubeconfig`.
func discover(logger *slog.Logger, sdConfig kubernetes.SDConfig, kubeconfig, job string) <-chan []*targetgroup.Group {
	sdConfig.KubeConfig = kubeconfig
	registry := client.NewRegistry()
	metrics := sdConfig.NewDiscovererMetrics(registry, discovery.NewRefreshMetrics(registry))
	discoverer, err := kubernetes.New(logger.With("job", job), metrics, &sdConfig)
	if err != nil {
		fail("job %s: %v", job, err)
	}
	groups := make(chan []*targetgroup.Group)
	go discoverer.Run(context.Background(), groups)
	return groups
}

// relabel turns a discovered group into the job's targets, as the scrape manager does.
func relabel(tg *targetgroup.Group, job *config.ScrapeConfig, lb *labels.Builder) group {
	line := group{Job: job.JobName, Source: tg.Source, Targets: []target{}}
	targets, failures := scrape.TargetsFromGroup(tg, job, nil, lb)
	for _, scraped := range targets {
		if scraped.Labels(lb).IsEmpty() {
			line.Dropped++
			continue
		}
		series := map[string]string{}
		scraped.LabelsRange(func(l labels.Label) { series[l.Name] = l.Value })
		line.Targets = append(line.Targets, target{URL: scraped.URL().String(), Labels: series})
	}
	for _, failure := range failures {
		line.Errors = append(line.Errors, failure.Error())
	}
	return line
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "prometheus-targets: "+format+"\n", args...)
	os.Exit(1)
}
